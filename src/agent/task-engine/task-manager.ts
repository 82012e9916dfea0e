/**
 * The one owner of a task on this host (as in the ECS agent). Everything that concerns the task arrives
 * as an event on one queue (task-events.ts); one loop applies the events, saves, then takes the next step
 * the transition table gives (transitions.ts), saves again, and so on until there is nothing to do but
 * wait for an event or a deadline. No other code changes the task's state.
 *
 *            events: desired · exited · health · timer · recovered
 *                        │
 *                        ▼
 *   ┌──▶ apply the queued events ──(changed)──▶ save + report ──▶ resolve their senders (payload acks)
 *   │                    │
 *   │                    ▼
 *   │    planStep(state, now) ──idle──▶ arm the wake-up timers; the loop ends until the next event
 *   │                    │
 *   │                    ▼ pull · attach-task-network · create · start · wait-dependencies · fail ·
 *   │                      signal · discard · release-rootfs · finish · report · cleanup
 *   └──────────── perform the step, save + report
 *
 * Container statuses (task-state.ts):
 *
 *   NONE ──pull──▶ PULLED ──create──▶ CREATED ──start──▶ RUNNING ──exited──▶ STOPPED ──release-rootfs──▶ ·
 *     └──────────────┴──────────────────┴──── discard (desired STOPPED before it ran) ──▶ STOPPED
 *
 * Task statuses: PROVISIONING → PENDING → RUNNING → STOPPING → STOPPED (derived from the containers), then
 * cleanup after ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION.
 */
import type { AcsContainer } from '../../model/acs.js';
import type { LocalImage } from '../../image/image-service.js';
import { ContainerNotFoundError } from '../../runtime/errors.js';
import { background } from '../../process/background.js';
import { attachTaskNetwork, createContainer } from './container-create.js';
import { cachedImages, pullImage, type PullAuth } from './image-pull.js';
import { pullStopReason } from './pull-reason.js';
import { releaseTaskNetworks, removeTaskRemains, releaseTaskStorage } from './task-teardown.js';
import { agentEnv, credentialsEnv } from './agent-env.js';
import { ContainerWatch } from './container-watch.js';
import { recoverTask } from './task-recovery.js';
import { StopReasonError, timed, type EngineDeps } from './deps.js';
import { applyEvent, type TaskEvent } from './task-events.js';
import { deriveTaskStatus, type ContainerState, type TaskState } from './task-state.js';
import { containerOf, defOf, planStep, type Step, type Wake } from './transitions.js';
import { systemTimers, type TimerHandle, type Timers } from './timers.js';

/** A step that keeps being chosen without any event between means a bug; the loop stops rather than spin. */
const MAX_STEPS_WITHOUT_EVENT = 1_000;
/** How soon the loop tries again after a step threw (it logged why). */
const RETRY_AFTER_FAILURE_MS = 5_000;

interface Queued {
  readonly event: TaskEvent;
  readonly done: { resolve(): void; reject(err: unknown): void };
}

export class TaskManager {
  private readonly queue: Queued[] = [];
  private loop?: Promise<void>;
  private disposed = false;
  private readonly images = new Map<string, LocalImage>();
  /** Exits, health results and output of its running containers. */
  private readonly watch: ContainerWatch;
  /** Armed wake-ups by name, with the moment each is for. */
  private readonly wakes = new Map<string, { at: number; handle: TimerHandle }>();
  /** When this manager was made (monotonic ms), for the start-latency debug log. */
  private readonly receivedAt = performance.now();
  private readonly timers: Timers;
  /** The desired status on disk (the manager is made for a task already saved). */
  private savedDesired: TaskState['desired'];

  constructor(
    readonly state: TaskState,
    private readonly deps: EngineDeps,
    private readonly onGone: (arn: string) => void,
  ) {
    this.timers = deps.timers ?? systemTimers;
    this.savedDesired = state.desired;
    this.watch = new ContainerWatch(deps, state, (event) => this.send(event), this.timers);
  }

  /**
   * Queue an event. Resolves once it has been applied and the task's state saved (so a payload is
   * acknowledged only after that); rejects if the manager stops first.
   */
  send(event: TaskEvent): Promise<void> {
    if (this.disposed) return Promise.reject(new Error(`the manager of task ${this.state.arn} has stopped`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, done: { resolve, reject } });
      this.kick();
    });
  }

  /** Take the next steps (a new task was just saved). */
  wake(): void {
    this.kick();
  }

  /** Nothing queued and no step under way. */
  get idle(): boolean {
    return !this.loop && this.queue.length === 0;
  }

  /** Resolves when the manager has nothing left to do for now (for tests and orderly shutdown). */
  async settled(): Promise<void> {
    while (this.loop) await this.loop;
  }

  /** Stop acting (agent shutdown, or the task is gone); containers keep running under their monitors. */
  dispose(): void {
    this.disposed = true;
    this.watch.stopAll();
    for (const { handle } of this.wakes.values()) this.timers.clearTimeout(handle);
    this.wakes.clear();
    for (const q of this.queue.splice(0)) q.done.reject(new Error(`the manager of task ${this.state.arn} has stopped`));
  }

  /** Tell the control plane the awsvpc task's address (also again after a reconnect). Reads only. */
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

  private kick(): void {
    if (this.loop || this.disposed) return;
    const run = async () => {
      try {
        await this.run();
      } catch (err) {
        // A save that failed (a full disk…) must not leave the task waiting for an event that may never come.
        this.arm([{ name: 'retry', at: this.deps.now() + RETRY_AFTER_FAILURE_MS }]);
        throw err;
      }
    };
    this.loop = background(this.deps.log, 'task manager loop', run, { task: this.state.arn }).finally(() => {
      this.loop = undefined;
      // An event queued just as the loop ended.
      if (this.queue.length && !this.disposed) this.kick();
    });
  }

  private async run(): Promise<void> {
    let steps = 0;
    while (!this.disposed) {
      if (this.queue.length) {
        steps = 0;
        await this.applyQueued();
        continue;
      }
      const step = planStep(this.state, {
        now: this.deps.now(),
        defaultStartTimeoutMs: this.deps.settings.defaultStartTimeoutMs,
        defaultStopTimeoutMs: this.deps.settings.defaultStopTimeoutMs,
      });
      if (step.kind === 'idle') {
        this.arm(step.wake);
        return;
      }
      if (++steps > MAX_STEPS_WITHOUT_EVENT) {
        this.deps.log.error({ task: this.state.arn, step }, 'task manager made no progress; stopping its loop until the next event');
        return;
      }
      await this.perform(step);
    }
  }

  /** Apply every queued event, save once if any changed the task, then let their senders go on. */
  private async applyQueued(): Promise<void> {
    const batch = this.queue.splice(0);
    let changed = false;
    let healthChanged = false;
    try {
      for (const { event } of batch) {
        if (event.kind === 'recovered') {
          await this.recover();
          changed = true;
          continue;
        }
        if (!applyEvent(this.state, event)) continue;
        changed = true;
        if (event.kind === 'exited') this.watch.stopHealth(event.container);
        if (event.kind === 'health') healthChanged = true;
        if (event.kind === 'desired') this.drainBeforeStop();
      }
      if (changed) await this.commit();
      if (healthChanged) this.reportHealth();
      for (const q of batch) q.done.resolve();
    } catch (err) {
      for (const q of batch) q.done.reject(err);
      throw err;
    }
  }

  private async perform(step: Exclude<Step, { kind: 'idle' }>): Promise<void> {
    const s = this.state;
    switch (step.kind) {
      case 'pull':
        return this.pull(step.containers.map((n) => containerOf(s, n)));
      case 'attach-task-network':
        return this.attachTaskNetwork();
      case 'create': {
        const c = containerOf(s, step.container);
        return this.attempt(c, 'CannotCreateContainerError', () => this.create(c));
      }
      case 'start': {
        const c = containerOf(s, step.container);
        return this.attempt(c, 'CannotStartContainerError', () => this.start(c));
      }
      case 'wait-dependencies':
        containerOf(s, step.container).waitingSince = this.deps.now();
        return this.commit();
      case 'fail':
        this.fail(containerOf(s, step.container), step.reason);
        return this.commit();
      case 'signal':
        return this.signal(containerOf(s, step.container), step.signal);
      case 'discard':
        return this.discard(containerOf(s, step.container));
      case 'release-rootfs':
        return this.releaseRootfs(containerOf(s, step.container));
      case 'finish':
        return this.finish();
      case 'report':
        s.known = deriveTaskStatus(s);
        return this.commit();
      case 'cleanup':
        return this.cleanup();
    }
  }

  /** Run one container step; on failure record ECS's reason and stop the task. */
  private async attempt(c: ContainerState, reasonName: string, action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (err) {
      this.deps.log.warn({ err, task: this.state.arn, container: c.name }, reasonName);
      this.fail(c, err instanceof StopReasonError ? err.message : `${reasonName}: ${(err as Error).message}`);
    }
    await this.commit();
  }

  private fail(c: ContainerState, reason: string): void {
    c.reason ??= reason;
    this.failTask(reason);
  }

  private failTask(reason: string): void {
    this.state.desired = 'STOPPED';
    this.state.stopReason ??= reason;
  }

  private async pull(pending: ContainerState[]): Promise<void> {
    const s = this.state;
    const cached = await timed(this.deps, s.arn, 'agent.image', () => cachedImages(this.deps, pending.map((c) => this.def(c.name))));
    if (cached) {
      // Nothing to pull: no save of its own (nor report). The next step saves this with its records; an
      // agent killed before then finds the images in the cache again.
      s.pullStartedAt ??= this.deps.now();
      s.known = 'PENDING';
      pending.forEach((c, i) => this.pulled(c, cached[i]!));
      s.pullStoppedAt = this.deps.now();
      return;
    }
    if (s.pullStartedAt === undefined) {
      s.pullStartedAt = this.deps.now();
      s.known = 'PENDING';
      await this.commit();
    }
    const results = await Promise.allSettled(
      pending.map(async (c) => {
        const auth = await this.pullAuth(c);
        const image = await timed(this.deps, this.state.arn, 'agent.image', () => pullImage(this.deps, this.def(c.name).image!, auth));
        this.pulled(c, image);
      }),
    );
    s.pullStoppedAt = this.deps.now();
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.fail(pending[i]!, pullStopReason(this.def(pending[i]!.name).image!, r.reason));
    });
    // A container whose pull failed never runs; it is discarded with the rest when the task stops.
    await this.commit();
  }

  private pulled(c: ContainerState, image: LocalImage): void {
    this.images.set(c.name, image);
    c.imageDigest = image.manifestDigest;
    c.imageId = image.id;
    c.known = 'PULLED';
  }

  /**
   * Who the container's image is pulled as: the basic credentials of its `repositoryCredentials` (fetched
   * first, with the execution role: ECS's private registry authentication), else the engine's
   * registryAuth for the task (berth's registry: a token of the task's execution role).
   */
  private async pullAuth(c: ContainerState): Promise<PullAuth | undefined> {
    const parameter = this.def(c.name).repositoryCredentials?.credentialsParameter;
    const arn = this.state.arn;
    if (parameter) {
      if (!this.deps.repositoryCredentials) throw new StopReasonError('ResourceInitializationError: unable to pull secrets or registry auth: this agent cannot fetch repository credentials');
      const credentials = await timed(this.deps, arn, 'agent.secrets', () => this.deps.repositoryCredentials!(arn, parameter));
      return async () => credentials;
    }
    const registryAuth = this.deps.registryAuth;
    return registryAuth ? (host) => registryAuth(host, arn) : undefined;
  }

  private async imageOf(c: ContainerState): Promise<LocalImage> {
    const known = this.images.get(c.name) ?? (await this.deps.images.find(this.def(c.name).image!));
    if (!known) throw new Error(`image ${this.def(c.name).image} is no longer in the image store`);
    this.images.set(c.name, known);
    return known;
  }

  private async create(c: ContainerState): Promise<void> {
    const image = await this.imageOf(c);
    delete c.rootfsReleased;
    const def = this.def(c.name);
    const secrets = def.secrets ?? [];
    const secretEnv = secrets.length ? await this.resolveSecrets(secrets) : undefined;
    // logConfiguration.secretOptions: fetched with the execution role as ECS does (a failure stops the task),
    // though no log driver berth has takes an option from a secret: the values are checked, then dropped.
    const secretOptions = def.logConfiguration?.secretOptions ?? [];
    if (secretOptions.length) await this.resolveSecrets(secretOptions);
    await createContainer({
      deps: this.deps,
      task: this.state,
      container: c,
      image,
      commit: () => this.commit(),
      agentEnv: {
        ...agentEnv(c, this.deps.settings.metadataEndpoint),
        ...credentialsEnv(this.state, this.deps.settings, this.deps.hasTaskRoleCredentials?.(this.state.arn) ?? false),
      },
      ...(secretEnv ? { secretEnv } : {}),
    });
    // Only the start needed it; a container never started keeps nothing in memory.
    this.images.delete(c.name);
  }

  private async resolveSecrets(secrets: readonly { name?: string; valueFrom?: string }[]): Promise<Record<string, string>> {
    if (!this.deps.resolveSecrets) throw new StopReasonError('ResourceInitializationError: unable to pull secrets or registry auth: this agent cannot fetch secrets');
    return timed(this.deps, this.state.arn, 'agent.secrets', () => this.deps.resolveSecrets!(this.state.arn, secrets));
  }

  /** awsvpc: the task's own namespace and address, made before any container (they all join it). */
  private async attachTaskNetwork(): Promise<void> {
    try {
      await attachTaskNetwork(this.deps, this.state, () => this.commit());
      this.reportAttachment();
    } catch (err) {
      this.deps.log.warn({ err, task: this.state.arn }, 'task network attach failed');
      this.failTask(`ResourceInitializationError: could not set up the task's network interface: ${(err as Error).message}`);
      await this.commit();
    }
  }

  /**
   * The control plane stops a running task of a Service Connect service: its containers keep serving while it drains
   * (the hosts' proxies take it out of their backends, its requests finish), then are signalled. `drainUntil` is the
   * bound, saved (a restarted agent waits for it alone); the drain's end is a 'drained' event.
   */
  private drainBeforeStop(): void {
    const s = this.state;
    const service = s.spec.serviceName;
    if (s.desired !== 'STOPPED' || s.known !== 'RUNNING' || !service || s.drainUntil !== undefined) return;
    const drain = this.deps.serviceConnectDrain?.(service, s.arn);
    if (!drain) return;
    s.drainUntil = this.deps.now() + drain.boundMs;
    void background(this.deps.log, 'service connect drain', async () => {
      await drain.drained.catch(() => undefined);
      if (!this.disposed) await this.send({ kind: 'drained' });
    }, { task: s.arn });
  }

  private async start(c: ContainerState): Promise<void> {
    const service = this.state.spec.serviceName;
    if (service && this.deps.beforeServiceTaskStart) await timed(this.deps, this.state.arn, 'agent.service-connect', () => this.deps.beforeServiceTaskStart!(service, c.runtimeId!));
    this.watch.followLogs(c);
    await timed(this.deps, this.state.arn, 'agent.start', () => this.deps.runtime.start(c.runtimeId!));
    this.running(c, this.deps.now());
    // The last container up makes the task RUNNING: saved and reported with the start's own save, not
    // one 'report' step (and save) later, on every start's critical path.
    if (deriveTaskStatus(this.state) === 'RUNNING') this.state.known = 'RUNNING';
    this.deps.log.debug({ task: this.state.arn, container: c.name, sinceReceivedMs: Math.round(performance.now() - this.receivedAt) }, 'container started');
  }

  /** `c` runs (just started, or found running after a restart): follow its exit and health. */
  private running(c: ContainerState, startedAt: number): void {
    c.known = 'RUNNING';
    c.startedAt ??= startedAt;
    this.watch.follow(c);
  }

  private reportHealth(): void {
    this.deps.reportHealth?.({
      taskArn: this.state.arn,
      containers: this.state.containers.map((x) => ({ containerName: x.name, healthStatus: x.healthStatus ?? 'UNKNOWN' })),
    });
  }

  private async signal(c: ContainerState, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    // Saved before the signal, so a restarted agent knows when SIGKILL is due.
    if (signal === 'SIGTERM') c.stopSignalAt = this.deps.now();
    else c.killSignalAt = this.deps.now();
    await this.commit();
    try {
      await this.deps.runtime.kill(c.runtimeId!, signal);
    } catch (err) {
      if (err instanceof ContainerNotFoundError) {
        // Gone without a word: nothing runs any more.
        applyEvent(this.state, { kind: 'exited', container: c.name, exit: { exitCode: 137, oomKilled: false, exitedAt: this.deps.now() }, lost: true });
        await this.commit();
      } else this.deps.log.warn({ err, container: c.name, signal }, 'could not signal container');
    }
  }

  /** Never started: nothing runs; forget what was prepared (its files go at cleanup). */
  private async discard(c: ContainerState): Promise<void> {
    if (c.runtimeId) await this.deps.runtime.delete(c.runtimeId).catch((err: unknown) => this.deps.log.warn({ err, container: c.name }, 'runtime delete failed'));
    c.known = 'STOPPED';
    await this.commit();
  }

  /** A stopped container's root filesystem is unmounted at once, as Docker does; its writable layer stays. */
  private async releaseRootfs(c: ContainerState): Promise<void> {
    await this.deps.images.unmountRootfs(c.runtimeId!).catch((err: unknown) => this.deps.log.warn({ err, container: c.name }, 'rootfs unmount failed'));
    c.rootfsReleased = true;
    await this.commit();
  }

  /** Everything stopped: give back networks and ports, report, and wait for the cleanup. */
  private async finish(): Promise<void> {
    const s = this.state;
    await releaseTaskNetworks(this.deps, s);
    await releaseTaskStorage(this.deps, s);
    s.known = 'STOPPED';
    s.executionStoppedAt ??= this.deps.now();
    s.cleanupAt = this.deps.now() + this.deps.settings.taskCleanupWaitMs;
    await this.commit();
  }

  private async cleanup(): Promise<void> {
    await removeTaskRemains(this.deps, this.state);
    await this.deps.forget(this.state.arn);
    this.deps.log.info({ task: this.state.arn }, 'task cleaned up');
    this.dispose();
    this.onGone(this.state.arn);
  }

  /** After an agent restart (task-recovery.ts). */
  private recover(): Promise<void> {
    return recoverTask(this.deps, this.state, { running: (c) => this.running(c, this.deps.now()), followLogs: (c) => this.watch.followLogs(c) });
  }

  /** Whether the desired status in `spec` is already what is saved (its payload may be acknowledged at once). */
  alreadySaved(desired: TaskState['desired']): boolean {
    return desired === 'RUNNING' || this.savedDesired === 'STOPPED';
  }

  private async commit(): Promise<void> {
    const desired = this.state.desired;
    await timed(this.deps, this.state.arn, 'agent.save', () => this.deps.persist(this.state));
    this.savedDesired = desired;
    this.deps.report(this.state);
  }

  /** Arm a timer per wake-up the plan asked for; each sends a `timer` event. */
  private arm(wake: readonly Wake[]): void {
    for (const w of wake) {
      const armed = this.wakes.get(w.name);
      if (armed?.at === w.at) continue;
      if (armed) this.timers.clearTimeout(armed.handle);
      const handle = this.timers.setTimeout(() => {
        this.wakes.delete(w.name);
        void this.send({ kind: 'timer', name: w.name }).catch(() => {});
      }, w.at - this.deps.now());
      this.wakes.set(w.name, { at: w.at, handle });
    }
  }

  private def(name: string): AcsContainer {
    return defOf(this.state, name);
  }
}
