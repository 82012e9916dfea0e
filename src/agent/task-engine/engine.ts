import type { AcsTask } from '../../model/acs.js';
import type { EngineDeps } from './deps.js';
import { TaskManager } from './task-manager.js';
import { newTaskState, type TaskState } from './task-state.js';

/**
 * The agent's task engine: one TaskManager per task, created when the control plane first sends the task
 * and dropped after its cleanup. Payloads only update desired status; each manager does the rest.
 */
export class TaskEngine {
  private readonly managers = new Map<string, TaskManager>();

  constructor(private readonly deps: EngineDeps) {}

  /** Tasks sent by the control plane (a PayloadMessage). */
  handlePayload(tasks: readonly AcsTask[]): void {
    for (const spec of tasks) {
      const existing = this.managers.get(spec.arn);
      if (existing) {
        existing.update(spec);
        continue;
      }
      const state = newTaskState(spec);
      if (spec.desiredStatus === 'STOPPED') state.stopReason = spec.stoppedReason ?? 'Task stopped by the control plane';
      const manager = this.add(state);
      void this.deps.persist(state).then(() => manager.poke());
    }
  }

  /**
   * Adopt the tasks saved before a restart: re-reserve their host ports, find out what became of their
   * containers while the agent was away (exits are reported, running ones watched, none restarted), and
   * carry on. Every task's current state is reported again.
   */
  async recover(saved: readonly TaskState[]): Promise<void> {
    for (const state of saved) {
      for (const c of state.containers) {
        if (c.runtimeId && c.known !== 'STOPPED' && c.networkBindings.length && state.spec.networkMode === 'bridge') {
          try {
            this.deps.ports.reserve(
              c.runtimeId,
              c.networkBindings.map((b) => ({ port: b.hostPort, protocol: b.protocol })),
            );
          } catch (err) {
            this.deps.log.error({ err, task: state.arn, container: c.name }, 'could not re-reserve the host ports of a recovered container');
          }
        }
      }
      const manager = this.add(state);
      for (const c of state.containers) {
        if (!c.runtimeId || (c.known !== 'RUNNING' && c.known !== 'CREATED')) continue;
        manager.followLogs(c);
        const current = await this.deps.runtime.state(c.runtimeId);
        if (!current) manager.lost(c.name);
        else if (current.status === 'stopped') manager.exited(c.name, current.exit ?? { exitCode: 137, oomKilled: false, exitedAt: this.deps.now() });
        else if (current.status === 'running') {
          manager.watchExit(c);
          manager.monitorHealth(c);
        }
      }
      if (state.known === 'STOPPED') manager.scheduleCleanup();
      this.deps.report(state);
      manager.poke();
    }
    await this.detachOrphans(saved);
  }

  /**
   * Network attachments no saved task holds (a crash between attach and saving the task, or state lost)
   * would keep their namespace and address forever: give them back.
   */
  private async detachOrphans(saved: readonly TaskState[]): Promise<void> {
    const held = new Set(saved.flatMap((t) => [...t.containers.map((c) => c.networkId), t.taskNetwork?.id]).filter((id) => id !== undefined));
    for (const id of await this.deps.network.list()) {
      if (held.has(id)) continue;
      this.deps.log.info({ attachment: id }, 'detaching a network attachment no task holds');
      await this.deps.network.detach(id).catch((err: unknown) => this.deps.log.warn({ err, attachment: id }, 'detaching an orphaned attachment failed'));
    }
  }

  /** Say every awsvpc task's address again (after the session reconnects). */
  reportAttachments(): void {
    for (const m of this.managers.values()) m.reportAttachment();
  }

  tasks(): TaskState[] {
    return [...this.managers.values()].map((m) => m.state);
  }

  get(arn: string): TaskState | undefined {
    return this.managers.get(arn)?.state;
  }

  /** Stop acting; containers keep running (they are re-adopted on the next start). */
  shutdown(): void {
    for (const m of this.managers.values()) m.dispose();
  }

  private add(state: TaskState): TaskManager {
    const manager = new TaskManager(state, this.deps, (arn) => this.managers.delete(arn));
    this.managers.set(state.arn, manager);
    return manager;
  }
}
