import type { EngineDeps } from './deps.js';
import { applyEvent } from './task-events.js';
import type { ContainerState, TaskState } from './task-state.js';

/** What recovery asks of the task's manager. */
export interface RecoveryHooks {
  /** `c` is running: mark it RUNNING and follow its exit and health. */
  running(c: ContainerState): void;
  followLogs(c: ContainerState): void;
}

/**
 * After an agent restart, run by the task's manager on its `recovered` event: take back the host ports,
 * and ask the runtime what became of each container that was made. Exits that happened meanwhile are
 * applied; running containers are followed again; a container started just before the crash (saved
 * CREATED, found running) is RUNNING, never started twice; one found `created` stays CREATED and is started
 * by the plan. The manager then saves and reports the task, changed or not, so the control plane hears of
 * it again.
 */
export async function recoverTask(deps: EngineDeps, s: TaskState, hooks: RecoveryHooks): Promise<void> {
  for (const c of s.containers) {
    if (c.runtimeId && c.known !== 'STOPPED' && c.networkBindings.length && s.spec.networkMode === 'bridge') {
      try {
        deps.ports.reserve(c.runtimeId, c.networkBindings.map((b) => ({ port: b.hostPort, protocol: b.protocol })));
      } catch (err) {
        deps.log.error({ err, task: s.arn, container: c.name }, 'could not re-reserve the host ports of a recovered container');
      }
    }
  }
  const lost = () => ({ exitCode: 137, oomKilled: false, exitedAt: deps.now() });
  await Promise.all(
    s.containers.map(async (c) => {
      if (!c.runtimeId || (c.known !== 'RUNNING' && c.known !== 'CREATED')) return;
      // Whatever became of it, its output not yet shipped is shipped (from where the shipper left off).
      hooks.followLogs(c);
      const current = await deps.runtime.state(c.runtimeId).catch((err: unknown) => {
        deps.log.error({ err, task: s.arn, container: c.name }, 'could not ask the runtime about a recovered container');
        return 'unknown' as const;
      });
      if (current === 'unknown') {
        // Left as saved; a running one is followed again, so its exit (or the wait's failure) still comes.
        if (c.known === 'RUNNING') hooks.running(c);
      } else if (!current) {
        applyEvent(s, { kind: 'exited', container: c.name, exit: lost(), lost: true });
      } else if (current.status === 'stopped') {
        applyEvent(s, { kind: 'exited', container: c.name, exit: current.exit ?? lost() });
      } else if (current.status === 'running') {
        hooks.running(c);
      }
    }),
  );
}
