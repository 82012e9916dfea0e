import type { Compare, Entry, LeaseId, Op, RangeOptions, RangeResult, Store, TxnResult, Watch, WatchListener, WatchOptions } from './store.js';

/**
 * A Store that hands every call to the one below: the base of stores that change only a call or two (the
 * fenced leader's store, the timed store), so each says only what it changes.
 */
export class ForwardingStore implements Store {
  constructor(protected readonly inner: Store) {}

  txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    return this.inner.txn(compares, ops);
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
