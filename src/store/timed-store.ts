import type { Compare, Entry, LeaseId, Op, RangeOptions, RangeResult, Store, TxnResult, Watch, WatchListener, WatchOptions } from './store.js';

/** How a timed transaction ended: committed, refused by a compare, or failed (the backend threw). */
export type TxnOutcome = 'succeeded' | 'compare_failed' | 'error';

/**
 * A Store whose every `txn` reports its latency to `observe` (operators' metrics): the one place all of
 * berth's writes pass, whichever backend sits below. Everything else is handed straight through.
 */
export class TimedStore implements Store {
  constructor(
    private readonly inner: Store,
    private readonly observe: (seconds: number, outcome: TxnOutcome) => void,
  ) {}

  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    const started = performance.now();
    try {
      const result = await this.inner.txn(compares, ops);
      this.observe((performance.now() - started) / 1000, result.succeeded ? 'succeeded' : 'compare_failed');
      return result;
    } catch (error) {
      this.observe((performance.now() - started) / 1000, 'error');
      throw error;
    }
  }

  get(key: string): Promise<Entry | undefined> {
    return this.inner.get(key);
  }
  range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    return this.inner.range(prefix, options);
  }
  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }
  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch {
    return this.inner.watch(prefix, options, listener);
  }
  revision(): Promise<number> {
    return this.inner.revision();
  }
  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }
  grantLease(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    return this.inner.grantLease(ttlMs);
  }
  keepAliveLease(id: LeaseId): Promise<number> {
    return this.inner.keepAliveLease(id);
  }
  revokeLease(id: LeaseId): Promise<void> {
    return this.inner.revokeLease(id);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
