import type { Store, Watch, WatchEvent } from './store.js';

/**
 * A list-then-watch cache of the records under one prefix (Kubernetes' reflector + informer, over the
 * Store's etcd-shaped API). Every part of the control plane that follows the store — the agent gateway,
 * the controllers, the cluster snapshot — reads through one of these instead of hand-rolling watches.
 *
 *   start ──▶ list (paged range) ──▶ watch from the first page's revision + 1 ──▶ events applied
 *               ▲                                                                   │ any watch error
 *               └──────────── after a jittered exponential backoff ◀── list failed ◀┘ (compacted, store
 *                                                                                     closed/unavailable,
 *                                                                                     listener failure)
 *
 * - **Revisions decide.** Each cached record remembers its modRevision; an event at or below it is ignored.
 *   A paged list reads each page at its own revision, so the map is a mix until the watch, which replays
 *   from the first page's revision, has passed the last page's: then it is exact, and `synced()`.
 * - **The whole keyspace is watched** and events outside the prefix are skipped. Every committed revision
 *   carries at least one event, so the cache's revision follows the store's even while nothing under the
 *   prefix changes — which is what makes {@link Informer.waitFor} with the store's current revision resolve
 *   at once on a quiet prefix. (A per-prefix watch would only learn of revisions that touched the prefix.)
 * - **A revision whose event never arrives** would leave a waiter hanging. No backend should produce one
 *   (a transaction that changes nothing uses no revision, as in etcd), so this is a safety net: a waiter not
 *   satisfied within `catchUpMs` makes the informer list again, which reads at the store's current revision.
 * - **Handlers** hear of every change as added/updated/deleted with old and new values, also across a
 *   re-list (the new list is compared with the old cache), so level-triggered consumers miss nothing.
 *   A record that fails to parse is reported and treated as absent; a handler that throws is reported and
 *   the others still run — neither forces a re-list that would only fail the same way.
 */
export interface InformerOptions<T> {
  readonly store: Store;
  readonly prefix: string;
  /** The typed parse function of the records under the prefix (state/records/*). */
  readonly parse: (value: string, key: string) => T;
  /** Keys per range call while listing (default 1000). */
  readonly pageSize?: number;
  /** Delay before the first retry, doubled per consecutive failure up to maxMs, with jitter (default 100 ms → 10 s). */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** A watch that ran this long before failing counts as healthy: the backoff starts again from minMs (default 30 s). */
  readonly healthyAfterMs?: number;
  /** How long a `waitFor` may go unsatisfied before the informer lists again (default 1 s). */
  readonly catchUpMs?: number;
  readonly clock?: InformerClock;
  /** Told of every failure (list, watch, a record that did not parse, a handler that threw). */
  readonly onError?: (error: unknown, failure: InformerFailure) => void;
}

export interface InformerFailure {
  readonly kind: 'list' | 'watch' | 'parse' | 'handler' | 'catch-up';
  readonly prefix: string;
  /** The key concerned (parse failures). */
  readonly key?: string;
  /** When the informer lists again (list and watch failures). */
  readonly retryInMs?: number;
}

/** Time and randomness, injectable so that backoff is tested with fake timers. */
export interface InformerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** In [0, 1): the jitter. */
  random(): number;
}

export const systemClock: InformerClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A pending retry must not keep a process alive that is otherwise done.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};

/** One cached record and the revision that last modified it. */
export interface Cached<T> {
  readonly value: T;
  readonly modRevision: number;
}

/** What consumers hear; `updated` and `deleted` carry the value the cache held before. */
export interface InformerHandlers<T> {
  added?(key: string, value: T): void;
  updated?(key: string, oldValue: T, newValue: T): void;
  deleted?(key: string, oldValue: T): void;
}

/** The informer was stopped while something waited on it. */
export class InformerStoppedError extends Error {
  override readonly name = 'InformerStoppedError';
}

/** `waitFor` gave up: the cache did not reach the revision in time. */
export class InformerTimeoutError extends Error {
  override readonly name = 'InformerTimeoutError';
  constructor(
    readonly prefix: string,
    readonly wanted: number,
    readonly reached: number,
  ) {
    super(`the cache of ${prefix} reached revision ${reached}, not ${wanted}, in time`);
  }
}

interface Waiter {
  readonly revision: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  timer?: unknown;
}

export class Informer<T> {
  readonly prefix: string;
  private readonly items = new Map<string, Cached<T>>();
  private readonly handlers = new Set<InformerHandlers<T>>();
  private readonly waiters = new Set<Waiter>();
  private readonly clock: InformerClock;
  /** Bumped at every (re)start and at stop: callbacks of an older watch or list are ignored. */
  private generation = 0;
  private watch: Watch | undefined;
  private retryTimer: unknown;
  private catchUpTimer: unknown;
  private listing = false;
  private stopped = false;
  /** Highest revision applied (events or list). */
  private applied = 0;
  /** The map is exact once `applied` reaches this (the last page's revision). */
  private exactFrom = Infinity;
  /** The last revision at which the map was known to be exact. */
  private exactRevision = 0;
  private everSynced = false;
  private failures = 0;
  private watchStartedAt = 0;

  constructor(private readonly options: InformerOptions<T>) {
    this.prefix = options.prefix;
    this.clock = options.clock ?? systemClock;
  }

  /** Start listing and watching (idempotent). */
  start(): this {
    if (this.generation === 0 && !this.stopped) this.relist();
    return this;
  }

  /** Stop watching; pending `waitFor`s reject with InformerStoppedError. The cache keeps its last contents. */
  stop(): void {
    this.stopped = true;
    this.generation++;
    this.watch?.close();
    this.watch = undefined;
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.catchUpTimer);
    for (const w of this.waiters) {
      this.clock.clearTimeout(w.timer);
      w.reject(new InformerStoppedError(`the informer of ${this.prefix} was stopped`));
    }
    this.waiters.clear();
  }

  get(key: string): T | undefined {
    return this.items.get(key)?.value;
  }

  entry(key: string): Cached<T> | undefined {
    return this.items.get(key);
  }

  /** The cached records by key (a live view: do not hold on to it across awaits expecting it unchanged). */
  get cache(): ReadonlyMap<string, Cached<T>> {
    return this.items;
  }

  /** The store revision the cache reflects (0 before the first sync). */
  get revision(): number {
    return this.exactRevision;
  }

  /** True once the cache has been exact at some revision and is exact now (not converging after a re-list). */
  synced(): boolean {
    return this.everSynced && this.applied >= this.exactFrom;
  }

  /**
   * Resolves once the cache reflects at least `revision` — e.g. the store's current revision, so that a
   * request sees a write made a moment ago through another replica. Rejects with InformerTimeoutError
   * after `timeoutMs` (if given), with InformerStoppedError if the informer stops.
   */
  waitFor(revision: number, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return Promise.reject(new InformerStoppedError(`the informer of ${this.prefix} was stopped`));
    if (this.everSynced && this.exactRevision >= revision) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { revision, resolve, reject };
      if (options.timeoutMs !== undefined) {
        waiter.timer = this.clock.setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new InformerTimeoutError(this.prefix, revision, this.exactRevision));
        }, options.timeoutMs);
      }
      this.waiters.add(waiter);
      this.armCatchUp();
    });
  }

  /** Resolves after the first complete list (and its catch-up), for start-up. */
  ready(): Promise<void> {
    return this.waitFor(0);
  }

  /** Hear of changes from now on; returns the unsubscribe function. */
  subscribe(handlers: InformerHandlers<T>): () => void {
    this.handlers.add(handlers);
    return () => this.handlers.delete(handlers);
  }

  private relist(): void {
    const generation = ++this.generation;
    this.watch?.close();
    this.watch = undefined;
    this.listing = true;
    this.list().then(
      (listed) => {
        if (generation !== this.generation) return;
        this.listing = false;
        this.replace(listed.items);
        this.applied = listed.firstRevision;
        this.exactFrom = listed.lastRevision;
        this.watchStartedAt = this.clock.now();
        try {
          this.watch = this.options.store.watch('', { fromRevision: listed.firstRevision + 1 }, {
            onEvents: (events) => {
              if (generation === this.generation) this.apply(events);
            },
            onError: (error) => {
              if (generation === this.generation) this.failed('watch', error);
            },
          });
        } catch (error) {
          // A store that refuses the watch outright (closed, unreachable) is a watch failure like any other.
          this.failed('watch', error);
          return;
        }
        this.advance(listed.firstRevision);
      },
      (error: unknown) => {
        if (generation !== this.generation) return;
        this.listing = false;
        this.failed('list', error);
      },
    );
  }

  private async list(): Promise<{ items: Map<string, Cached<T>>; firstRevision: number; lastRevision: number }> {
    const items = new Map<string, Cached<T>>();
    const limit = this.options.pageSize ?? 1000;
    let after: string | undefined;
    let firstRevision: number | undefined;
    let lastRevision = 0;
    for (;;) {
      const page = await this.options.store.range(this.prefix, { limit, ...(after !== undefined ? { after } : {}) });
      firstRevision ??= page.revision;
      lastRevision = page.revision;
      for (const e of page.entries) {
        const value = this.parse(e.value, e.key);
        if (value !== undefined) items.set(e.key, { value: value.parsed, modRevision: e.modRevision });
      }
      if (!page.more || page.entries.length === 0) break;
      after = page.entries.at(-1)!.key;
    }
    return { items, firstRevision: firstRevision ?? 0, lastRevision };
  }

  /** Swap in a fresh list, telling handlers what differs from the old cache. */
  private replace(next: Map<string, Cached<T>>): void {
    const old = new Map(this.items);
    this.items.clear();
    for (const [key, item] of next) this.items.set(key, item);
    for (const [key, item] of next) {
      const before = old.get(key);
      if (!before) this.emit((h) => h.added?.(key, item.value));
      else if (before.modRevision !== item.modRevision) this.emit((h) => h.updated?.(key, before.value, item.value));
    }
    for (const [key, before] of old) if (!next.has(key)) this.emit((h) => h.deleted?.(key, before.value));
  }

  private apply(events: readonly WatchEvent[]): void {
    let highest = this.applied;
    for (const e of events) {
      const key = e.type === 'put' ? e.entry.key : e.key;
      const revision = e.type === 'put' ? e.entry.modRevision : e.modRevision;
      if (revision > highest) highest = revision;
      if (!key.startsWith(this.prefix)) continue;
      const current = this.items.get(key);
      // Already reflected (a list page read after this change): replaying it would go back in time.
      if (current && revision <= current.modRevision) continue;
      const parsed = e.type === 'put' ? this.parse(e.entry.value, key) : undefined;
      if (parsed) {
        const item = { value: parsed.parsed, modRevision: revision };
        this.items.set(key, item);
        if (current) this.emit((h) => h.updated?.(key, current.value, item.value));
        else this.emit((h) => h.added?.(key, item.value));
      } else if (current) {
        this.items.delete(key);
        this.emit((h) => h.deleted?.(key, current.value));
      }
    }
    this.advance(highest);
  }

  private advance(revision: number): void {
    if (revision > this.applied) this.applied = revision;
    if (this.applied < this.exactFrom) return;
    this.everSynced = true;
    this.exactRevision = Math.max(this.exactRevision, this.applied);
    for (const w of this.waiters) {
      if (w.revision > this.exactRevision) continue;
      this.waiters.delete(w);
      this.clock.clearTimeout(w.timer);
      w.resolve();
    }
    if (this.waiters.size === 0) {
      this.clock.clearTimeout(this.catchUpTimer);
      this.catchUpTimer = undefined;
    }
  }

  private failed(kind: 'list' | 'watch', error: unknown): void {
    this.watch?.close();
    this.watch = undefined;
    this.generation++;
    // No longer following: not synced until a new list has converged (`revision` keeps its last value).
    this.exactFrom = Infinity;
    // Only a watch that held for a while resets the backoff: a store failing every watch at once keeps doubling.
    if (kind === 'watch' && this.clock.now() - this.watchStartedAt >= (this.options.healthyAfterMs ?? 30_000)) this.failures = 0;
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 100, maxMs: 10_000 };
    const ceiling = Math.min(maxMs, minMs * 2 ** this.failures);
    const delay = ceiling / 2 + (this.clock.random() * ceiling) / 2;
    this.failures++;
    this.report(error, { kind, prefix: this.prefix, retryInMs: Math.round(delay) });
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.clock.setTimeout(() => {
      if (!this.stopped) this.relist();
    }, delay);
  }

  /** Waiters left unsatisfied for catchUpMs while the watch is up: list again (see the class comment). */
  private armCatchUp(): void {
    if (this.catchUpTimer !== undefined) return;
    this.catchUpTimer = this.clock.setTimeout(() => {
      this.catchUpTimer = undefined;
      if (this.stopped || this.waiters.size === 0) return;
      if (this.watch && !this.listing) {
        this.report(new Error('a waited-for revision did not arrive on the watch'), { kind: 'catch-up', prefix: this.prefix });
        this.relist();
      }
      this.armCatchUp();
    }, this.options.catchUpMs ?? 1_000);
  }

  private parse(value: string, key: string): { parsed: T } | undefined {
    try {
      return { parsed: this.options.parse(value, key) };
    } catch (error) {
      this.report(error, { kind: 'parse', prefix: this.prefix, key });
      return undefined;
    }
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (error) {
        this.report(error, { kind: 'handler', prefix: this.prefix });
      }
    }
  }

  private report(error: unknown, failure: InformerFailure): void {
    try {
      this.options.onError?.(error, failure);
    } catch {
      // Reporting must never break the cache.
    }
  }
}
