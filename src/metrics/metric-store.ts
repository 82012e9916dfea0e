import { randomInt } from 'node:crypto';
import Database from 'better-sqlite3';
import { addToSlot, FIELDS, type Aggregate } from './aggregate.js';
import { LEVELS, levelFor, SLOTS, type Level } from './levels.js';
import { seriesKey, type Dimension, type SeriesRef } from './series.js';
import { addTo, decodeSketches, encodeSketches, float64View, mergeInto, type Sketch } from './sketch.js';

/**
 * The durable time-series store behind the CloudWatch metrics API: one SQLite database (WAL) in the directory
 * every replica shares (see docs/architecture.md "Metrics").
 *
 * - `series`: one row per metric (namespace, name, dimensions), its unit and when it was last put (ListMetrics'
 *   RecentlyActive).
 * - `agg`: per series, level (levels.ts) and span of 60 slots, per *writer*: the slots' count/sum/min/max as 240
 *   float64 and the slots' sketches (sketch.ts). The writer is a random id per process: each process only ever
 *   writes its own rows, so it can keep them in memory and write them whole, with no read per datapoint and no
 *   race with another replica writing the same series and minute; a read merges the writers' rows (one, usually).
 *
 * Ingest is grouped: PutMetricData calls arriving in the same event-loop turn are folded into the rows in memory
 * and written in one transaction, one upsert per row touched (a batch of 1,000 datapoints over 100 series touches
 * 300 rows, whatever the number of calls), and every call is answered after that commit is durable
 * (synchronous=FULL: fsynced). What was acknowledged survives kill -9.
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
  /** The individual values (with their counts), for percentiles; absent for a statistic set. */
  readonly values?: readonly number[];
  readonly counts?: readonly number[];
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
}

interface Row {
  readonly series: number;
  readonly level: Level;
  readonly start: number;
  readonly stats: Float64Array;
  readonly sketches: Map<number, Sketch>;
  dirty: boolean;
}

interface Pending {
  readonly samples: readonly Sample[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** last_put is rewritten at most this often per series and process: RecentlyActive's window is 3 hours. */
const LAST_PUT_EVERY_S = 60;

export class MetricStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly writer = randomInt(1, 2 ** 47);
  private readonly seriesIds = new Map<string, { id: number; unit: string; lastPut: number }>();
  private readonly rows = new Map<string, Row>();
  private readonly cachedRows: number;
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly stmt;

  constructor(path: string, options: MetricStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.cachedRows = options.cachedRows ?? 100_000;
    // Several replicas open the same file: wait for another's write lock rather than fail.
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS series (
        id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, namespace TEXT NOT NULL, name TEXT NOT NULL,
        dims TEXT NOT NULL, unit TEXT NOT NULL, last_put INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS series_last_put ON series (last_put);
      CREATE TABLE IF NOT EXISTS agg (
        series INTEGER NOT NULL, res INTEGER NOT NULL, row INTEGER NOT NULL, writer INTEGER NOT NULL,
        stats BLOB NOT NULL, sketches BLOB,
        PRIMARY KEY (series, res, row, writer)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS agg_age ON agg (res, row);
    `);
    const db = this.db;
    this.stmt = {
      insertSeries: db.prepare<[string, string, string, string, string, number]>(
        'INSERT OR IGNORE INTO series (key, namespace, name, dims, unit, last_put) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      seriesByKey: db.prepare<[string], { id: number; unit: string; last_put: number }>('SELECT id, unit, last_put FROM series WHERE key = ?'),
      touchSeries: db.prepare<[string, number, number]>('UPDATE series SET unit = ?, last_put = max(last_put, ?) WHERE id = ?'),
      ownRow: db.prepare<[number, number, number, number], { stats: Buffer; sketches: Buffer | null }>(
        'SELECT stats, sketches FROM agg WHERE series = ? AND res = ? AND row = ? AND writer = ?',
      ),
      upsertRow: db.prepare<[number, number, number, number, Buffer, Buffer | null]>(
        'INSERT OR REPLACE INTO agg (series, res, row, writer, stats, sketches) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      statsIn: db.prepare<[number, number, number, number], { row: number; stats: Buffer }>(
        'SELECT row, stats FROM agg WHERE series = ? AND res = ? AND row >= ? AND row < ?',
      ),
      rowsIn: db.prepare<[number, number, number, number], { row: number; stats: Buffer; sketches: Buffer | null }>(
        'SELECT row, stats, sketches FROM agg WHERE series = ? AND res = ? AND row >= ? AND row < ?',
      ),
      list: db.prepare<[{ after: string; namespace: string | null; name: string | null; since: number; limit: number }], { key: string; namespace: string; name: string; dims: string; unit: string; last_put: number }>(
        `SELECT key, namespace, name, dims, unit, last_put FROM series
         WHERE key > @after AND (@namespace IS NULL OR namespace = @namespace) AND (@name IS NULL OR name = @name)
           AND last_put >= @since ORDER BY key LIMIT @limit`,
      ),
      sweepLevel: db.prepare<[number, number]>('DELETE FROM agg WHERE res = ? AND row < ?'),
      sweepSeries: db.prepare<[number]>('DELETE FROM series WHERE last_put < ? AND NOT EXISTS (SELECT 1 FROM agg WHERE agg.series = series.id)'),
    };
  }

  /** Adds `samples`; resolves once they are durable (with whatever else arrived in the same turn). */
  put(samples: readonly Sample[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ samples, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    try {
      this.db.transaction(() => {
        const nowS = Math.floor(this.now() / 1000);
        const touched = new Set<Row>();
        for (const { samples } of batch) for (const sample of samples) this.fold(sample, nowS, touched);
        for (const row of touched) {
          const stats = Buffer.from(row.stats.buffer, row.stats.byteOffset, row.stats.byteLength);
          this.stmt.upsertRow.run(row.series, row.level.res, row.start, this.writer, stats, row.sketches.size > 0 ? encodeSketches(row.sketches) : null);
          row.dirty = false;
        }
      })();
    } catch (error) {
      // The rows in memory may hold what was not written: drop them, the database is the truth.
      this.rows.clear();
      this.seriesIds.clear();
      for (const p of batch) p.reject(error);
      return;
    }
    this.evict();
    for (const p of batch) p.resolve();
  }

  private fold(sample: Sample, nowS: number, touched: Set<Row>): void {
    const series = this.seriesId(sample, nowS);
    for (const level of LEVELS) {
      // Per-second rows only for high-resolution data young enough to be kept.
      if (level.res === 1 && (!sample.highRes || sample.t < nowS - level.retention)) continue;
      const start = Math.floor(sample.t / level.span) * level.span;
      const slot = Math.floor((sample.t - start) / level.res);
      const row = this.row(series, level, start);
      addToSlot(row.stats, slot, sample.count, sample.sum, sample.min, sample.max);
      if (sample.values && sample.values.length > 0) {
        let sketch = row.sketches.get(slot);
        if (!sketch) row.sketches.set(slot, (sketch = new Map()));
        for (let i = 0; i < sample.values.length; i++) addTo(sketch, sample.values[i]!, sample.counts?.[i] ?? 1);
      }
      row.dirty = true;
      touched.add(row);
    }
  }

  private seriesId(sample: Sample, nowS: number): number {
    const key = seriesKey(sample.series);
    let known = this.seriesIds.get(key);
    if (known && (known.unit !== sample.unit || nowS - known.lastPut >= LAST_PUT_EVERY_S)) {
      // A series swept meanwhile (by the leader) is created again below.
      if (this.stmt.touchSeries.run(sample.unit, nowS, known.id).changes === 0) known = undefined;
      else {
        known.unit = sample.unit;
        known.lastPut = nowS;
      }
    }
    if (!known) {
      const { namespace, name, dimensions } = sample.series;
      this.stmt.insertSeries.run(key, namespace, name, JSON.stringify(dimensions), sample.unit, nowS);
      const found = this.stmt.seriesByKey.get(key)!;
      if (found.unit !== sample.unit || found.last_put < nowS) this.stmt.touchSeries.run(sample.unit, nowS, found.id);
      known = { id: found.id, unit: sample.unit, lastPut: nowS };
      this.seriesIds.set(key, known);
    }
    return known.id;
  }

  /** This writer's row, from memory or (a row dropped from memory, or written before a restart of the cache) from disk. */
  private row(series: number, level: Level, start: number): Row {
    const cacheKey = `${series}:${level.res}:${start}`;
    let row = this.rows.get(cacheKey);
    if (row) {
      // Most recently used last: Map order is the eviction order.
      this.rows.delete(cacheKey);
      this.rows.set(cacheKey, row);
      return row;
    }
    const stored = this.stmt.ownRow.get(series, level.res, start, this.writer);
    row = {
      series,
      level,
      start,
      stats: stored ? new Float64Array(float64View(stored.stats)) : new Float64Array(SLOTS * FIELDS),
      sketches: stored ? decodeSketches(stored.sketches) : new Map(),
      dirty: false,
    };
    this.rows.set(cacheKey, row);
    return row;
  }

  private evict(): void {
    let excess = this.rows.size - this.cachedRows;
    for (const [key, row] of this.rows) {
      if (excess <= 0) break;
      if (row.dirty) continue;
      this.rows.delete(key);
      excess--;
    }
  }

  /** The series `ref` as stored, if it was ever put. */
  find(ref: SeriesRef): { id: number; unit: string } | undefined {
    return this.stmt.seriesByKey.get(seriesKey(ref));
  }

  /**
   * The periods of `query.series` that hold data, ascending: the first starts at `start` aligned down to the level's
   * resolution, each lasts `period`, the last starts before `end`. Read from the coarsest level whose resolution
   * divides the period (exact, and the fewest rows); what that level no longer retains is simply absent.
   */
  query(query: MetricQuery): PeriodPoint[] {
    const found = this.find(query.series);
    if (!found || (query.unit !== undefined && query.unit !== found.unit)) return [];
    const level = levelFor(query.period);
    const first = Math.floor(query.start / level.res) * level.res;
    if (query.end <= first) return [];
    const rows: { row: number; stats: Buffer; sketches?: Buffer | null }[] = query.sketches
      ? this.stmt.rowsIn.all(found.id, level.res, Math.floor(first / level.span) * level.span, query.end)
      : this.stmt.statsIn.all(found.id, level.res, Math.floor(first / level.span) * level.span, query.end);
    const buckets = new Map<number, PeriodPoint & { sketch?: Sketch }>();
    for (const r of rows) {
      const stats = float64View(r.stats);
      const sketches = query.sketches ? decodeSketches(r.sketches ?? null) : undefined;
      for (let slot = 0; slot < SLOTS; slot++) {
        const at = slot * FIELDS;
        const count = stats[at]!;
        if (count === 0) continue;
        const t = r.row + slot * level.res;
        if (t < first || t >= query.end) continue;
        const bucketStart = first + Math.floor((t - first) / query.period) * query.period;
        let bucket = buckets.get(bucketStart);
        if (!bucket) {
          bucket = { t: bucketStart, count: 0, sum: 0, min: Infinity, max: -Infinity };
          buckets.set(bucketStart, bucket);
        }
        bucket.count += count;
        bucket.sum += stats[at + 1]!;
        if (stats[at + 2]! < bucket.min) bucket.min = stats[at + 2]!;
        if (stats[at + 3]! > bucket.max) bucket.max = stats[at + 3]!;
        const sketch = sketches?.get(slot);
        if (sketch) mergeInto((bucket.sketch ??= new Map()), sketch);
      }
    }
    return [...buckets.values()].sort((a, b) => a.t - b.t);
  }

  /** Stored series in key order, filtered (ListMetrics). */
  list(filter: ListFilter): StoredSeries[] {
    const out: StoredSeries[] = [];
    let after = filter.after ?? '';
    const page = Math.max(filter.limit, 100);
    for (;;) {
      const rows = this.stmt.list.all({ after, namespace: filter.namespace ?? null, name: filter.name ?? null, since: filter.activeSince ?? 0, limit: page });
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
  sweep(): { rows: number; series: number } {
    const nowS = Math.floor(this.now() / 1000);
    let rows = 0;
    let series = 0;
    this.db.transaction(() => {
      for (const level of LEVELS) rows += this.stmt.sweepLevel.run(level.res, nowS - level.retention - level.span).changes;
      series = this.stmt.sweepSeries.run(nowS - LEVELS[LEVELS.length - 1]!.retention).changes;
    })();
    // Rows swept here must not be written back from memory.
    for (const [key, row] of this.rows) if (row.start < nowS - row.level.retention - row.level.span) this.rows.delete(key);
    if (series > 0) this.seriesIds.clear();
    return { rows, series };
  }

  close(): void {
    this.db.close();
  }
}
