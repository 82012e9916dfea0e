import Database from 'better-sqlite3';
import { LeaseTable } from './lease-table.js';
import { migrate } from './sqlite-migrations.js';
import { WatchHub, type Batch } from './watch-hub.js';
import {
  checkTxn,
  compareKeys,
  prefixEnd,
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

export interface SqliteStoreOptions {
  /** Revisions of change history kept on disk for resuming watches. */
  readonly historyRevisions?: number;
  /**
   * `full` (default) fsyncs every commit: an acknowledged write survives a crash of the process and of the
   * machine. `normal` survives a crash of the process only (SQLite WAL semantics) and is faster.
   */
  readonly durability?: 'full' | 'normal';
  /** Size limits to enforce (default: none), to hold code to the limits of a backend that has them (etcd). */
  readonly limits?: TxnLimits;
}

interface KvRow {
  key: string;
  value: string;
  create_revision: number;
  mod_revision: number;
  version: number;
  lease: string | null;
}

interface HistoryRow {
  revision: number;
  key: string;
  value: string | null;
  create_revision: number;
  version: number;
  lease: string | null;
}

const toEntry = (r: KvRow): Entry => ({
  key: r.key,
  value: r.value,
  createRevision: r.create_revision,
  modRevision: r.mod_revision,
  version: r.version,
  ...(r.lease !== null && { lease: r.lease }),
});

/**
 * The embedded default Store: one SQLite database in WAL mode, opened exclusively so that two servers can
 * never share a data directory. better-sqlite3 is synchronous, so each method runs to completion without
 * interleaving: a transaction is serialised by construction and watch order equals commit order.
 *
 * Leases are held in this process only. A key attached to one outlives a crash on disk, so opening the store
 * deletes every such key in one revision: whoever kept the lease alive was the previous process.
 */
export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly hub: WatchHub;
  private readonly historyRevisions: number;
  private readonly limits: TxnLimits;
  private readonly leases = new LeaseTable((_id, keys) => this.deleteLeased(keys));
  private currentRevision: number;
  private closed = false;
  private readonly stmt;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.historyRevisions = options.historyRevisions ?? 50_000;
    this.limits = options.limits ?? {};
    this.db = new Database(path, { timeout: 0 });
    try {
      this.db.pragma('locking_mode = EXCLUSIVE');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      // Take the exclusive lock now rather than at the first write, so a second server fails at start-up.
      this.db.exec('BEGIN IMMEDIATE; COMMIT;');
      migrate(this.db);
    } catch (error) {
      this.db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`the store at ${path} is in use by another process`, { cause: error });
      }
      throw error;
    }
    const db = this.db;
    this.stmt = {
      get: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE key = ?'),
      modRevision: db.prepare<[string], { mod_revision: number }>('SELECT mod_revision FROM kv WHERE key = ?'),
      rangeAsc: db.prepare<[string, string, number], KvRow>(
        'SELECT * FROM kv WHERE key > ? AND key < ? ORDER BY key ASC LIMIT CAST(? AS INTEGER)',
      ),
      rangeAscFrom: db.prepare<[string, string, number], KvRow>(
        'SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key ASC LIMIT CAST(? AS INTEGER)',
      ),
      rangeDesc: db.prepare<[string, string, number], KvRow>(
        'SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT CAST(? AS INTEGER)',
      ),
      count: db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM kv WHERE key >= ? AND key < ?'),
      upsert: db.prepare<[string, string, number, number, number, string | null]>(
        `INSERT INTO kv (key, value, create_revision, mod_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision,
           version = excluded.version, lease = excluded.lease`,
      ),
      leasedKeys: db.prepare<[], { key: string }>('SELECT key FROM kv WHERE lease IS NOT NULL'),
      delete: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      history: db.prepare<[number, number, string, string | null, number, number, string | null]>(
        'INSERT INTO history (revision, seq, key, value, create_revision, version, lease) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      readHistory: db.prepare<[number, number], HistoryRow>(
        'SELECT revision, key, value, create_revision, version, lease FROM history WHERE revision BETWEEN ? AND ? ORDER BY revision, seq',
      ),
      setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
      getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?'),
      compact: db.prepare<[number]>('DELETE FROM history WHERE revision <= ?'),
    };
    this.currentRevision = this.stmt.getMeta.get('revision')!.value;
    this.hub = new WatchHub(1_000, (from, to) => this.readHistory(from, to));
    this.hub.resume(this.currentRevision, this.stmt.getMeta.get('compact_revision')!.value);
    this.deleteLeased(this.stmt.leasedKeys.all().map((r) => r.key));
  }

  async get(key: string): Promise<Entry | undefined> {
    this.assertOpen();
    const row = this.stmt.get.get(key);
    return row && toEntry(row);
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    this.assertOpen();
    const { after, limit, reverse = false } = options;
    const end = prefixEnd(prefix);
    const take = limit === undefined ? -1 : limit + 1;
    let rows: KvRow[];
    if (reverse) {
      const upper = after !== undefined && compareKeys(after, end) < 0 ? after : end;
      rows = this.stmt.rangeDesc.all(prefix, upper, take);
    } else if (after !== undefined && compareKeys(after, prefix) >= 0) {
      rows = this.stmt.rangeAsc.all(after, end, take);
    } else {
      rows = this.stmt.rangeAscFrom.all(prefix, end, take);
    }
    const more = limit !== undefined && rows.length > limit;
    if (more) rows.pop();
    return { entries: rows.map(toEntry), revision: this.currentRevision, more };
  }

  async count(prefix: string): Promise<number> {
    this.assertOpen();
    return this.stmt.count.get(prefix, prefixEnd(prefix))!.n;
  }

  async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    this.assertOpen();
    const result = this.commit(compares, checkTxn(compares, ops, this.limits));
    if (result.succeeded && result.revision % 1_000 === 0 && result.revision > this.historyRevisions) {
      await this.compact(result.revision - this.historyRevisions);
    }
    return result;
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

  /** Apply `ops` (one per key) in one SQLite transaction if every compare holds. */
  private commit(compares: readonly Compare[], ops: readonly Op[]): TxnResult {
    let events: WatchEvent[] = [];
    const result = this.db
      .transaction((): TxnResult => {
        for (const c of compares) {
          if ((this.stmt.modRevision.get(c.key)?.mod_revision ?? 0) !== c.modRevision) {
            return { succeeded: false, revision: this.currentRevision };
          }
        }
        for (const op of ops) if (op.type === 'put' && op.lease !== undefined) this.leases.assertLive(op.lease);
        const revision = this.currentRevision + 1;
        events = ops.flatMap((op, seq) => this.apply(op, revision, seq));
        // Like etcd, a transaction that changes nothing (deletes of absent keys) does not use up a revision.
        if (events.length === 0) return { succeeded: true, revision: this.currentRevision };
        this.stmt.setMeta.run(revision, 'revision');
        return { succeeded: true, revision };
      })
      .immediate();
    if (result.succeeded && result.revision > this.currentRevision) {
      this.currentRevision = result.revision;
      this.hub.publish(result.revision, events);
    }
    return result;
  }

  private deleteLeased(keys: readonly string[]): void {
    if (this.closed || keys.length === 0) return;
    this.commit([], keys.map((key) => ({ type: 'delete', key })));
  }

  async compact(revision: number): Promise<void> {
    this.assertOpen();
    const through = Math.min(revision, this.currentRevision);
    this.db.transaction(() => {
      this.stmt.compact.run(through);
      this.stmt.setMeta.run(through, 'compact_revision');
    })();
    this.hub.compact(through);
  }

  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch {
    this.assertOpen();
    return this.hub.subscribe(prefix, options.fromRevision ?? this.currentRevision + 1, listener);
  }

  async revision(): Promise<number> {
    return this.currentRevision;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.leases.clear();
    this.hub.closeAll();
    this.db.close();
  }

  private apply(op: Op, revision: number, seq: number): WatchEvent[] {
    const existing = this.stmt.get.get(op.key);
    // Lease bookkeeping is in memory; it runs inside the SQLite transaction, which fails only on I/O errors.
    this.leases.detach(op.key, existing?.lease ?? undefined);
    if (op.type === 'put') {
      const createRevision = existing?.create_revision ?? revision;
      const version = (existing?.version ?? 0) + 1;
      const lease = op.lease ?? null;
      this.stmt.upsert.run(op.key, op.value, createRevision, revision, version, lease);
      this.stmt.history.run(revision, seq, op.key, op.value, createRevision, version, lease);
      if (op.lease !== undefined) this.leases.attach(op.key, op.lease);
      const entry: Entry = {
        key: op.key,
        value: op.value,
        createRevision,
        modRevision: revision,
        version,
        ...(op.lease !== undefined && { lease: op.lease }),
      };
      return [{ type: 'put', entry }];
    }
    if (!existing) return [];
    this.stmt.delete.run(op.key);
    this.stmt.history.run(revision, seq, op.key, null, existing.create_revision, 0, null);
    return [{ type: 'delete', key: op.key, modRevision: revision }];
  }

  private readHistory(from: number, to: number): Batch[] {
    const batches: Batch[] = [];
    for (const row of this.stmt.readHistory.all(from, to)) {
      let batch = batches.at(-1);
      if (!batch || batch.revision !== row.revision) {
        batch = { revision: row.revision, events: [] };
        batches.push(batch);
      }
      (batch.events as WatchEvent[]).push(
        row.value === null
          ? { type: 'delete', key: row.key, modRevision: row.revision }
          : {
              type: 'put',
              entry: {
                key: row.key,
                value: row.value,
                createRevision: row.create_revision,
                modRevision: row.revision,
                version: row.version,
                ...(row.lease !== null && { lease: row.lease }),
              },
            },
      );
    }
    return batches;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('store is closed');
  }
}
