import type { SqliteMigration } from '../../store/sqlite-migrations.js';

/**
 * The log database's schema, applied with the Store's `migrate()` (numbered, one transaction each,
 * tracked in `PRAGMA user_version`). Never edit a released migration: append one.
 *
 * Ids are AUTOINCREMENT so that a deleted group's or stream's id is never handed out again: events of a
 * deleted stream are purged later, in chunks, and must never appear under a new stream.
 */
export const logMigrations: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'log groups, streams and events',
    up: (db) =>
      db.exec(`
        CREATE TABLE log_groups (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          name TEXT NOT NULL UNIQUE,
          created_ms INTEGER NOT NULL,
          retention_days INTEGER,
          log_group_class TEXT NOT NULL,
          tags TEXT NOT NULL
        );
        CREATE TABLE log_streams (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          group_id INTEGER NOT NULL,
          name TEXT NOT NULL,
          created_ms INTEGER NOT NULL,
          first_event_ms INTEGER,               -- NULL until the first event
          last_event_ms INTEGER NOT NULL DEFAULT 0,
          last_ingestion_ms INTEGER,
          stored_bytes INTEGER NOT NULL DEFAULT 0,
          uploads INTEGER NOT NULL DEFAULT 0,
          UNIQUE (group_id, name)
        );
        -- DescribeLogStreams orderBy LastEventTime, as a keyset.
        CREATE INDEX log_streams_by_last_event ON log_streams (group_id, last_event_ms, name);
        CREATE TABLE log_events (
          id INTEGER PRIMARY KEY AUTOINCREMENT, -- arrival order: breaks ties between equal timestamps
          group_id INTEGER NOT NULL,
          stream_id INTEGER NOT NULL,
          ts INTEGER NOT NULL,                  -- the event's timestamp, epoch ms
          ingested INTEGER NOT NULL,
          message TEXT NOT NULL
        );
        -- The rowid is implicitly the last column of each index, so both serve ORDER BY ts, id keysets:
        -- GetLogEvents walks one stream, FilterLogEvents a whole group in time order.
        CREATE INDEX log_events_by_stream ON log_events (stream_id, ts);
        CREATE INDEX log_events_by_group ON log_events (group_id, ts);
        -- Deleted streams whose events the sweep has yet to purge.
        CREATE TABLE doomed_streams (stream_id INTEGER PRIMARY KEY) WITHOUT ROWID;
      `),
  },
];
