/**
 * Makes a local HAProxy serve a {@link DesiredState} and keeps it doing so.
 *
 * - Structure changes (listeners, rules, target groups) → new config + seamless reload.
 * - Target changes alone → the runtime API, no reload: a new target is added with weight 0, its health
 *   check enabled and its health forced down, then given its weight, so it gets traffic only once it has
 *   passed `healthyThreshold` checks (ELBv2's `initial`); a removed target is put in maintenance (no new
 *   request, even a sticky one, as ELBv2 stops routing to a deregistering target) and deleted once it
 *   holds no connection or its deregistration delay has passed.
 * - Every `healthPollMs`, `show stat` gives each target's check result, reported in ELBv2's terms
 *   through `onHealth` (only when something changed), and the server states are saved so that a
 *   restarted HAProxy starts from them.
 * - If HAProxy exits, it is restarted from the current desired state (with backoff).
 * - Before a reload or a `del server` (both restart traffic counters), `beforeCountersReset` lets the traffic
 *   reporter read them (traffic-reporter.ts).
 *
 * Changes are applied one at a time, in order (`apply` queues them).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { background } from '../process/background.js';
import { drainStep } from './drain.js';
import { planChange, targetGroupsInUse, targetKey, validateDesiredState, type DesiredState, type Target, type TargetGroup } from './desired.js';
import { backendName, hostPort, renderConfig, serverArgs, serverName, type RenderOptions } from './haproxy-config.js';
import { HaproxyProcess, type LbLog } from './haproxy-process.js';
import { parseShowStat, runtimeCommand, runtimeExpect, verdictOf, type ServerStat, type TargetHealthVerdict } from './haproxy-runtime.js';

/** One target's health as DescribeTargetHealth reports it. */
export interface TargetHealth extends TargetHealthVerdict {
  readonly targetGroupId: string;
  readonly target: Target;
}

/** Timers the driver uses, injectable for tests. */
export interface DriverClock {
  now(): number;
  setInterval(fn: () => void, ms: number): { unref?(): void };
  clearInterval(handle: unknown): void;
  setTimeout(fn: () => void, ms: number): { unref?(): void };
}

const realClock: DriverClock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

export interface LbDriverOptions {
  /** Working directory for HAProxy's config, sockets and state (keep it short: unix socket paths). */
  readonly dir: string;
  /** Address the listeners bind. */
  readonly bindAddress: string;
  readonly log: LbLog;
  readonly onHealth?: (health: readonly TargetHealth[]) => void;
  readonly healthPollMs?: number;
  readonly binary?: string;
  /**
   * Workers of an HAProxy a previous `berth lb` left serving from `dir`: the first start takes their listening
   * sockets over (no refused connection); the caller soft-stops them after (stale-haproxy.ts).
   */
  readonly takeOverFrom?: readonly number[];
  readonly clock?: DriverClock;
  /**
   * Called (and awaited) just before HAProxy's traffic counters restart — a reload (a new worker) or a `del server`
   * — so that the traffic reporter can read what they hold first (traffic-reporter.ts). A failure is logged, and the
   * change goes ahead.
   */
  readonly beforeCountersReset?: () => Promise<void>;
}

interface Draining {
  readonly targetGroupId: string;
  readonly target: Target;
  readonly since: number;
  readonly delayMs: number;
  /** Still a server of the running worker (false once the worker that had it is gone). */
  live: boolean;
  /** No request left; only HAProxy's server object lingers (see finishDrains). Not reported. */
  completed: boolean;
}

const drainKey = (tgId: string, t: Target) => `${tgId}/${targetKey(t)}`;

export class LbDriver {
  private desired: DesiredState = { loadBalancers: [], targetGroups: [] };
  private readonly haproxy: HaproxyProcess;
  private readonly render: RenderOptions;
  private readonly clock: DriverClock;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly draining = new Map<string, Draining>();
  private readonly everHealthy = new Set<string>();
  /** When each target's checks were first seen (clock ms): a never-healthy one is `unhealthy` after its threshold. */
  private firstSeen = new Map<string, number>();
  private lastHealth: readonly TargetHealth[] = [];
  private lastHealthJson = '';
  private poller: unknown;
  private stopped = false;
  private restartDelayMs = 100;
  private polling = false;

  constructor(private readonly options: LbDriverOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.clock = options.clock ?? realClock;
    this.haproxy = new HaproxyProcess({
      dir: options.dir,
      log: options.log,
      onExit: () => this.restartLater(),
      ...(options.binary ? { binary: options.binary } : {}),
    });
    const paths = this.haproxy.paths;
    this.render = { bindAddress: options.bindAddress, adminSocket: paths.adminSocket, serverStateFile: paths.serverState, cookieKey: randomBytes(16).toString('hex') };
  }

  /** The HAProxy being driven (its pids, for tests and `berth lb`'s status). */
  get process(): HaproxyProcess {
    return this.haproxy;
  }

  /**
   * Start HAProxy serving `initial` and begin polling health. `proven`: targets already known healthy (a restarted
   * `berth lb` takes the API's last verdict) get traffic at once instead of passing `rise` checks first.
   */
  async start(initial: DesiredState, proven: readonly { readonly targetGroupId: string; readonly target: Target }[] = []): Promise<void> {
    validateDesiredState(initial);
    for (const p of proven) this.everHealthy.add(drainKey(p.targetGroupId, p.target));
    // A state file from an earlier run would describe other servers' health.
    rmSync(this.haproxy.paths.serverState, { force: true });
    this.desired = initial;
    await this.haproxy.start(this.renderNow(), this.options.takeOverFrom);
    await this.holdBackUnproven();
    const every = this.options.healthPollMs ?? 1_000;
    this.poller = this.clock.setInterval(() => void background(this.options.log, 'lb health poll', () => this.pollOnce()), every);
  }

  /** Apply `next` (queued behind changes in flight); resolves with how it was applied. */
  apply(next: DesiredState): Promise<'none' | 'reload' | 'targets'> {
    const run = this.queue.then(() => this.applyNow(next));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The latest health of every registered or draining target. */
  health(): readonly TargetHealth[] {
    return this.lastHealth;
  }

  /** Stop polling and HAProxy. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller !== undefined) this.clock.clearInterval(this.poller);
    await this.queue;
    await this.haproxy.stop();
  }

  private async applyNow(next: DesiredState): Promise<'none' | 'reload' | 'targets'> {
    validateDesiredState(next);
    const plan = planChange(this.desired, next);
    const before = this.desired;
    if (plan.kind === 'none') {
      this.desired = next;
      return 'none';
    }
    const now = this.clock.now();
    // Removed targets drain; re-registered draining ones stop draining.
    for (const tg of before.targetGroups) {
      const after = next.targetGroups.find((t) => t.id === tg.id);
      const keep = new Set((after?.targets ?? []).map(targetKey));
      for (const t of tg.targets) {
        if (keep.has(targetKey(t))) continue;
        const delayMs = (after ?? tg).attributes.deregistrationDelaySeconds * 1000;
        this.draining.set(drainKey(tg.id, t), { targetGroupId: tg.id, target: t, since: now, delayMs, live: after !== undefined, completed: false });
      }
    }
    if (plan.kind === 'reload') {
      // The new worker has only `next`'s servers; the old one finishes what the draining ones hold.
      for (const d of this.draining.values()) {
        const back = next.targetGroups.find((t) => t.id === d.targetGroupId)?.targets.some((t) => targetKey(t) === targetKey(d.target));
        if (back) this.draining.delete(drainKey(d.targetGroupId, d.target));
        else d.live = false;
      }
      this.desired = next;
      await this.countersAboutToReset();
      await this.haproxy.reload(this.renderNow());
      await this.holdBackUnproven();
      return 'reload';
    }
    this.desired = next;
    const socket = this.haproxy.paths.adminSocket;
    for (const { targetGroupId, target } of plan.removed) {
      const be = backendName(targetGroupId);
      await runtimeExpect(socket, `set server ${be}/${serverName(target)} state maint`);
    }
    for (const { targetGroupId, target } of plan.added) {
      const tg = next.targetGroups.find((t) => t.id === targetGroupId)!;
      const key = drainKey(targetGroupId, target);
      const wasDraining = this.draining.get(key);
      this.draining.delete(key);
      this.everHealthy.delete(key);
      if (wasDraining?.live) {
        await runtimeExpect(socket, `set server ${backendName(targetGroupId)}/${serverName(target)} state ready`);
        continue;
      }
      await this.addServer(tg, target);
    }
    return 'targets';
  }

  /**
   * Add a target to a running worker. Weight 0 first so that no request reaches it before its health is
   * forced down (a dynamic server is enabled UP); then it must pass `rise` checks to get traffic.
   */
  private async addServer(tg: TargetGroup, target: Target): Promise<void> {
    const socket = this.haproxy.paths.adminSocket;
    const id = `${backendName(tg.id)}/${serverName(target)}`;
    await runtimeExpect(socket, `add server ${id} ${hostPort(target)} ${serverArgs(tg, 0)}`);
    const out = await runtimeCommand(socket, [`enable health ${id}`, `enable server ${id}`, `set server ${id} health down`, `set weight ${id} 100`]);
    if (out.trim() !== '') throw new Error(`haproxy: enabling ${id}: ${out.trim()}`);
    if (tg.attributes.stickiness.enabled && tg.protocol === 'HTTP') await runtimeCommand(socket, `enable dynamic-cookie backend ${backendName(tg.id)}`);
  }

  /** One health poll: read `show stat`, finish drains, report, save server states. */
  private async pollOnce(): Promise<void> {
    if (this.polling || this.stopped || !this.haproxy.currentWorkerPid) return;
    this.polling = true;
    try {
      const socket = this.haproxy.paths.adminSocket;
      const stats = parseShowStat(await runtimeCommand(socket, 'show stat'));
      const rows = new Map(stats.map((s) => [`${s.backend}/${s.server}`, s]));
      await this.finishDrains(rows);
      this.report(rows);
      writeFileSync(this.haproxy.paths.serverState, await runtimeCommand(socket, 'show servers state'));
    } finally {
      this.polling = false;
    }
  }

  /**
   * Drains end when the target holds no request (ELBv2 completes a deregistration early then too) or when
   * the delay has passed (its sessions are shut). HAProxy 2.6 refuses `del server` while client sessions
   * keep idle connections to it (`max-session-srv-conns`), although no request can reach a server in
   * maintenance: such a target counts as deregistered, `del server` is retried on every poll, and if it
   * is still refused once the delay has passed, a seamless reload (whose config lacks it) drops it.
   */
  private async finishDrains(rows: ReadonlyMap<string, ServerStat>): Promise<void> {
    const now = this.clock.now();
    const socket = this.haproxy.paths.adminSocket;
    let flush = false;
    let counted = false;
    for (const [key, d] of this.draining) {
      const id = `${backendName(d.targetGroupId)}/${serverName(d.target)}`;
      const step = drainStep(d, rows.get(id), now);
      if (step === 'wait') continue;
      if (step === 'forget') {
        this.draining.delete(key);
        continue;
      }
      if (!counted && !d.completed) {
        // A deleted server's counters go with it: read them first (once a pass; a lingering one served nothing since).
        counted = true;
        await this.countersAboutToReset();
      }
      if (step === 'shutdown-and-delete') await runtimeCommand(socket, `shutdown sessions server ${id}`);
      const out = await runtimeCommand(socket, `del server ${id}`);
      if (/Server deleted/i.test(out)) {
        this.draining.delete(key);
        this.everHealthy.delete(key);
        continue;
      }
      d.completed = true;
      if (now - d.since >= d.delayMs) flush = true;
    }
    if (flush) {
      const run = this.queue.then(() => this.reloadAsIs());
      this.queue = run.catch(() => undefined);
      await run;
    }
  }

  /** Let the traffic reporter read the counters before they restart (LbDriverOptions.beforeCountersReset). */
  private async countersAboutToReset(): Promise<void> {
    if (!this.options.beforeCountersReset || this.haproxy.masterPid === undefined) return;
    await this.options.beforeCountersReset().catch((err: unknown) => this.options.log.warn({ err }, 'reading traffic counters before they restart failed'));
  }

  /** A reload with the current desired state: the workers' lingering deregistered servers go with the old worker. */
  private async reloadAsIs(): Promise<void> {
    for (const [key, d] of this.draining) if (d.completed) this.draining.delete(key);
    await this.countersAboutToReset();
    await this.haproxy.reload(this.renderNow());
    await this.holdBackUnproven();
  }

  private renderNow(): string {
    return renderConfig(this.desired, this.render, (tgId, t) => !this.everHealthy.has(drainKey(tgId, t)));
  }

  /** Targets never seen healthy (written with weight 0) must pass `rise` checks before they get traffic. */
  private async holdBackUnproven(): Promise<void> {
    const commands: string[] = [];
    for (const tg of this.desired.targetGroups)
      for (const t of tg.targets) {
        if (this.everHealthy.has(drainKey(tg.id, t))) continue;
        const id = `${backendName(tg.id)}/${serverName(t)}`;
        commands.push(`set server ${id} health down`, `set weight ${id} 100`);
      }
    if (commands.length === 0) return;
    const out = await runtimeCommand(this.haproxy.paths.adminSocket, commands);
    if (out.trim() !== '') throw new Error(`haproxy: holding back unproven targets: ${out.trim()}`);
  }

  private report(rows: ReadonlyMap<string, ServerStat>): void {
    const inUse = targetGroupsInUse(this.desired);
    const health: TargetHealth[] = [];
    const now = this.clock.now();
    const seen = new Map<string, number>();
    for (const tg of this.desired.targetGroups) {
      for (const target of tg.targets) {
        const key = drainKey(tg.id, target);
        const row = rows.get(`${backendName(tg.id)}/${serverName(target)}`);
        if (row) seen.set(key, this.firstSeen.get(key) ?? now);
        const checksOver = row !== undefined && now - seen.get(key)! >= tg.healthCheck.intervalSeconds * tg.healthCheck.unhealthyThreshold * 1000;
        // Checks run for unused groups too; a target that passed them is not `initial` once traffic comes.
        const verdict = row ? verdictOf(row, this.everHealthy.has(key), checksOver) : undefined;
        if (verdict?.state === 'healthy') this.everHealthy.add(key);
        if (!inUse.has(tg.id)) {
          health.push({ targetGroupId: tg.id, target, state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' });
          continue;
        }
        if (!verdict) {
          health.push({ targetGroupId: tg.id, target, state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' });
          continue;
        }
        health.push({ targetGroupId: tg.id, target, ...verdict });
      }
    }
    for (const d of this.draining.values())
      if (!d.completed)
        health.push({ targetGroupId: d.targetGroupId, target: d.target, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' });
    this.firstSeen = seen;
    this.lastHealth = health;
    const json = JSON.stringify(health);
    if (json !== this.lastHealthJson) {
      this.lastHealthJson = json;
      this.options.onHealth?.(health);
    }
  }

  /** HAProxy exited on its own: start it again from the current desired state, backing off while it fails. */
  private restartLater(): void {
    if (this.stopped) return;
    // Whatever the dead workers were draining is gone with them.
    for (const d of this.draining.values()) d.live = false;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, 5_000);
    this.clock.setTimeout(() => {
      const run = this.queue.then(async () => {
        if (this.stopped) return;
        try {
          await this.haproxy.start(this.renderNow());
          await this.holdBackUnproven();
          this.restartDelayMs = 100;
        } catch (err) {
          this.options.log.error({ err }, 'restarting haproxy failed; trying again');
          this.restartLater();
        }
      });
      this.queue = run.catch(() => undefined);
      void background(this.options.log, 'restart haproxy', () => run);
    }, delay);
  }
}
