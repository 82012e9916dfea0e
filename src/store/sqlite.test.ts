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

storeConformance('sqlite', {
  open: async () => {
    const path = join(root, `store-${n++}.db`);
    const store = new SqliteStore(path);
    paths.set(store, path);
    return store;
  },
  reopen: async (store) => {
    const path = paths.get(store)!;
    await store.close();
    const again = new SqliteStore(path);
    paths.set(again, path);
    return again;
  },
  fullHistory: true,
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

  it('compacts history on its own as revisions pass the retention window', async () => {
    const store = new SqliteStore(join(root, 'retention.db'), { historyRevisions: 500 });
    for (let i = 0; i < 1_000; i++) await store.txn([], [{ type: 'put', key: 'k', value: String(i) }]);
    const errors: Error[] = [];
    store.watch('', { fromRevision: 400 }, { onEvents: () => {}, onError: (e) => errors.push(e) });
    await expect.poll(() => errors.length).toBe(1);
    await store.close();
  });
});
