/**
 * A few things made ahead of need, handed out at once and refilled in the background: the bridge network's
 * warm attachments (cni-network-service.ts), whose making (namespace, veth on the bridge, address from
 * IPAM: ~200 ms here) would otherwise be the critical path of a bridge task's start. Generic and pure:
 * making, destroying, adopting and time are injected, so the tests drive it with fake timers.
 *
 *   pool:   starting ──adopted──▶ running ──drain()──▶ draining ──made ones destroyed──▶ closed
 *
 *   entry:  making ──made──▶ ready ──take()──▶ taken (the taker owns it; the pool forgets it)
 *             │                 └──drain()──▶ destroyed
 *             └──failed──▶ (retry after retryDelayMs, doubling up to 32×, reset by a success)
 *
 * One entry is made at a time, and only while the pool is below its size. Every take (one that finds
 * the pool empty too) defers refilling by refillDelayMs: the start that took one, and a burst of starts,
 * are not slowed by refills competing for the CPU; the refill follows once starts pause. A drain while an entry is being made waits for it and
 * destroys it; nothing made is left behind.
 */

/** Time, injected (the agent passes Node's timers, unreferenced; tests fake ones). */
export interface PoolTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unreferenced: a pending refill never keeps a stopping process alive. */
export const nodeTimers: PoolTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};

/** A pool's settings as its owner takes them (CniNetworkService's `warmPool`). */
export interface WarmPoolSettings {
  /** How many to keep ready; 0 disables. */
  readonly size: number;
  /** Quiet time after a take before refilling. Default 1 s: a start's create, under load, is over by then. */
  readonly refillDelayMs?: number;
  /** Wait after a failed make, doubled while they keep failing. Default 1 s. */
  readonly retryDelayMs?: number;
  /** Default: Node's, unreferenced. */
  readonly timers?: PoolTimers;
}

export interface WarmPoolOptions<E> {
  /** How many ready entries to keep. 0: the pool never makes any (take() always answers undefined). */
  readonly size: number;
  readonly make: () => Promise<E>;
  readonly destroy: (entry: E) => Promise<void>;
  /** Entries a previous process left ready (already checked), taken into the pool before it fills. */
  readonly adopt: () => Promise<readonly E[]>;
  readonly timers: PoolTimers;
  /** Quiet time after a take before refilling. */
  readonly refillDelayMs: number;
  /** Wait after a failed make (doubled on each failure in a row, up to 32×). */
  readonly retryDelayMs: number;
  /** A make, destroy or adopt failed (the pool carries on). */
  readonly onError: (what: 'make' | 'destroy' | 'adopt', error: unknown) => void;
}

export const warmPoolStates = ['starting', 'running', 'draining', 'closed'] as const;
export type WarmPoolState = (typeof warmPoolStates)[number];

export class WarmPool<E> {
  private stateNow: WarmPoolState = 'starting';
  private readonly ready: E[] = [];
  private making: Promise<void> | undefined;
  private timer: unknown;
  private failures = 0;
  private started: Promise<void> | undefined;
  private destroying: Promise<void>[] = [];

  constructor(private readonly options: WarmPoolOptions<E>) {}

  get state(): WarmPoolState {
    return this.stateNow;
  }

  /** Ready entries now. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Adopt what a previous process left, then fill. Resolves once adopted (filling goes on). */
  start(): Promise<void> {
    this.started ??= this.options.adopt().then(
      (entries) => this.adopted(entries),
      (error: unknown) => {
        this.options.onError('adopt', error);
        this.adopted([]);
      },
    );
    return this.started;
  }

  /**
   * A ready entry, now, or undefined (none ready, or not running): the caller makes its own then. Either
   * way the refill waits for refillDelayMs more: the caller's start is under way, and needs the CPU.
   */
  take(): E | undefined {
    if (this.stateNow !== 'running') return undefined;
    this.schedule(this.options.refillDelayMs);
    return this.ready.shift();
  }

  /** Stop filling and destroy every entry, the one being made too once it is. */
  async drain(): Promise<void> {
    if (this.stateNow === 'closed') return;
    const wasStarting = this.stateNow === 'starting';
    this.stateNow = 'draining';
    this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    // Adoption in flight: its entries are destroyed as they arrive (adopted() sees the state).
    if (wasStarting && this.started) await this.started;
    for (const entry of this.ready.splice(0)) this.destroyLater(entry);
    await this.making;
    await Promise.all(this.destroying);
    this.stateNow = 'closed';
  }

  private adopted(entries: readonly E[]): void {
    if (this.stateNow !== 'starting') {
      for (const entry of entries) this.destroyLater(entry);
      return;
    }
    this.stateNow = 'running';
    // Beyond the size (a smaller size configured since): the extra ones go.
    for (const entry of entries) {
      if (this.ready.length < this.options.size) this.ready.push(entry);
      else this.destroyLater(entry);
    }
    this.fill();
  }

  private schedule(ms: number): void {
    this.options.timers.clearTimeout(this.timer);
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      this.fill();
    }, ms);
  }

  private fill(): void {
    if (this.stateNow !== 'running' || this.making || this.timer !== undefined || this.ready.length >= this.options.size) return;
    this.making = this.options.make().then(
      (entry) => {
        this.making = undefined;
        this.failures = 0;
        if (this.stateNow !== 'running') return this.destroyLater(entry);
        this.ready.push(entry);
        this.fill();
      },
      (error: unknown) => {
        this.making = undefined;
        this.options.onError('make', error);
        this.failures = Math.min(this.failures + 1, 6);
        if (this.stateNow === 'running') this.schedule(this.options.retryDelayMs * 2 ** (this.failures - 1));
      },
    );
  }

  private destroyLater(entry: E): void {
    this.destroying.push(this.options.destroy(entry).catch((error: unknown) => this.options.onError('destroy', error)));
  }
}
