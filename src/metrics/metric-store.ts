import { randomInt } from 'node:crypto';
import { closeSync, fdatasync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { addToSlot, FIELDS, type Aggregate } from './aggregate.js';
import { BatchedUpsert } from './batched-upsert.js';
import { GroupCommit } from './group-commit.js';
import { mergeRow, ReadCache } from './read-cache.js';
import { LEVELS, levelFor, SLOTS, type Level } from './levels.js';
import { SampleBatch, type Aggregated, type BatchSeries } from './sample-batch.js';
import { seriesKey, seriesMemoKey, type Dimension, type SeriesRef } from './series.js';
import { addKey, decodeSketch, encodeSketch, float64View, keyOf, type Sketch } from './sketch.js';

/**
 * The durable time-series store behind the CloudWatch metrics API: one SQLite database (WAL) in the directory
 * every replica shares (see docs/architecture.md "Metrics").
 *
 * - `series`: one row per metric (namespace, name, dimensions), its unit and when it was last put (ListMetrics'
 *   RecentlyActive).
 * - `agg`: per series, level (levels.ts) and span of 60 slots, per *writer*: the slots' count/sum/min/max as 240
 *   float64. The writer is a random id per process: each process only ever writes its own rows, so it can keep
 *   them in memory and write them whole, with no read per datapoint and no race with another replica writing the
 *   same series and minute; a read merges the writers' rows (one, usually).
 * - `sketch`: per series, level, slot and writer, the slot's sketch (sketch.ts), for percentiles: one row per slot
 *   so that a flush rewrites only the slots it touched. Ingest writes the 1-second and 1-minute levels' sketches
 *   only; a 5-minute or hour percentile merges the minute sketches (exact: sketches add), and before those age out
 *   the leader's sweep rolls them up into 5-minute and hour sketches ({@link MetricStore.rollUp}, writer 0) once no
 *   datapoint can still arrive for them (PutMetricData takes timestamps up to two weeks old).
 *
 * Ingest is grouped (group-commit.ts): PutMetricData calls arriving while the last commit is being fsynced are
 * folded into the rows in memory and written in one transaction, one upsert per row touched (a batch of 1,000
 * datapoints over 100 series touches 300 rows, whatever the number of calls), and every call is answered after
 * that commit is durable: SQLite commits with synchronous=NORMAL (into the write-ahead log, no fsync on the event
 * loop), then the log is fdatasync'ed on libuv's thread pool before anyone is answered — what synchronous=FULL
 * would have synced, off the event loop. What was acknowledged survives kill -9, and power loss.
 */
export interface Sample {
  readonly series: SeriesRef;
  readonly unit: string;
  /** Epoch seconds (may be fractional). */
  readonly t: number;
  /** StorageResolution 1: also kept per second for 3 hours. */
  readonly highRes: boolean;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** One value, `sum` (count 1): kept in the sketch like `values: [sum]`, without the arrays. */
  readonly single?: boolean;
  /** The individual values (with their counts), for percentiles; absent for a statistic set. */
  readonly values?: readonly number[];
  readonly counts?: readonly number[];
}

/** One standard-resolution value of `series` at `atMs` (epoch ms): what berth's own publishers (AWS/…) write. */
export function singleValueSample(series: SeriesRef, unit: string, atMs: number, value: number, highRes = false): Sample {
  return { series, unit, t: atMs / 1000, highRes, count: 1, sum: value, min: value, max: value, single: true };
}

/** One period of a query's answer. */
export interface PeriodPoint extends Aggregate {
  /** The period's start, epoch seconds. */
  readonly t: number;
}

export interface MetricQuery {
  readonly series: SeriesRef;
  /** Epoch seconds; periods start at `start` aligned down to the level's resolution. */
  readonly start: number;
  readonly end: number;
  /** Seconds. */
  readonly period: number;
  readonly unit?: string;
  /** Read the sketches too (percentiles). */
  readonly sketches?: boolean;
}

export interface StoredSeries extends SeriesRef {
  readonly key: string;
  readonly unit: string;
  /** Epoch seconds. */
  readonly lastPut: number;
}

export interface ListFilter {
  readonly namespace?: string;
  readonly name?: string;
  /** Each must match one of the series' dimensions (Value absent: any value). */
  readonly dimensions?: readonly { readonly Name: string; readonly Value?: string }[];
  /** Epoch seconds: only series put since. */
  readonly activeSince?: number;
  /** Only series whose key sorts after this (paging). */
  readonly after?: string;
  readonly limit: number;
}

export interface MetricStoreOptions {
  /** Milliseconds since the epoch (tests drive it). */
  readonly now?: () => number;
  /** Rows kept in memory for ingest (each ~2 KiB plus its sketches); the least recently used beyond are dropped. */
  readonly cachedRows?: number;
  /** Merged rows kept in memory for queries (each 1,920 bytes): a day of 1-minute data for 100 series is 2,400. */
  readonly cachedReads?: number;
}

interface Row {
  readonly series: number;
  readonly level: Level;
  readonly start: number;
  readonly stats: Float64Array;
  /** The slots' sketches, loaded when the row is (this writer's only). */
  readonly sketches: Map<number, Sketch>;
  /** Slots whose sketch changed since the last flush. */
  readonly dirtySketches: Set<number>;
  dirty: boolean;
  used: number;
}

/** A series this store has put to: its id, and its unit and last put time as last written (or about to be). */
interface KnownSeries {
  readonly id: number;
  readonly key: string;
  readonly ref: SeriesRef;
  unit: string;
  lastPut: number;
}

/** A number per (series, level, row): numbers hash faster than strings, and this runs three times per datapoint. */
function rowKey(series: number, levelIndex: number, start: number, span: number): number {
  // start/span < 2^26 until the year 2100 even at 1-minute rows; series ids < 2^25 keep the product below 2^53.
  return (series * 4 + levelIndex) * 67_108_864 + start / span;
}

/** A query's periods as parallel arrays, index i the period starting at first + i × period. */
export interface DensePeriods {
  readonly first: number;
  readonly period: number;
  readonly length: number;
  /** 0 where the period has no data. */
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  /** With `sketches`: per period, when any value was sent one by one. */
  readonly sketches?: (Sketch | undefined)[];
}

/** Minute sketches this old can receive no more datapoints (PutMetricData's two weeks, and an hour to spare). */
const SETTLED_AFTER_S = 14 * 86_400 + 3600;
/** The writer id of rolled-up sketches (processes' ids are never 0). */
const ROLLED_WRITER = 0;

/** last_put is rewritten at most this often per series and process: RecentlyActive's window is 3 hours. */
const LAST_PUT_EVERY_S = 60;
/** The last_put of a series recorded before the commit of its first data: not listed yet. */
const NOT_PUT_YET = 0;
/** Pages of write-ahead log (4 KiB each) that trigger a checkpoint: 40 MiB. */
const CHECKPOINT_PAGES = 10_000;

export class MetricStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly writer = randomInt(1, 2 ** 47);
  /** Series put through this store, by {@link seriesMemoKey}. */
  private readonly known = new Map<string, KnownSeries>();
  /** Series whose unit or last put time the next commit writes. */
  private readonly touches = new Map<number, KnownSeries>();
  /** This writer's rows in memory, by {@link rowKey}. */
  private readonly rows = new Map<number, Row>();
  /** {@link queryDense}'s arrays, reused. */
  private scratch = new Float64Array(0);
  /** What readers read lately (see read-cache.ts). */
  private readonly reads: ReadCache;
  /** Rows folded into since the last commit: what it writes. */
  private readonly dirty = new Set<Row>();
  /** Flushes so far: a row remembers the last that touched it, and the least recent go first when memory is full. */
  private flushes = 0;
  private readonly cachedRows: number;
  private readonly commits: GroupCommit;
  private readonly walPath: string;
  /** The write-ahead log, opened for fdatasync at the first commit; closed with the store, once no sync uses it. */
  private walFd: number | undefined;
  private syncing = false;
  private closed = false;
  private readonly stmt;
  /** What a group commit writes: rows and sketches, many per statement. */
  private readonly upserts;

  constructor(path: string, options: MetricStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.cachedRows = options.cachedRows ?? 100_000;
    this.reads = new ReadCache(options.cachedReads ?? 16_384);
    // Several replicas open the same file: wait for another's write lock rather than fail.
    this.db = new Database(path, { timeout: 10_000 });
    this.walPath = `${path}-wal`;
    const wal = this.db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // In WAL mode a commit is made durable by the fdatasync of the log below, off the event loop.
    this.db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
    // A checkpoint runs inside the commit that crosses this many pages of log, on the event loop, with two fsyncs
    // (log, then database): SQLite's default (1,000) made it every third group of a steady ingest, whose commits
    // rewrite the same few hundred pages; this makes it rare, and copies each page once for many commits.
    this.db.pragma(`wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    this.commits = new GroupCommit({ commit: () => this.write(), ...(wal ? { sync: (done: (error: Error | null) => void) => this.syncWal(done) } : {}) });
    this.db.exec(`
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
      CREATE TABLE IF NOT EXISTS rollup (res INTEGER PRIMARY KEY, until INTEGER NOT NULL);
    `);
    const db = this.db;
    this.upserts = {
      rows: new BatchedUpsert(db, 'agg', ['series', 'res', 'row', 'writer', 'stats'], ['series', 'res', 'row', 'writer'], 'stats = excluded.stats'),
      sketches: new BatchedUpsert(db, 'sketch', ['series', 'res', 't', 'writer', 'data'], ['series', 'res', 't', 'writer'], 'data = excluded.data'),
    };
    this.stmt = {
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
      upsertSketch: db.prepare<[number, number, number, number, Buffer]>('INSERT INTO sketch (series, res, t, writer, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT (series, res, t, writer) DO UPDATE SET data = excluded.data'),
      statsIn: db.prepare<[number, number, number, number], { row: number; stats: Buffer }>(
        'SELECT row, stats FROM agg WHERE series = ? AND res = ? AND row >= ? AND row < ?',
      ),
      sketchesIn: db.prepare<[number, number, number, number], { t: number; data: Buffer }>('SELECT t, data FROM sketch WHERE series = ? AND res = ? AND t >= ? AND t < ?'),
      list: db.prepare<[{ after: string; namespace: string | null; name: string | null; since: number; limit: number }], { key: string; namespace: string; name: string; dims: string; unit: string; last_put: number }>(
        `SELECT key, namespace, name, dims, unit, last_put FROM series
         WHERE key > @after AND (@namespace IS NULL OR namespace = @namespace) AND (@name IS NULL OR name = @name)
           AND last_put >= @since ORDER BY key LIMIT @limit`,
      ),
      sweepLevel: db.prepare<[number, number]>('DELETE FROM agg WHERE res = ? AND row < ?'),
      sweepSketches: db.prepare<[number, number]>('DELETE FROM sketch WHERE res = ? AND t < ?'),
      rolledUntil: db.prepare<[number], { until: number }>('SELECT until FROM rollup WHERE res = ?'),
      setRolledUntil: db.prepare<[number, number]>('INSERT INTO rollup (res, until) VALUES (?, ?) ON CONFLICT (res) DO UPDATE SET until = excluded.until'),
      minuteSketches: db.prepare<[number, number], { series: number; t: number; data: Buffer }>('SELECT series, t, data FROM sketch WHERE res = 60 AND t >= ? AND t < ? ORDER BY series, t'),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      sweepSeries: db.prepare<[number]>('DELETE FROM series WHERE last_put < ? AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.series = series.id)'),
    };
  }

  /** Adds `samples` (berth's own publishers): as {@link putBatch}. */
  put(samples: readonly Sample[]): Promise<void> {
    const batch = new SampleBatch();
    for (const sample of samples) {
      const { namespace, name, dimensions } = sample.series;
      const at = batch.seriesAt(namespace, name, dimensions, sample.unit, sample.highRes);
      if (sample.single) batch.addValue(at, sample.t, sample.sum);
      else batch.addAggregated(at, sample);
    }
    return this.putBatch(batch);
  }

  /**
   * Adds `batch`: folded into this writer's rows in memory now (synchronously: the batch can be dropped as soon
   * as this returns), written by the next group commit; resolves once that commit is durable. Nothing is folded
   * when a series of the batch cannot be recorded (the promise rejects).
   */
  putBatch(batch: SampleBatch): Promise<void> {
    if (batch.size > 0) {
      const nowS = Math.floor(this.now() / 1000);
      let ids: number[];
      try {
        ids = this.seriesIds(batch.series, nowS);
      } catch (error) {
        return Promise.reject(error);
      }
      try {
        this.foldValues(batch, ids, nowS);
        for (const { at, data } of batch.aggregated) this.fold(data, batch.series[at]!.highRes, ids[at]!, nowS);
      } catch (error) {
        // Folded halfway: the rows in memory hold part of a refused request. Drop them (the database is the truth),
        // and with them what every caller still waiting for the next commit added.
        this.forget();
        this.commits.abandon(error);
        return Promise.reject(error);
      }
    }
    return this.commits.add();
  }

  /** The write-ahead log's data to disk, on the thread pool (fdatasync: the data and the size that reaches it). */
  private syncWal(done: (error: Error | null) => void): void {
    let fd: number;
    try {
      fd = this.walFd ??= openSync(this.walPath, 'r');
    } catch (error) {
      done(error as Error);
      return;
    }
    this.syncing = true;
    fdatasync(fd, (error) => {
      this.syncing = false;
      if (this.closed) this.closeWal();
      done(error);
    });
  }

  private closeWal(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }

  /** One transaction: every row touched since the last commit written once, and the series' last put times. */
  private write(): void {
    this.flushes++;
    try {
      this.db.transaction(() => {
        for (const [id, touch] of this.touches) {
          if (this.stmt.touchSeries.run(touch.unit, touch.lastPut, id).changes === 0) {
            // Swept by the leader meanwhile (no data left, put last 15 months ago): recorded again, under its id.
            this.stmt.insertSeriesWithId.run(id, touch.key, touch.ref.namespace, touch.ref.name, JSON.stringify(touch.ref.dimensions), touch.unit, touch.lastPut);
          }
        }
        const { rows, sketches } = this.upserts;
        for (const row of this.dirty) {
          rows.add(row.series, row.level.res, row.start, this.writer, Buffer.from(row.stats.buffer, row.stats.byteOffset, row.stats.byteLength));
          for (const slot of row.dirtySketches) {
            sketches.add(row.series, row.level.res, row.start + slot * row.level.res, this.writer, encodeSketch(row.sketches.get(slot)!));
          }
        }
        rows.finish();
        sketches.finish();
      })();
    } catch (error) {
      this.upserts.rows.reset();
      this.upserts.sketches.reset();
      // The rows in memory may hold what was not written: drop them, the database is the truth.
      this.forget();
      throw error;
    }
    for (const row of this.dirty) {
      row.dirtySketches.clear();
      row.dirty = false;
      // What readers cached of this row is older than what was just written.
      this.reads.delete(rowKey(row.series, LEVELS.indexOf(row.level), row.start, row.level.span));
    }
    // A series recorded or its unit changed: readers look it up again.
    if (this.touches.size > 0) this.reads.series.clear();
    this.dirty.clear();
    this.touches.clear();
    this.evict();
  }

  /** Drops everything held in memory for writing (rows, series ids, pending touches): read back from disk on next use. */
  private forget(): void {
    this.rows.clear();
    this.dirty.clear();
    this.touches.clear();
    this.known.clear();
  }

  /**
   * The batch's plain values, the common datum: each value's bucket computed once for the levels it adds to, and
   * the row of the series' last value at each level tried before the map of rows (a series' values of one request
   * usually fall in one row per level).
   */
  private foldValues(batch: SampleBatch, ids: readonly number[], nowS: number): void {
    const { at, t: times, value: values } = batch;
    const levels = LEVELS.length;
    const last = new Array<Row | undefined>(batch.series.length * levels);
    const youngest = nowS - LEVELS[0]!.retention;
    for (let i = 0; i < at.length; i++) {
      const s = at[i]!;
      const t = times[i]!;
      const v = values[i]!;
      const key = keyOf(v);
      // Per-second rows only for high-resolution data young enough to be kept.
      const first = batch.series[s]!.highRes && t >= youngest ? 0 : 1;
      for (let l = first; l < levels; l++) {
        const level = LEVELS[l]!;
        const start = Math.floor(t / level.span) * level.span;
        let row = last[s * levels + l];
        if (row === undefined || row.start !== start) last[s * levels + l] = row = this.row(ids[s]!, l, start);
        const slot = Math.floor((t - start) / level.res);
        addToSlot(row.stats, slot, 1, v, v, v);
        // Coarser levels' sketches come from the minute ones (query time, then the leader's roll-up).
        if (level.res <= 60) {
          let sketch = row.sketches.get(slot);
          if (!sketch) row.sketches.set(slot, (sketch = new Map()));
          addKey(sketch, key, 1);
          row.dirtySketches.add(slot);
        }
        if (!row.dirty) {
          row.dirty = true;
          this.dirty.add(row);
        }
      }
    }
  }

  /** A statistic set, or values with counts. */
  private fold(data: Aggregated, highRes: boolean, series: number, nowS: number): void {
    // Each value's bucket once, for the three or four levels it adds to.
    const keys = data.values && data.values.length > 0 ? data.values.map(keyOf) : undefined;
    for (let l = 0; l < LEVELS.length; l++) {
      const level = LEVELS[l]!;
      if (level.res === 1 && (!highRes || data.t < nowS - level.retention)) continue;
      const start = Math.floor(data.t / level.span) * level.span;
      const slot = Math.floor((data.t - start) / level.res);
      const row = this.row(series, l, start);
      addToSlot(row.stats, slot, data.count, data.sum, data.min, data.max);
      if (keys && level.res <= 60) {
        let sketch = row.sketches.get(slot);
        if (!sketch) row.sketches.set(slot, (sketch = new Map()));
        for (let i = 0; i < keys.length; i++) addKey(sketch, keys[i]!, data.counts?.[i] ?? 1);
        row.dirtySketches.add(slot);
      }
      if (!row.dirty) {
        row.dirty = true;
        this.dirty.add(row);
      }
    }
  }

  /**
   * The stored id of each series, recording series never put before (in one transaction of their own, with no
   * last put time yet: ListMetrics lists a series only once the commit of its first data has written one); a
   * series' unit and last put time are written with the next commit.
   */
  private seriesIds(series: readonly BatchSeries[], nowS: number): number[] {
    const ids = new Array<number>(series.length);
    const memoKeys = series.map((s) => seriesMemoKey(s.series.namespace, s.series.name, s.series.dimensions));
    let unknown: number[] | undefined;
    for (let i = 0; i < series.length; i++) {
      const known = this.known.get(memoKeys[i]!);
      if (!known) {
        (unknown ??= []).push(i);
        continue;
      }
      ids[i] = known.id;
      this.touch(known, series[i]!.unit, nowS);
    }
    if (unknown) {
      this.db.transaction(() => {
        for (const i of unknown) {
          const { series: ref, unit } = series[i]!;
          let known = this.known.get(memoKeys[i]!);
          if (!known) {
            const key = seriesKey(ref);
            this.stmt.insertSeries.run(key, ref.namespace, ref.name, JSON.stringify(ref.dimensions), unit, NOT_PUT_YET);
            const found = this.stmt.seriesByKey.get(key)!;
            known = { id: found.id, key, ref, unit: found.unit, lastPut: found.last_put };
            this.known.set(memoKeys[i]!, known);
          }
          ids[i] = known.id;
          this.touch(known, unit, nowS);
        }
      })();
      // Readers may have cached these series as absent.
      this.reads.series.clear();
    }
    return ids;
  }

  /** The series' unit and last put time are written with the next commit when they changed (last put: a minute at most stale). */
  private touch(known: KnownSeries, unit: string, nowS: number): void {
    if (known.unit === unit && nowS - known.lastPut < LAST_PUT_EVERY_S) return;
    known.unit = unit;
    known.lastPut = Math.max(known.lastPut, nowS);
    this.touches.set(known.id, known);
  }

  /** This writer's row, from memory or (a row dropped from memory, or written before a restart of the cache) from disk. */
  private row(series: number, levelIndex: number, start: number): Row {
    const level = LEVELS[levelIndex]!;
    const cacheKey = rowKey(series, levelIndex, start, level.span);
    let row = this.rows.get(cacheKey);
    if (row) {
      row.used = this.flushes;
      return row;
    }
    const stored = this.stmt.ownRow.get(series, level.res, start, this.writer);
    const sketches = new Map<number, Sketch>();
    if (stored) {
      for (const s of this.stmt.ownSketches.all(series, level.res, start, start + level.span, this.writer)) {
        sketches.set((s.t - start) / level.res, decodeSketch(s.data));
      }
    }
    row = {
      series,
      level,
      start,
      stats: stored ? new Float64Array(float64View(stored.stats)) : new Float64Array(SLOTS * FIELDS),
      sketches,
      dirtySketches: new Set(),
      dirty: false,
      used: this.flushes,
    };
    this.rows.set(cacheKey, row);
    return row;
  }

  /** Over the limit, drops the least recently used rows (written already: a dropped row is read back on its next use). */
  private evict(): void {
    const excess = this.rows.size - this.cachedRows;
    if (excess <= 0) return;
    const byAge = [...this.rows].filter(([, row]) => !row.dirty).sort((a, b) => a[1].used - b[1].used);
    // A tenth more than needed, so that a full cache does not sort on every flush.
    for (const [key] of byAge.slice(0, excess + Math.floor(this.cachedRows / 10))) this.rows.delete(key);
  }

  /** The series `ref` as stored, if it was ever put. */
  find(ref: SeriesRef): { id: number; unit: string } | undefined {
    this.reads.validate(this.stmt.dataVersion.get()!);
    const key = seriesKey(ref);
    let found = this.reads.series.get(key);
    if (found === undefined) {
      found = this.stmt.seriesByKey.get(key) ?? null;
      this.reads.series.set(key, found && { id: found.id, unit: found.unit });
    }
    return found ?? undefined;
  }

  /** Every writer's rows of a series and level from `firstRow` to `end`, merged by start, and kept for the next reader. */
  private loadRows(series: number, levelIndex: number, firstRow: number, end: number): Map<number, Float64Array> {
    const level = LEVELS[levelIndex]!;
    const merged = new Map<number, Float64Array>();
    for (const r of this.stmt.statsIn.all(series, level.res, firstRow, end)) {
      const stats = float64View(r.stats);
      const into = merged.get(r.row);
      if (into) mergeRow(into, stats);
      // A copy: SQLite's buffer may be a view of memory it reuses.
      else merged.set(r.row, new Float64Array(stats));
    }
    for (let start = firstRow; start < end; start += level.span) this.reads.set(rowKey(series, levelIndex, start, level.span), merged.get(start) ?? null);
    return merged;
  }

  /**
   * The periods of `query.series` that hold data, ascending: the first starts at `start` aligned down to the level's
   * resolution, each lasts `period`, the last starts before `end`. Read from the coarsest level whose resolution
   * divides the period (exact, and the fewest rows); what that level no longer retains is simply absent.
   */
  query(query: MetricQuery): PeriodPoint[] {
    const dense = this.queryDense(query);
    const out: PeriodPoint[] = [];
    for (let i = 0; i < dense.length; i++) {
      if (dense.count[i] === 0) continue;
      const sketch = dense.sketches?.[i];
      out.push({ t: dense.first + i * dense.period, count: dense.count[i]!, sum: dense.sum[i]!, min: dense.min[i]!, max: dense.max[i]!, ...(sketch ? { sketch } : {}) });
    }
    return out;
  }

  /**
   * The same as parallel arrays over every period of the range (what GetMetricData and alarms read: no object per
   * period). The arrays are this store's own and reused by its next query: read them before querying again (a fresh
   * set of four per query cost more than the query itself: typed arrays this size are allocated outside the heap).
   */
  queryDense(query: MetricQuery): DensePeriods {
    const levelIndex = LEVELS.indexOf(levelFor(query.period));
    const level = LEVELS[levelIndex]!;
    const first = Math.floor(query.start / level.res) * level.res;
    const length = Math.max(0, Math.ceil((query.end - first) / query.period));
    if (this.scratch.length < length * 4) this.scratch = new Float64Array(length * 4);
    const count = this.scratch.subarray(0, length).fill(0);
    const sum = this.scratch.subarray(length, 2 * length).fill(0);
    const min = this.scratch.subarray(2 * length, 3 * length).fill(Infinity);
    const max = this.scratch.subarray(3 * length, 4 * length).fill(-Infinity);
    const dense: DensePeriods = { first, period: query.period, length, count, sum, min, max, ...(query.sketches ? { sketches: new Array<Sketch | undefined>(length) } : {}) };
    const found = this.find(query.series);
    if (!found || length === 0 || (query.unit !== undefined && query.unit !== found.unit)) return dense;
    const firstRow = Math.floor(first / level.span) * level.span;
    let loaded: Map<number, Float64Array> | undefined;
    for (let start = firstRow; start < query.end; start += level.span) {
      const key = rowKey(found.id, levelIndex, start, level.span);
      let stats = this.reads.get(key);
      if (stats === undefined) {
        loaded ??= this.loadRows(found.id, levelIndex, firstRow, query.end);
        stats = loaded.get(start) ?? null;
      }
      if (stats === null) continue;
      for (let slot = 0; slot < SLOTS; slot++) {
        const at = slot * FIELDS;
        const n = stats[at]!;
        if (n === 0) continue;
        const t = start + slot * level.res;
        if (t < first || t >= query.end) continue;
        const i = Math.floor((t - first) / query.period);
        count[i] = count[i]! + n;
        sum[i] = sum[i]! + stats[at + 1]!;
        if (stats[at + 2]! < min[i]!) min[i] = stats[at + 2]!;
        if (stats[at + 3]! > max[i]!) max[i] = stats[at + 3]!;
      }
    }
    if (dense.sketches) {
      const into = dense.sketches;
      const rolled = new Set<number>();
      for (const s of this.stmt.sketchesIn.all(found.id, level.res, first, query.end)) {
        if (level.res > 60) rolled.add(s.t);
        decodeSketch(s.data, (into[Math.floor((s.t - first) / query.period)] ??= new Map()));
      }
      if (level.res > 60) {
        // Minute sketches for the coarse slots not rolled up yet (the last two weeks).
        for (const s of this.stmt.sketchesIn.all(found.id, 60, first, query.end)) {
          if (rolled.has(Math.floor(s.t / level.res) * level.res)) continue;
          decodeSketch(s.data, (into[Math.floor((s.t - first) / query.period)] ??= new Map()));
        }
      }
    }
    return dense;
  }

  /** Stored series in key order, filtered (ListMetrics). */
  list(filter: ListFilter): StoredSeries[] {
    const out: StoredSeries[] = [];
    let after = filter.after ?? '';
    const page = Math.max(filter.limit, 100);
    for (;;) {
      const rows = this.stmt.list.all({ after, namespace: filter.namespace ?? null, name: filter.name ?? null, since: Math.max(filter.activeSince ?? 0, NOT_PUT_YET + 1), limit: page });
      for (const r of rows) {
        const dimensions = JSON.parse(r.dims) as Dimension[];
        if (filter.dimensions && !filter.dimensions.every((f) => dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || d.Value === f.Value)))) continue;
        out.push({ key: r.key, namespace: r.namespace, name: r.name, dimensions, unit: r.unit, lastPut: r.last_put });
        if (out.length === filter.limit) return out;
      }
      if (rows.length < page) return out;
      after = rows[rows.length - 1]!.key;
    }
  }

  /** Deletes what every level no longer retains, and series with no data left that nobody put for 15 months (the leader's sweep). */
  /**
   * Rolls the minute sketches of settled time (older than PutMetricData accepts, plus an hour) up into 5-minute and
   * hour sketches, from where the last roll-up stopped; the leader's sweep runs it before minute data ages out
   * (15 days, against two weeks of accepted lateness). Idempotent: a slot rolled twice is written the same.
   */
  rollUp(): number {
    const nowS = Math.floor(this.now() / 1000);
    const settled = nowS - SETTLED_AFTER_S;
    let written = 0;
    this.db.transaction(() => {
      for (const level of LEVELS) {
        if (level.res <= 60) continue;
        const to = Math.floor(settled / level.res) * level.res;
        // Nothing older than the minute level keeps is left to roll.
        const oldest = Math.floor((nowS - LEVELS[1]!.retention - LEVELS[1]!.span) / level.res) * level.res;
        const from = Math.max(this.stmt.rolledUntil.get(level.res)?.until ?? oldest, oldest);
        if (to <= from) continue;
        let current: { series: number; t: number; sketch: Sketch } | undefined;
        const write = () => {
          if (current) this.stmt.upsertSketch.run(current.series, level.res, current.t, ROLLED_WRITER, encodeSketch(current.sketch));
          if (current) written++;
        };
        // An hour at a time: the writes cannot interleave with an open read, and memory stays bounded.
        for (let window = from; window < to; window += 3600) {
          for (const s of this.stmt.minuteSketches.all(window, Math.min(window + 3600, to))) {
            const t = Math.floor(s.t / level.res) * level.res;
            if (!current || current.series !== s.series || current.t !== t) {
              write();
              current = { series: s.series, t, sketch: new Map() };
            }
            decodeSketch(s.data, current.sketch);
          }
          write();
          current = undefined;
        }
        this.stmt.setRolledUntil.run(level.res, to);
      }
    })();
    return written;
  }

  sweep(): { rows: number; series: number; rolled: number } {
    const rolled = this.rollUp();
    const nowS = Math.floor(this.now() / 1000);
    let rows = 0;
    let series = 0;
    this.db.transaction(() => {
      for (const level of LEVELS) {
        rows += this.stmt.sweepLevel.run(level.res, nowS - level.retention - level.span).changes;
        this.stmt.sweepSketches.run(level.res, nowS - level.retention - level.span);
      }
      series = this.stmt.sweepSeries.run(nowS - LEVELS[LEVELS.length - 1]!.retention).changes;
    })();
    // Rows swept here must not be written back from memory (nor the data folded into them since: aged out too).
    for (const [key, row] of this.rows) {
      if (row.start >= nowS - row.level.retention - row.level.span) continue;
      this.rows.delete(key);
      this.dirty.delete(row);
    }
    if (series > 0) this.known.clear();
    this.reads.clear();
    return { rows, series, rolled };
  }

  close(): void {
    this.closed = true;
    this.db.close();
    if (!this.syncing) this.closeWal();
  }
}
