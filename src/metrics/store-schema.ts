import Database from 'better-sqlite3';
import { BatchedUpsert } from './batched-upsert.js';

/**
 * The metric store's SQLite file: its tables and every statement the store runs on them.
 *
 * - `series`: one row per metric (namespace, name, dimensions), its unit and when it was last put (ListMetrics'
 *   RecentlyActive).
 * - `agg`: per series, level (levels.ts) and span of 60 slots, per *writer* (a random id per process: each
 *   process only ever writes its own rows), the slots' count/sum/min/max as 240 float64. A read merges the
 *   writers' rows.
 * - `sketch`: per series, level, slot and writer, the slot's sketch (sketch.ts), for percentiles.
 * - `slot_log`: what a commit changed, appended (slot-log.ts): per row touched, the changed slots' stats and
 *   sketches as they now are, for that writer. A writer rewrites its rows whole only every so many commits
 *   ("compaction"), deleting their log records in the same transaction; a reader lays the log over the rows.
 * - `rollup`: how far the leader has rolled minute sketches up into 5-minute and hour sketches.
 */
export function openMetricsDb(path: string): Database.Database {
  // Several replicas open the same file: wait for another's write lock rather than fail.
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  db.exec(`
    CREATE TABLE IF NOT EXISTS series (
      id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, namespace TEXT NOT NULL, name TEXT NOT NULL,
      dims TEXT NOT NULL, unit TEXT NOT NULL, last_put INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS series_last_put ON series (last_put);
    CREATE TABLE IF NOT EXISTS agg (
      series INTEGER NOT NULL, res INTEGER NOT NULL, row INTEGER NOT NULL, writer INTEGER NOT NULL,
      stats BLOB NOT NULL,
      UNIQUE (series, res, row, writer));
    CREATE INDEX IF NOT EXISTS agg_age ON agg (res, row);
    CREATE TABLE IF NOT EXISTS sketch (
      series INTEGER NOT NULL, res INTEGER NOT NULL, t INTEGER NOT NULL, writer INTEGER NOT NULL,
      data BLOB NOT NULL,
      UNIQUE (series, res, t, writer));
    CREATE INDEX IF NOT EXISTS sketch_age ON sketch (res, t);
    CREATE TABLE IF NOT EXISTS slot_log (
      seq INTEGER PRIMARY KEY, series INTEGER NOT NULL, res INTEGER NOT NULL, row INTEGER NOT NULL,
      writer INTEGER NOT NULL, first INTEGER NOT NULL, stats BLOB NOT NULL, sketches BLOB);
    CREATE INDEX IF NOT EXISTS slot_log_row ON slot_log (series, res, row);
    CREATE TABLE IF NOT EXISTS rollup (res INTEGER PRIMARY KEY, until INTEGER NOT NULL);
  `);
  return db;
}

export interface LogRecord {
  readonly row: number;
  readonly writer: number;
  readonly first: number;
  readonly stats: Buffer;
  readonly sketches: Buffer | null;
}

/** Every statement of the store, prepared once. */
export function prepareStatements(db: Database.Database) {
  return {
    rows: new BatchedUpsert(db, 'agg', ['series', 'res', 'row', 'writer', 'stats'], ['series', 'res', 'row', 'writer'], 'stats = excluded.stats'),
    sketches: new BatchedUpsert(db, 'sketch', ['series', 'res', 't', 'writer', 'data'], ['series', 'res', 't', 'writer'], 'data = excluded.data'),
    log: new BatchedUpsert(db, 'slot_log', ['series', 'res', 'row', 'writer', 'first', 'stats', 'sketches']),
    insertSeries: db.prepare<[string, string, string, string, string, number]>(
      'INSERT OR IGNORE INTO series (key, namespace, name, dims, unit, last_put) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertSeriesWithId: db.prepare<[number, string, string, string, string, string, number]>(
      'INSERT OR IGNORE INTO series (id, key, namespace, name, dims, unit, last_put) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    seriesByKey: db.prepare<[string], { id: number; unit: string; last_put: number }>('SELECT id, unit, last_put FROM series WHERE key = ?'),
    touchSeries: db.prepare<[string, number, number]>('UPDATE series SET unit = ?, last_put = max(last_put, ?) WHERE id = ?'),
    ownRow: db.prepare<[number, number, number, number], { stats: Buffer }>('SELECT stats FROM agg WHERE series = ? AND res = ? AND row = ? AND writer = ?'),
    ownSketches: db.prepare<[number, number, number, number, number], { t: number; data: Buffer }>(
      'SELECT t, data FROM sketch WHERE series = ? AND res = ? AND t >= ? AND t < ? AND writer = ?',
    ),
    ownLog: db.prepare<[number, number, number, number], LogRecord>(
      'SELECT row, writer, first, stats, sketches FROM slot_log WHERE series = ? AND res = ? AND row = ? AND writer = ? ORDER BY seq',
    ),
    dropOwnLog: db.prepare<[number, number, number, number]>('DELETE FROM slot_log WHERE series = ? AND res = ? AND row = ? AND writer = ?'),
    upsertSketch: db.prepare<[number, number, number, number, Buffer]>(
      'INSERT INTO sketch (series, res, t, writer, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (series, res, t, writer) DO UPDATE SET data = excluded.data',
    ),
    upsertRow: db.prepare<[number, number, number, number, Buffer]>(
      'INSERT INTO agg (series, res, row, writer, stats) VALUES (?, ?, ?, ?, ?) ON CONFLICT (series, res, row, writer) DO UPDATE SET stats = excluded.stats',
    ),
    statsIn: db.prepare<[number, number, number, number], { row: number; writer: number; stats: Buffer }>(
      'SELECT row, writer, stats FROM agg WHERE series = ? AND res = ? AND row >= ? AND row < ?',
    ),
    logIn: db.prepare<[number, number, number, number], LogRecord>(
      'SELECT row, writer, first, stats, sketches FROM slot_log WHERE series = ? AND res = ? AND row >= ? AND row < ? ORDER BY seq',
    ),
    sketchesIn: db.prepare<[number, number, number, number], { t: number; writer: number; data: Buffer }>(
      'SELECT t, writer, data FROM sketch WHERE series = ? AND res = ? AND t >= ? AND t < ?',
    ),
    list: db.prepare<
      [{ after: string; namespace: string | null; name: string | null; since: number; limit: number }],
      { key: string; namespace: string; name: string; dims: string; unit: string; last_put: number }
    >(
      `SELECT key, namespace, name, dims, unit, last_put FROM series
       WHERE key > @after AND (@namespace IS NULL OR namespace = @namespace) AND (@name IS NULL OR name = @name)
         AND last_put >= @since ORDER BY key LIMIT @limit`,
    ),
    sweepLevel: db.prepare<[number, number]>('DELETE FROM agg WHERE res = ? AND row < ?'),
    sweepLog: db.prepare<[number, number]>('DELETE FROM slot_log WHERE res = ? AND row < ?'),
    sweepSketches: db.prepare<[number, number]>('DELETE FROM sketch WHERE res = ? AND t < ?'),
    logUpTo: db.prepare<[number], { series: number; res: number; row: number; writer: number; first: number; stats: Buffer; sketches: Buffer | null }>(
      'SELECT series, res, row, writer, first, stats, sketches FROM slot_log WHERE seq <= ? ORDER BY seq',
    ),
    lastLogSeq: db.prepare<[], number | null>('SELECT max(seq) FROM slot_log').pluck(),
    dropLogUpTo: db.prepare<[number]>('DELETE FROM slot_log WHERE seq <= ?'),
    rolledUntil: db.prepare<[number], { until: number }>('SELECT until FROM rollup WHERE res = ?'),
    setRolledUntil: db.prepare<[number, number]>('INSERT INTO rollup (res, until) VALUES (?, ?) ON CONFLICT (res) DO UPDATE SET until = excluded.until'),
    minuteSketches: db.prepare<[number, number], { series: number; t: number; data: Buffer }>(
      'SELECT series, t, data FROM sketch WHERE res = 60 AND t >= ? AND t < ? ORDER BY series, t',
    ),
    dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
    sweepSeries: db.prepare<[number]>('DELETE FROM series WHERE last_put < ? AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.series = series.id)'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
