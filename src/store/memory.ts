import { LeaseTable } from './lease-table.js';
import { WatchHub } from './watch-hub.js';
import {
  checkTxn,
  compareKeys,
  type LeaseId,
  type TxnLimits,
  type Compare,
  type Entry,
  type Op,
  type RangeOptions,
  type RangeResult,
  type Store,
  type TxnResult,
  type Watch,
  type WatchEvent,
  type WatchListener,
  type WatchOptions,
} from './store.js';

/** A Store held in process memory: for unit tests and throwaway servers. Nothing survives the process. */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();
  /** Every key, kept sorted so ranges are a binary search plus a slice. */
  private readonly keys: string[] = [];
  private currentRevision = 0;
  private readonly hub: WatchHub;
  private readonly leases = new LeaseTable((_id, keys) => this.deleteLeased(keys));
  private readonly limits: TxnLimits;
  private closed = false;

  /** `limits` (default: none) lets tests hold code to the limits of a backend that has them (etcd). */
  constructor(options: { historyLimit?: number; limits?: TxnLimits } = {}) {
    this.hub = new WatchHub(options.historyLimit ?? 10_000);
    this.limits = options.limits ?? {};
  }

  async get(key: string): Promise<Entry | undefined> {
    this.assertOpen();
    return this.entries.get(key);
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    this.assertOpen();
    const { after, limit = Infinity, reverse = false } = options;
    const out: Entry[] = [];
    let more = false;
    if (!reverse) {
      let i = this.lowerBound(after !== undefined && compareKeys(after, prefix) >= 0 ? after : prefix);
      if (after !== undefined && this.keys[i] === after) i++;
      for (; i < this.keys.length && this.keys[i]!.startsWith(prefix); i++) {
        if (out.length === limit) {
          more = true;
          break;
        }
        out.push(this.entries.get(this.keys[i]!)!);
      }
    } else {
      let i = this.lowerBound(prefix);
      let end = i;
      while (end < this.keys.length && this.keys[end]!.startsWith(prefix)) end++;
      if (after !== undefined) end = Math.min(end, this.lowerBound(after));
      for (let j = end - 1; j >= i; j--) {
        if (out.length === limit) {
          more = true;
          break;
        }
        out.push(this.entries.get(this.keys[j]!)!);
      }
    }
    return { entries: out, revision: this.currentRevision, more };
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    let n = 0;
    for (let i = this.lowerBound(prefix); i < this.keys.length && this.keys[i]!.startsWith(prefix); i++) n++;
    return n;
  }

  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    this.assertOpen();
    const merged = checkTxn(compares, ops, this.limits);
    for (const c of compares) {
      if ((this.entries.get(c.key)?.modRevision ?? 0) !== c.modRevision) {
        return { succeeded: false, revision: this.currentRevision };
      }
    }
    for (const op of merged) if (op.type === 'put' && op.lease !== undefined) this.leases.assertLive(op.lease);
    return { succeeded: true, revision: this.commit(merged) };
  }

  async grantLease(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }> {
    this.assertOpen();
    return this.leases.grant(ttlMs);
  }

  async keepAliveLease(id: LeaseId): Promise<number> {
    this.assertOpen();
    return this.leases.keepAlive(id);
  }

  async revokeLease(id: LeaseId): Promise<void> {
    this.assertOpen();
    this.deleteLeased(this.leases.revoke(id));
  }

  /** Apply `ops` (one per key) as one revision, unless none changes anything. Returns the store revision. */
  private commit(ops: readonly Op[]): number {
    const revision = this.currentRevision + 1;
    const events: WatchEvent[] = [];
    for (const op of ops) {
      const existing = this.entries.get(op.key);
      this.leases.detach(op.key, existing?.lease);
      if (op.type === 'put') {
        const entry: Entry = {
          key: op.key,
          value: op.value,
          createRevision: existing?.createRevision ?? revision,
          modRevision: revision,
          version: (existing?.version ?? 0) + 1,
          ...(op.lease !== undefined && { lease: op.lease }),
        };
        if (op.lease !== undefined) this.leases.attach(op.key, op.lease);
        if (!existing) this.keys.splice(this.lowerBound(op.key), 0, op.key);
        this.entries.set(op.key, entry);
        events.push({ type: 'put', entry });
      } else if (existing) {
        this.entries.delete(op.key);
        this.keys.splice(this.lowerBound(op.key), 1);
        events.push({ type: 'delete', key: op.key, modRevision: revision });
      }
    }
    // Like etcd, a transaction that changes nothing (deletes of absent keys) does not use up a revision.
    if (events.length === 0) return this.currentRevision;
    this.currentRevision = revision;
    this.hub.publish(revision, events);
    return revision;
  }

  private deleteLeased(keys: readonly string[]): void {
    if (this.closed) return;
    this.commit(keys.map((key) => ({ type: 'delete', key })));
  }

  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch {
    this.assertOpen();
    return this.hub.subscribe(prefix, options.fromRevision ?? this.currentRevision + 1, listener);
  }

  async revision(): Promise<number> {
    return this.currentRevision;
  }

  async compact(revision: number): Promise<void> {
    this.hub.compact(revision);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.leases.clear();
    this.hub.closeAll();
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.keys[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}
