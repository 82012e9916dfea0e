/**
 * A work queue of keys, as Kubernetes controllers use one: events only add keys; workers take them one at a
 * time and run a pass that re-reads the whole state of that key.
 *
 *   add(k) ──▶ queued ──worker takes it──▶ processing ──pass ends──▶ done
 *                 ▲                            │ add(k) meanwhile: dirty
 *                 └──── dirty, or requeued ◀───┘ pass failed: again after a per-key backoff
 *
 * - A key is queued at most once, however often it is added (events coalesce).
 * - A key is never processed by two workers at once: added while processing, it runs again afterwards.
 * - A failed pass is retried after a backoff that doubles per consecutive failure of that key; a pass
 *   that succeeds resets it. A pass may ask to be run again after a delay (`requeueAfterMs`).
 * - A key's passes start at least `minIntervalMs` apart: a burst of events (a hundred tasks reporting
 *   RUNNING) makes a few passes, not a hundred.
 */
export interface WorkQueueOptions<K> {
  /** One pass over one key. */
  readonly process: (key: K) => Promise<{ requeueAfterMs?: number } | void>;
  /** Passes that may run at once (over different keys). */
  readonly workers: number;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Least time from the end of one pass over a key to the start of the next (default 0). */
  readonly minIntervalMs?: number;
  readonly onError?: (key: K, error: unknown) => void;
}

export class WorkQueue<K> {
  private readonly queue: K[] = [];
  private readonly queued = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly lastEnded = new Map<K, number>();
  private readonly timers = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private active = 0;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions<K>) {}

  /** Queue `key` for a pass (no-op if already queued; runs again after the current pass if one is running). */
  add(key: K): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    const wait = (this.lastEnded.get(key) ?? -Infinity) + (this.options.minIntervalMs ?? 0) - Date.now();
    if (wait > 0) {
      this.addAfter(key, wait);
      return;
    }
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Queue `key` after `delayMs` (an earlier pending time for the same key wins). */
  addAfter(key: K, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Keys queued or being processed. */
  get size(): number {
    return this.queued.size + this.processing.size;
  }

  /** Resolves when nothing is queued or processing (timers may still be pending). */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop taking keys and wait for the passes under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    while (this.processing.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private pump(): void {
    while (!this.stopped && this.active < this.options.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      // run() settles every pass itself (failures go to onError and a backoff), so it never rejects.
      void this.run(key);
    }
  }

  private async run(key: K): Promise<void> {
    let requeueAfterMs: number | undefined;
    let failed = false;
    try {
      const result = await this.options.process(key);
      requeueAfterMs = result ? result.requeueAfterMs : undefined;
      this.failures.delete(key);
    } catch (error) {
      failed = true;
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      try {
        this.options.onError?.(key, error);
      } catch {
        // A failing error report must not stop the queue.
      }
      const base = this.options.baseBackoffMs ?? 100;
      requeueAfterMs = Math.min(this.options.maxBackoffMs ?? 30_000, base * 2 ** (n - 1));
    } finally {
      this.processing.delete(key);
      this.lastEnded.set(key, Date.now());
      this.active--;
    }
    if (this.dirty.delete(key) && !failed) this.add(key);
    if (requeueAfterMs !== undefined) this.addAfter(key, requeueAfterMs);
    this.pump();
    if (this.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
