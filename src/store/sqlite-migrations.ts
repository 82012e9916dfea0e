import type Database from 'better-sqlite3';

/**
 * The SQLite schema, as numbered migrations applied in order inside one transaction each. The number of
 * the last applied migration is kept in `PRAGMA user_version`. Never edit a released migration: append one.
 */
export interface SqliteMigration {
  readonly version: number;
  readonly name: string;
  readonly up: (db: Database.Database) => void;
}

export const sqliteMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'revisioned key-value store with change history',
    up: (db) =>
      db.exec(`
        CREATE TABLE kv (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          create_revision INTEGER NOT NULL,
          mod_revision INTEGER NOT NULL,
          version INTEGER NOT NULL
        ) WITHOUT ROWID;
        -- One row per key changed by a commit, for watches that resume from an earlier revision.
        CREATE TABLE history (
          revision INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          key TEXT NOT NULL,
          value TEXT,            -- NULL for a delete
          create_revision INTEGER NOT NULL,
          version INTEGER NOT NULL,
          PRIMARY KEY (revision, seq)
        ) WITHOUT ROWID;
        CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO meta (name, value) VALUES ('revision', 0), ('compact_revision', 0);
      `),
  },
  {
    version: 2,
    name: 'keys attached to leases',
    // The lease id (decimal) a key is attached to, NULL when none. Leases themselves live in the process
    // that granted them: on open, every key still attached to one is deleted (see SqliteStore).
    up: (db) =>
      db.exec(`
        ALTER TABLE kv ADD COLUMN lease TEXT;
        ALTER TABLE history ADD COLUMN lease TEXT;
        CREATE INDEX kv_lease ON kv (lease) WHERE lease IS NOT NULL;
      `),
  },
];

/** Apply every migration newer than the database's user_version. Returns the versions applied. */
export function migrate(db: Database.Database, migrations: readonly SqliteMigration[] = sqliteMigrations): number[] {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this berth understands (${latest}); upgrade berth`);
  }
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    applied.push(m.version);
  }
  return applied;
}
