import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from '../../store/sqlite-migrations.js';
import { EventTable } from './events.js';
import { GroupTable } from './groups.js';
import { logMigrations } from './migrations.js';
import { StreamTable } from './streams.js';

/**
 * Log groups, streams and events in their own SQLite database (`<dataDir>/logs.db`), apart from the
 * control-plane Store: events are high-volume, append-mostly and need time-ordered range reads, which
 * a key-value store replicated by consensus is the wrong place for.
 *
 * Durability is SQLite WAL with `synchronous=NORMAL`: an acknowledged PutLogEvents survives a crash of
 * the server process; a power cut may lose the last moments (the Store, by contrast, fsyncs every commit).
 * better-sqlite3 is synchronous, so each operation runs to completion without interleaving.
 */
export class LogDatabase {
  readonly groups: GroupTable;
  readonly streams: StreamTable;
  readonly events: EventTable;
  private closed = false;

  private constructor(private readonly db: Database.Database) {
    this.groups = new GroupTable(db);
    this.streams = new StreamTable(db);
    this.events = new EventTable(db);
  }

  /** Open (creating and migrating as needed) the database at `path`, or an in-memory one for `':memory:'`. */
  static open(path: string): LogDatabase {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path, { timeout: 0 });
    try {
      if (path !== ':memory:') {
        // Like the Store: one server per data directory, refused at start rather than corrupted later.
        db.pragma('locking_mode = EXCLUSIVE');
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec('BEGIN IMMEDIATE; COMMIT;');
      }
      migrate(db, logMigrations);
      return new LogDatabase(db);
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code === 'SQLITE_BUSY') {
        throw new Error(`the log database at ${path} is in use by another process`, { cause: error });
      }
      throw error;
    }
  }

  /** Run `fn` in one transaction (all its writes or none). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
