import {
  StoreUnavailableError,
  type Compare,
  type Entry,
  type LeaseId,
  type Op,
  type RangeOptions,
  type RangeResult,
  type Store,
  type TxnResult,
  type Watch,
  type WatchListener,
  type WatchOptions,
} from '../store/store.js';

/**
 * One replica's view of a shared store that a test can cut off, as a network partition would: while cut, every
 * call fails with StoreUnavailableError and watches deliver nothing (their events are lost, as a broken etcd
 * stream's would be, and the watch ends with an error). The store itself goes on — leases the replica no
 * longer keeps alive expire there. `leaseCallsFail` fails only keepalives and revokes (the narrowest fault that
 * must depose a leader; the lease then ends only by expiry). `close()` leaves the shared store open.
 */
export class CutOffStore implements Store {
  cut = false;
  leaseCallsFail = false;
  private readonly watches = new Set<{ inner: Watch; listener: WatchListener }>();

  constructor(private readonly inner: Store) {}

  /** Cut the replica off (ending its watches with an error) or reconnect it. */
  setCut(cut: boolean): void {
    this.cut = cut;
    if (!cut) return;
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      w.inner.close();
      w.listener.onError(new StoreUnavailableError('cut off from the store'));
    }
  }

  private check(): void {
    if (this.cut) throw new StoreUnavailableError('cut off from the store');
  }

  async get(key: string): Promise<Entry | undefined> {
    this.check();
    return this.inner.get(key);
  }
  async range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    this.check();
    return this.inner.range(prefix, options);
  }
  async count(prefix: string): Promise<number> {
    this.check();
    return this.inner.count(prefix);
  }
  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    this.check();
    return this.inner.txn(compares, ops);
  }
  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch {
    if (this.cut) {
      queueMicrotask(() => listener.onError(new StoreUnavailableError('cut off from the store')));
      return { close: () => {} };
    }
    const entry = {
      listener,
      inner: this.inner.watch(prefix, options, {
        onEvents: (events) => {
          if (!this.cut) listener.onEvents(events);
        },
        onError: (error) => {
          this.watches.delete(entry);
          listener.onError(error);
        },
      }),
    };
    this.watches.add(entry);
    return {
      close: () => {
        this.watches.delete(entry);
        entry.inner.close();
      },
    };
  }
  async revision(): Promise<number> {
    this.check();
    return this.inner.revision();
  }
  async compact(revision: number): Promise<void> {
    this.check();
    return this.inner.compact(revision);
  }
  async grantLease(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    this.check();
    return this.inner.grantLease(ttlMs);
  }
  async keepAliveLease(id: LeaseId): Promise<number> {
    this.check();
    if (this.leaseCallsFail) throw new StoreUnavailableError('keepalive failed (test)');
    return this.inner.keepAliveLease(id);
  }
  async revokeLease(id: LeaseId): Promise<void> {
    this.check();
    if (this.leaseCallsFail) throw new StoreUnavailableError('revoke failed (test)');
    return this.inner.revokeLease(id);
  }
  async close(): Promise<void> {
    for (const w of this.watches) w.inner.close();
    this.watches.clear();
  }
}
