import { background } from '../../process/background.js';
import { ContainerNotFoundError } from '../../runtime/errors.js';
import type { EngineDeps } from './deps.js';
import { HealthMonitor } from './health.js';
import type { TaskEvent } from './task-events.js';
import type { ContainerState, TaskState } from './task-state.js';
import { defOf } from './transitions.js';
import type { Timers } from './timers.js';

/**
 * What a task manager follows of its running containers: their exits, health-check results and output.
 * It changes nothing itself: exits and health results come back to the manager as events.
 */
export class ContainerWatch {
  /** Health monitors of running containers that have a health check, by container name. */
  private readonly health = new Map<string, HealthMonitor>();

  constructor(
    private readonly deps: EngineDeps,
    private readonly state: TaskState,
    private readonly send: (event: TaskEvent) => Promise<void>,
    private readonly timers: Timers,
  ) {}

  /** `c` runs (just started, or found running after a restart): its exit and health become events. */
  follow(c: ContainerState): void {
    this.watchExit(c);
    this.monitorHealth(c);
  }

  /** Hand the container's output to the log shipper (after start, and after recovery). */
  followLogs(c: ContainerState): void {
    if (!this.deps.logs || !c.runtimeId || !c.logPath) return;
    const def = defOf(this.state, c.name);
    this.deps.logs.follow({
      runtimeId: c.runtimeId,
      logPath: c.logPath,
      taskArn: this.state.arn,
      family: this.state.spec.family,
      containerName: c.name,
      cluster: this.deps.settings.cluster,
      ...(def.logConfiguration ? { logConfiguration: def.logConfiguration } : {}),
    });
  }

  stopHealth(name: string): void {
    this.health.get(name)?.stop();
    this.health.delete(name);
  }

  stopAll(): void {
    for (const name of [...this.health.keys()]) this.stopHealth(name);
  }

  private watchExit(c: ContainerState): void {
    const id = c.runtimeId!;
    const name = c.name;
    const lost = { exitCode: 137, oomKilled: false };
    void background(
      this.deps.log,
      'waiting for a container',
      async () => {
        try {
          const exit = await this.deps.runtime.wait(id);
          await this.send({ kind: 'exited', container: name, exit }).catch(() => {});
        } catch (err) {
          if (!(err instanceof ContainerNotFoundError)) throw err;
          await this.send({ kind: 'exited', container: name, exit: { ...lost, exitedAt: this.deps.now() }, lost: true }).catch(() => {});
        }
      },
      { task: this.state.arn, container: name },
    );
  }

  private monitorHealth(c: ContainerState): void {
    const check = defOf(this.state, c.name).healthCheck;
    if (!check || !c.runtimeId || this.health.has(c.name)) return;
    c.healthStatus ??= 'UNKNOWN';
    const name = c.name;
    const monitor = new HealthMonitor(
      this.deps.runtime,
      c.runtimeId,
      check,
      c.startedAt ?? this.deps.now(),
      (status) => void this.send({ kind: 'health', container: name, status }).catch(() => {}),
      this.deps.now,
      this.timers,
    );
    this.health.set(c.name, monitor);
    monitor.start(c.healthStatus);
  }
}
