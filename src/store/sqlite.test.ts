import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite.js';
import { migrate, sqliteMigrations } from './sqlite-migrations.js';
import { storeConformance } from './store.conformance.js';
import type { Store } from './store.js';

const root = mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const paths = new WeakMap<Store, string>();

const limits = { maxValueBytes: 4_096, maxTxnOps: 64 };

storeConformance('sqlite', {
  open: async () => {
    const path = join(root, `store-${n++}.db`);
    const store = new SqliteStore(path, { limits });
    paths.set(store, path);
    return store;
  },
  reopen: async (store) => {
    const path = paths.get(store)!;
    await store.close();
    const again = new SqliteStore(path, { limits });
    paths.set(again, path);
    return again;
  },
  fullHistory: true,
  limits,
  leaseTtlMs: 150,
});

describe('SqliteStore', () => {
  it('refuses a second opener of the same database', async () => {
    const path = join(root, 'locked.db');
    const first = new SqliteStore(path);
    expect(() => new SqliteStore(path)).toThrow(/in use by another process/);
    await first.close();
    const second = new SqliteStore(path);
    await second.close();
  });

  it('applies numbered migrations once and records the version', () => {
    const db = new Database(join(root, 'migrate.db'));
    const latest = sqliteMigrations.at(-1)!.version;
    expect(migrate(db)).toEqual(sqliteMigrations.map((m) => m.version));
    expect(db.pragma('user_version', { simple: true })).toBe(latest);
    expect(migrate(db)).toEqual([]);
    const next = [...sqliteMigrations, { version: latest + 1, name: 'test', up: (d: Database.Database) => d.exec('CREATE TABLE t (x)') }];
    expect(migrate(db, next)).toEqual([latest + 1]);
    expect(() => migrate(db)).toThrow(/newer than this berth understands/);
    db.close();
  });

  it('rolls back a migration that fails, leaving the version unchanged', () => {
    const db = new Database(join(root, 'migrate-fail.db'));
    migrate(db);
    const latest = sqliteMigrations.at(-1)!.version;
    const broken = [
      ...sqliteMigrations,
      { version: latest + 1, name: 'broken', up: (d: Database.Database) => d.exec('CREATE TABLE u (x); SELECT nope FROM missing') },
    ];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(latest);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'u'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('deletes every leased key in one revision on open: their holder was the previous process', async () => {
    const path = join(root, 'leased.db');
    const first = new SqliteStore(path);
    const lease = await first.grantLease(60_000);
    const other = await first.grantLease(60_000);
    await first.txn([], [
      { type: 'put', key: 'p/a', value: '', lease: lease.id },
      { type: 'put', key: 'p/b', value: '', lease: other.id },
      { type: 'put', key: 'p/plain', value: '' },
    ]);
    expect(await first.get('p/a')).toMatchObject({ lease: lease.id });
    const before = await first.revision();
    await first.close();
    const second = new SqliteStore(path);
    expect(await second.revision()).toBe(before + 1);
    expect((await second.range('p/')).entries.map((e) => e.key)).toEqual(['p/plain']);
    const events: string[] = [];
    second.watch('p/', { fromRevision: before + 1 }, {
      onEvents: (e) => events.push(...e.map((x) => `${x.type} ${x.type === 'delete' ? x.key : x.entry.key}`)),
      onError: () => {},
    });
    await expect.poll(() => events).toEqual(['delete p/a', 'delete p/b']);
    await expect(second.keepAliveLease(lease.id)).rejects.toThrow(/not found/);
    await second.close();
    // Nothing leased left: opening again changes nothing.
    const third = new SqliteStore(path);
    expect(await third.revision()).toBe(before + 1);
    await third.close();
  });

  it('compacts history on its own as revisions pass the retention window', async () => {
    const store = new SqliteStore(join(root, 'retention.db'), { historyRevisions: 500 });
    for (let i = 0; i < 1_000; i++) await store.txn([], [{ type: 'put', key: 'k', value: String(i) }]);
    const errors: Error[] = [];
    store.watch('', { fromRevision: 400 }, { onEvents: () => {}, onError: (e) => errors.push(e) });
    await expect.poll(() => errors.length).toBe(1);
    await store.close();
  });
});
