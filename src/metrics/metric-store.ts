import { randomInt } from 'node:crypto';
import { GroupCommit } from './group-commit.js';
import { LEVELS } from './levels.js';
import { MetricReader, NOT_PUT_YET, type DensePeriods, type ListFilter, type MetricQuery, type PeriodPoint, type StoredSeries } from './metric-reader.js';
import { ReadCache } from './read-cache.js';
import { loadOwnRow } from './row-reader.js';
import { SampleBatch, type BatchSeries } from './sample-batch.js';
import { seriesKey, seriesMemoKey, type SeriesRef } from './series.js';
import { encodeSketch } from './sketch.js';
import { logRecordOf } from './slot-log.js';
import { deleteAged, foldLogs, rollUp } from './store-maintenance.js';
import { openMetricsDb, prepareStatements, type Statements } from './store-schema.js';
import { WalFiles } from './wal-checkpointer.js';
import { foldAggregated, foldValues, rowKey, statsBytes, type FoldTarget, type Row } from './writer-row.js';

export type { DensePeriods, ListFilter, MetricQuery, PeriodPoint, StoredSeries } from './metric-reader.js';

/**
 * The durable time-series store behind the CloudWatch metrics API: one SQLite database (WAL) in the directory
 * every replica shares (see docs/architecture.md "Metrics"; tables: store-schema.ts). This class is the writer
 * side and the store's life cycle; reads are metric-reader.ts, the leader's upkeep store-maintenance.ts.
 *
 * Each process writes only its own rows (a random writer id), so it keeps them in memory (writer-row.ts) and
 * never reads before writing, and no two replicas race on a row; a read merges the writers' rows.
 *
 * Ingest is grouped (group-commit.ts): PutMetricData calls arriving while the last commit is being synced are
 * folded into the rows in memory and written in one transaction, and every call is answered after that commit is
 * durable: SQLite commits with synchronous=NORMAL (into the write-ahead log, no fsync on the event loop), then the
 * log is fdatasync'ed on libuv's thread pool before anyone is answered (wal-checkpointer.ts) — what
 * synchronous=FULL would have synced, off the event loop. What was acknowledged survives kill -9, and power loss.
 *
 * A commit appends, per row it changed, only the changed slots (slot-log.ts); every {@link COMPACT_EVERY}
 * commits it instead rewrites each row changed since the last such "compaction" whole and drops their records.
 * Every {@link CHECKPOINT_EVERY} commits, between two commits, a worker thread checkpoints the log.
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

export interface MetricStoreOptions {
  /** Milliseconds since the epoch (tests drive it). */
  readonly now?: () => number;
  /** Rows kept in memory for ingest (each ~2 KiB plus its sketches); the least recently used beyond are dropped. */
  readonly cachedRows?: number;
  /** Merged rows kept in memory for queries (each 1,920 bytes): a day of 1-minute data for 100 series is 2,400. */
  readonly cachedReads?: number;
  /** Commits between two compactions (1: every commit writes rows whole, no log). */
  readonly compactEvery?: number;
}

/** A series this store has put to: its id, and its unit and last put time as last written (or about to be). */
interface KnownSeries {
  readonly id: number;
  readonly key: string;
  readonly ref: SeriesRef;
  unit: string;
  lastPut: number;
}

/** last_put is rewritten at most this often per series and process: RecentlyActive's window is 3 hours. */
const LAST_PUT_EVERY_S = 60;
/** Commits between two compactions: a reader lays at most this many commits' records over a row. */
const COMPACT_EVERY = 32;
/** Commits between two checkpoints (a commit appends some tens of pages of log, a compaction a few hundred). */
const CHECKPOINT_EVERY = 32;
/** SQLite's own checkpoint, on the event loop: only if the worker's never ran (200 MiB of log). */
const BACKSTOP_CHECKPOINT_PAGES = 50_000;

export class MetricStore {
  private readonly db;
  private readonly stmt: Statements;
  private readonly now: () => number;
  private readonly writer = randomInt(1, 2 ** 47);
  private readonly reader: MetricReader;
  /** Series put through this store, by {@link seriesMemoKey}. */
  private readonly known = new Map<string, KnownSeries>();
  /** Series whose unit or last put time the next commit writes. */
  private readonly touches = new Map<number, KnownSeries>();
  /** This writer's rows in memory, by {@link rowKey}. */
  private readonly rows = new Map<number, Row>();
  /** What readers read lately (see read-cache.ts). */
  private readonly reads: ReadCache;
  /** Rows folded into since the last commit: what it writes. */
  private readonly dirty = new Set<Row>();
  /** Rows changed since they were last written whole: what the next compaction writes. */
  private readonly pending = new Set<Row>();
  /** Commits so far: a row remembers the last that touched it, and the least recent go first when memory is full. */
  private flushes = 0;
  private sinceCompaction = 0;
  private sinceCheckpoint = 0;
  private readonly cachedRows: number;
  private readonly compactEvery: number;
  private readonly commits: GroupCommit;
  private readonly wal: WalFiles;
  private readonly foldTarget: FoldTarget = {
    row: (series, levelIndex, start) => this.row(series, levelIndex, start),
    changed: (row) => this.dirty.add(row),
  };

  constructor(path: string, options: MetricStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.cachedRows = options.cachedRows ?? 100_000;
    this.compactEvery = Math.max(1, options.compactEvery ?? COMPACT_EVERY);
    this.reads = new ReadCache(options.cachedReads ?? 16_384);
    this.db = openMetricsDb(path);
    this.wal = new WalFiles(path);
    const wal = this.db.pragma('journal_mode', { simple: true }) === 'wal';
    // In WAL mode a commit is made durable by the fdatasync of the log, off the event loop.
    this.db.pragma(wal ? 'synchronous = NORMAL' : 'synchronous = FULL');
    this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
    this.stmt = prepareStatements(this.db);
    this.reader = new MetricReader(this.stmt, this.reads);
    this.commits = new GroupCommit({
      commit: () => this.write(),
      ...(wal ? { sync: (done: (error: Error | null) => void) => this.wal.sync(done), between: (ready: () => void) => this.upkeep(ready) } : {}),
    });
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
        foldValues(this.foldTarget, batch, ids, nowS);
        for (const { at, data } of batch.aggregated) foldAggregated(this.foldTarget, data, batch.series[at]!.highRes, ids[at]!, nowS);
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

  find(ref: SeriesRef): { id: number; unit: string } | undefined {
    return this.reader.find(ref);
  }

  query(query: MetricQuery): PeriodPoint[] {
    return this.reader.query(query);
  }

  queryDense(query: MetricQuery): DensePeriods {
    return this.reader.queryDense(query);
  }

  list(filter: ListFilter): StoredSeries[] {
    return this.reader.list(filter);
  }

  /** Between two commits: every so often, the log checkpointed on the worker thread. */
  private upkeep(ready: () => void): void {
    if (++this.sinceCheckpoint < CHECKPOINT_EVERY) {
      ready();
      return;
    }
    this.sinceCheckpoint = 0;
    this.wal.checkpoint(ready);
  }

  /** One transaction: the series' last put times, and the rows changed since the last commit (logged, or every so often all written whole). */
  private write(): void {
    this.flushes++;
    const compact = ++this.sinceCompaction >= this.compactEvery;
    try {
      this.db.transaction(() => {
        for (const [id, touch] of this.touches) {
          if (this.stmt.touchSeries.run(touch.unit, touch.lastPut, id).changes === 0) {
            // Swept by the leader meanwhile (no data left, put last 15 months ago): recorded again, under its id.
            this.stmt.insertSeriesWithId.run(id, touch.key, touch.ref.namespace, touch.ref.name, JSON.stringify(touch.ref.dimensions), touch.unit, touch.lastPut);
          }
        }
        if (compact) this.writeWhole();
        else this.writeLog();
      })();
    } catch (error) {
      this.stmt.rows.reset();
      this.stmt.sketches.reset();
      this.stmt.log.reset();
      // The rows in memory may hold what was not written: drop them, the database (rows and log) is the truth.
      this.forget();
      throw error;
    }
    if (compact) {
      this.sinceCompaction = 0;
      for (const row of this.pending) {
        row.pending = false;
        row.dirtySketches.clear();
      }
      this.pending.clear();
    }
    for (const row of this.dirty) {
      row.lo = Number.MAX_SAFE_INTEGER;
      row.hi = -1;
      // What readers cached of this row is older than what was just written.
      this.reads.delete(rowKey(row.series, row.levelIndex, row.start, row.level.span));
    }
    // A series recorded or its unit changed: readers look it up again.
    if (this.touches.size > 0) this.reads.series.clear();
    this.dirty.clear();
    this.touches.clear();
    this.evict();
  }

  /** Each row changed since the last commit: its changed slots appended to the log. */
  private writeLog(): void {
    const { log } = this.stmt;
    for (const row of this.dirty) {
      const record = logRecordOf(row);
      log.add(row.series, row.level.res, row.start, this.writer, record.first, record.stats, record.sketches);
      if (!row.pending) {
        row.pending = true;
        this.pending.add(row);
      }
    }
    log.finish();
  }

  /** Compaction: every row changed since the last one written whole, its changed sketches, and its log records dropped. */
  private writeWhole(): void {
    const { rows, sketches } = this.stmt;
    for (const row of this.dirty) this.pending.add(row);
    for (const row of this.pending) {
      rows.add(row.series, row.level.res, row.start, this.writer, statsBytes(row.stats));
      for (const slot of row.dirtySketches) {
        sketches.add(row.series, row.level.res, row.start + slot * row.level.res, this.writer, encodeSketch(row.sketches.get(slot)!));
      }
    }
    rows.finish();
    sketches.finish();
    for (const row of this.pending) if (row.pending) this.stmt.dropOwnLog.run(row.series, row.level.res, row.start, this.writer);
  }

  /** Drops everything held in memory for writing (rows, series ids, pending touches): read back from disk on next use. */
  private forget(): void {
    this.rows.clear();
    this.dirty.clear();
    this.pending.clear();
    this.touches.clear();
    this.known.clear();
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

  /** This writer's row, from memory or (a row dropped from memory, or in memory before a failed commit) from disk. */
  private row(series: number, levelIndex: number, start: number): Row {
    const level = LEVELS[levelIndex]!;
    const cacheKey = rowKey(series, levelIndex, start, level.span);
    let row = this.rows.get(cacheKey);
    if (row) {
      row.used = this.flushes;
      return row;
    }
    row = loadOwnRow(this.stmt, this.writer, series, levelIndex, start, this.flushes);
    if (row.pending) this.pending.add(row);
    this.rows.set(cacheKey, row);
    return row;
  }

  /** Over the limit, drops the least recently used rows written whole already (a dropped row is read back on its next use). */
  private evict(): void {
    const excess = this.rows.size - this.cachedRows;
    if (excess <= 0) return;
    const byAge = [...this.rows].filter(([, row]) => !row.pending && row.hi < row.lo).sort((a, b) => a[1].used - b[1].used);
    // A tenth more than needed, so that a full cache does not sort on every flush.
    for (const [key] of byAge.slice(0, excess + Math.floor(this.cachedRows / 10))) this.rows.delete(key);
  }

  /** Rolls minute sketches up (see store-maintenance.ts); the sweep runs it. */
  rollUp(): number {
    foldLogs(this.db, this.stmt);
    return rollUp(this.db, this.stmt, Math.floor(this.now() / 1000));
  }

  /** The leader's sweep: every writer's log folded into its rows, sketches rolled up, what every level no longer retains deleted. */
  sweep(): { rows: number; series: number; rolled: number } {
    const rolled = this.rollUp();
    const nowS = Math.floor(this.now() / 1000);
    const { rows, series } = deleteAged(this.db, this.stmt, nowS);
    // Rows swept here must not be written back from memory (nor the data folded into them since: aged out too).
    for (const [key, row] of this.rows) {
      if (row.start >= nowS - row.level.retention - row.level.span) continue;
      this.rows.delete(key);
      this.dirty.delete(row);
      this.pending.delete(row);
    }
    if (series > 0) this.known.clear();
    this.reads.clear();
    return { rows, series, rolled };
  }

  close(): void {
    this.wal.close();
    this.db.close();
  }
}
