import { randomBytes } from 'node:crypto';
import type { AcsContainer, AcsTask } from '../../model/acs.js';
import type { ExitStatus } from '../../runtime/runtime.js';
import type { LocalImage } from '../../image/image-service.js';
import { attachTaskNetwork, createContainer } from './container-create.js';
import { pullImage } from './image-pull.js';
import { releaseTaskNetworks, removeTaskRemains } from './task-teardown.js';
import { dependencyVerdict, neededByRunningDependent } from './dependencies.js';
import { HealthMonitor } from './health.js';
import { timed, type EngineDeps } from './deps.js';
import { deriveTaskStatus, taskIdOf, type ContainerState, type TaskState } from './task-state.js';

/**
 * The one owner of a task on this host (ECS agent style). Events — a new desired status from the control
 * plane, a container's exit, a timer — only record facts and `poke()`; `reconcile()` then compares desired
 * with known status and takes the next steps, one reconcile at a time, persisting state after each step.
 *
 *   desired RUNNING:  pull images → [awsvpc: attach the task's network] → per container, in dependency
 *                     order: attach its network, create, start           (NONE → PULLED → CREATED → RUNNING)
 *   desired STOPPED:  SIGTERM → (stopTimeout) → SIGKILL; never-started containers go straight to STOPPED
 *   all STOPPED:      detach networks, release ports, report, and after the cleanup wait remove everything
 *                     (containers, root filesystems, /etc files, task-scoped volumes)
 */
export class TaskManager {
  private running?: Promise<void>;
  private again = false;
  private readonly images = new Map<string, LocalImage>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private cleanupTimer?: NodeJS.Timeout;
  private disposed = false;
  /** Health monitors of running containers that have a health check, by container name. */
  private readonly health = new Map<string, HealthMonitor>();
  /** Deadlines (SIGKILL due, startTimeout) armed in this process, by name. */
  private readonly armed = new Set<string>();
  /** When this manager was made (monotonic ms), for the start-latency debug log. */
  private readonly receivedAt = performance.now();
  /** An event changed the state since it was last saved and reported. */
  private changed = false;

  constructor(
    readonly state: TaskState,
    private readonly deps: EngineDeps,
    private readonly onGone: (arn: string) => void,
  ) {}

  /** The control plane sent the task again; desired status only moves from RUNNING to STOPPED. */
  update(spec: AcsTask): void {
    if (spec.desiredStatus === 'STOPPED' && this.state.desired !== 'STOPPED') {
      this.state.desired = 'STOPPED';
      this.state.stopReason ??= spec.stoppedReason ?? 'Task stopped by the control plane';
      this.changed = true;
    }
    this.poke();
  }

  /** A container's process ended (observed live or found on recovery). */
  exited(name: string, exit: ExitStatus): void {
    const c = this.container(name);
    this.stopHealth(name);
    if (c.known === 'STOPPED') return;
    c.known = 'STOPPED';
    c.exitCode = exit.exitCode;
    c.finishedAt = exit.exitedAt;
    if (exit.oomKilled) c.reason = 'OutOfMemoryError: Container killed due to memory usage';
    if (c.essential && this.state.desired === 'RUNNING') {
      this.state.desired = 'STOPPED';
      this.state.stopReason ??= 'Essential container in task exited';
    }
    this.changed = true;
    this.poke();
  }

  /** Recovery: a container the runtime no longer knows. */
  lost(name: string): void {
    const c = this.container(name);
    if (c.known === 'STOPPED') return;
    c.reason ??= 'The container was lost while the agent was not running';
    this.exited(name, { exitCode: 137, oomKilled: false, exitedAt: this.deps.now() });
  }

  /** Start waiting for a running container's exit (after start, and after recovery). */
  watchExit(c: ContainerState): void {
    if (!c.runtimeId) return;
    this.deps.runtime
      .wait(c.runtimeId)
      .then((exit) => this.exited(c.name, exit))
      .catch((err: unknown) => this.deps.log.error({ err, container: c.name, task: this.state.arn }, 'waiting for a container failed'));
  }

  poke(): void {
    if (this.disposed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reconcile()
      .catch((err: unknown) => this.deps.log.error({ err, task: this.state.arn }, 'task reconcile failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Stop acting (agent shutdown); containers keep running under their monitors. */
  dispose(): void {
    this.disposed = true;
    for (const name of [...this.health.keys()]) this.stopHealth(name);
    for (const t of this.timers) clearTimeout(t);
    clearTimeout(this.cleanupTimer);
  }

  private async reconcile(): Promise<void> {
    const s = this.state;
    if (s.desired === 'RUNNING') await this.progressTowardsRunning();
    if (s.desired === 'STOPPED') await this.progressTowardsStopped();
    const known = deriveTaskStatus(s);
    if (known === 'STOPPED' && s.known !== 'STOPPED') await this.finish();
    else if (known !== s.known || this.changed) {
      s.known = known;
      await this.commit();
    }
  }

  private async progressTowardsRunning(): Promise<void> {
    const s = this.state;
    if (s.containers.some((c) => c.known === 'NONE')) {
      if (!(await this.pullAll())) return;
    }
    if (s.spec.networkMode === 'awsvpc' && !s.taskNetwork?.netnsPath) {
      if (!(await this.attachTaskNetwork())) return;
    }
    // Start what may start; a start can unblock another container (START), so go round until nothing moves.
    for (let progressed = true; progressed && s.desired === 'RUNNING'; ) {
      progressed = false;
      for (const c of s.containers) {
        if (s.desired !== 'RUNNING') return;
        if (c.known !== 'PULLED' && c.known !== 'CREATED') continue;
        if (!(await this.dependenciesMet(c))) continue;
        if (c.known === 'PULLED' && !(await this.step(c, 'CannotCreateContainerError', () => this.create(c)))) return;
        if (c.known === 'CREATED' && !(await this.step(c, 'CannotStartContainerError', () => this.start(c)))) return;
        progressed = true;
      }
    }
  }

  /** Whether `c`'s dependsOn conditions hold; fails the task when they never can or startTimeout passed. */
  private async dependenciesMet(c: ContainerState): Promise<boolean> {
    const def = this.def(c.name);
    const verdict = dependencyVerdict(def, this.state.containers);
    if (verdict.kind === 'ready') return true;
    if (verdict.kind === 'failed') {
      this.fail(c, verdict.reason);
      await this.commit();
      return false;
    }
    const now = this.deps.now();
    const timeoutMs = def.startTimeout !== undefined ? def.startTimeout * 1000 : this.deps.settings.defaultStartTimeoutMs;
    if (c.waitingSince === undefined) {
      c.waitingSince = now;
      await this.commit();
    }
    const due = c.waitingSince + timeoutMs - now;
    if (due <= 0) {
      this.fail(c, `DependencyTimeoutError: container '${c.name}' waited ${Math.round(timeoutMs / 1000)}s for ${verdict.on}`);
      await this.commit();
    } else this.armOnce(`start:${c.name}`, due);
    return false;
  }

  /** Run one container step; on failure record ECS's reason and stop the task. */
  private async step(c: ContainerState, reasonName: string, action: () => Promise<void>): Promise<boolean> {
    try {
      await action();
      await this.commit();
      return true;
    } catch (err) {
      this.deps.log.warn({ err, task: this.state.arn, container: c.name }, `${reasonName}`);
      this.fail(c, `${reasonName}: ${(err as Error).message}`);
      await this.commit();
      return false;
    }
  }

  private fail(c: ContainerState, reason: string): void {
    c.reason ??= reason;
    this.failTask(reason);
  }

  private failTask(reason: string): void {
    this.state.desired = 'STOPPED';
    this.state.stopReason ??= reason;
  }

  private async pullAll(): Promise<boolean> {
    const s = this.state;
    if (s.pullStartedAt === undefined) {
      s.pullStartedAt = this.deps.now();
      s.known = 'PENDING';
      await this.commit();
    }
    const pending = s.containers.filter((c) => c.known === 'NONE');
    const results = await Promise.allSettled(pending.map((c) => this.pull(c)));
    s.pullStoppedAt = this.deps.now();
    let ok = true;
    results.forEach((r, i) => {
      const c = pending[i]!;
      if (r.status === 'fulfilled') {
        c.known = 'PULLED';
      } else {
        ok = false;
        this.fail(c, `CannotPullContainerError: ${(r.reason as Error).message}`);
      }
    });
    await this.commit();
    return ok;
  }

  private async pull(c: ContainerState): Promise<void> {
    const image = await timed(this.deps, this.state.arn, 'agent.image', () => pullImage(this.deps, this.def(c.name).image!));
    this.images.set(c.name, image);
    c.imageDigest = image.manifestDigest;
    c.imageId = image.id;
  }

  private async imageOf(c: ContainerState): Promise<LocalImage> {
    const known = this.images.get(c.name) ?? (await this.deps.images.find(this.def(c.name).image!));
    if (!known) throw new Error(`image ${this.def(c.name).image} is no longer in the image store`);
    this.images.set(c.name, known);
    return known;
  }

  private async create(c: ContainerState): Promise<void> {
    const image = await this.imageOf(c);
    await createContainer({ deps: this.deps, task: this.state, container: c, image, commit: () => this.commit(), agentEnv: this.agentEnv(c) });
  }

  /**
   * What the agent adds to a container's environment: where its task metadata is (ECS's v3 and v4 names) and
   * the agent API (ECS_AGENT_URI: the task scale-in protection endpoint), each under the container's token.
   */
  private agentEnv(c: ContainerState): Record<string, string> {
    const base = this.deps.settings.metadataEndpoint;
    if (!base) return {};
    c.metadataToken ??= randomBytes(16).toString('hex');
    return {
      ECS_CONTAINER_METADATA_URI_V4: `${base}/v4/${c.metadataToken}`,
      ECS_CONTAINER_METADATA_URI: `${base}/v3/${c.metadataToken}`,
      ECS_AGENT_URI: `${base}/api/${c.metadataToken}`,
      AWS_EXECUTION_ENV: 'AWS_ECS_EC2',
    };
  }

  /**
   * awsvpc: the task's own namespace and address, made before any container (they all join it). A
   * previous attempt cut short by a crash is undone first.
   */
  private async attachTaskNetwork(): Promise<boolean> {
    try {
      await attachTaskNetwork(this.deps, this.state, () => this.commit());
      this.reportAttachment();
      return true;
    } catch (err) {
      this.deps.log.warn({ err, task: this.state.arn }, 'task network attach failed');
      this.failTask(`ResourceInitializationError: could not set up the task's network interface: ${(err as Error).message}`);
      await this.commit();
      return false;
    }
  }

  /** Tell the control plane the awsvpc task's address (also again after a reconnect). */
  reportAttachment(): void {
    const n = this.state.taskNetwork;
    if (!n?.ipv4Address || this.state.known === 'STOPPED') return;
    this.deps.reportAttachment?.({
      taskArn: this.state.arn,
      status: 'ATTACHED',
      privateIPv4Address: n.ipv4Address,
      ...(n.macAddress ? { macAddress: n.macAddress } : {}),
    });
  }

  private async start(c: ContainerState): Promise<void> {
    this.followLogs(c);
    await timed(this.deps, this.state.arn, 'agent.start', () => this.deps.runtime.start(c.runtimeId!));
    c.known = 'RUNNING';
    c.startedAt = this.deps.now();
    this.watchExit(c);
    this.monitorHealth(c);
    this.deps.log.debug({ task: this.state.arn, container: c.name, sinceReceivedMs: Math.round(performance.now() - this.receivedAt) }, 'container started');
  }

  /** Run the container's health check, if it has one (after start, and after recovery). */
  monitorHealth(c: ContainerState): void {
    const check = this.def(c.name).healthCheck;
    if (!check || !c.runtimeId || c.known !== 'RUNNING' || this.health.has(c.name)) return;
    c.healthStatus ??= 'UNKNOWN';
    const monitor = new HealthMonitor(this.deps.runtime, c.runtimeId, check, c.startedAt ?? this.deps.now(), (status) => {
      c.healthStatus = status;
      this.changed = true;
      this.deps.reportHealth?.({
        taskArn: this.state.arn,
        containers: this.state.containers.map((x) => ({ containerName: x.name, healthStatus: x.healthStatus ?? 'UNKNOWN' })),
      });
      this.poke();
    }, this.deps.now);
    this.health.set(c.name, monitor);
    monitor.start(c.healthStatus);
  }

  private stopHealth(name: string): void {
    this.health.get(name)?.stop();
    this.health.delete(name);
  }

  /** Hand the container's output to the log shipper (after start, and after recovery). */
  followLogs(c: ContainerState): void {
    if (!this.deps.logs || !c.runtimeId || !c.logPath) return;
    const def = this.def(c.name);
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

  private async progressTowardsStopped(): Promise<void> {
    const now = this.deps.now();
    const defs = this.state.spec.containers;
    for (const c of this.state.containers) {
      if (c.known === 'RUNNING') {
        // Dependents stop first: a container others depend on waits until they have stopped.
        if (neededByRunningDependent(c.name, defs, this.state.containers)) continue;
        const timeoutMs = this.stopTimeoutMs(c);
        if (c.stopSignalAt === undefined) {
          c.stopSignalAt = now;
          await this.commit();
          await this.signal(c, 'SIGTERM');
        }
        const due = c.stopSignalAt + timeoutMs - now;
        // Also armed after a restart, from the saved time of the SIGTERM.
        if (due <= 0) await this.signal(c, 'SIGKILL');
        else this.armOnce(`kill:${c.name}`, due);
      } else if (c.known !== 'STOPPED') {
        // Never started: nothing runs; forget what was prepared.
        if (c.known === 'CREATED' && c.runtimeId) await this.deps.runtime.delete(c.runtimeId).catch(() => {});
        c.known = 'STOPPED';
        await this.commit();
      }
    }
  }

  private async signal(c: ContainerState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    try {
      await this.deps.runtime.kill(c.runtimeId!, signal);
    } catch (err) {
      this.deps.log.warn({ err, container: c.name, signal }, 'could not signal container');
    }
  }

  private stopTimeoutMs(c: ContainerState): number {
    const seconds = this.def(c.name).stopTimeout;
    return seconds !== undefined ? seconds * 1000 : this.deps.settings.defaultStopTimeoutMs;
  }

  /** Everything stopped: give back networks and ports, report, and schedule the cleanup. */
  private async finish(): Promise<void> {
    const s = this.state;
    await releaseTaskNetworks(this.deps, s);
    s.known = 'STOPPED';
    s.executionStoppedAt ??= this.deps.now();
    s.cleanupAt = this.deps.now() + this.deps.settings.taskCleanupWaitMs;
    await this.commit();
    this.scheduleCleanup();
  }

  /** Arm the cleanup timer (also after an agent restart, from the saved cleanupAt). */
  scheduleCleanup(): void {
    if (this.state.cleanupAt === undefined || this.disposed) return;
    clearTimeout(this.cleanupTimer);
    this.cleanupTimer = setTimeout(() => void this.cleanup(), Math.max(0, this.state.cleanupAt - this.deps.now()));
  }

  private async cleanup(): Promise<void> {
    await removeTaskRemains(this.deps, this.state);
    await this.deps.forget(this.state.arn);
    this.deps.log.info({ task: this.state.arn }, 'task cleaned up');
    this.dispose();
    this.onGone(this.state.arn);
  }

  private async commit(): Promise<void> {
    this.changed = false;
    await timed(this.deps, this.state.arn, 'agent.save', () => this.deps.persist(this.state));
    this.deps.report(this.state);
  }

  /** Reconcile again in `ms`, unless a timer for `name` is already armed. */
  private armOnce(name: string, ms: number): void {
    if (this.armed.has(name)) return;
    this.armed.add(name);
    this.after(ms, () => {
      this.armed.delete(name);
      this.poke();
    });
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private container(name: string): ContainerState {
    const c = this.state.containers.find((x) => x.name === name);
    if (!c) throw new Error(`task ${this.state.arn} has no container ${name}`);
    return c;
  }

  private def(name: string): AcsContainer {
    return this.state.spec.containers.find((c) => c.name === name)!;
  }
}

