import { FIELDS, type Aggregate } from './aggregate.js';
import { LEVELS, levelFor, SLOTS } from './levels.js';
import type { ReadCache } from './read-cache.js';
import { readMergedRows, readSketches } from './row-reader.js';
import { seriesKey, type Dimension, type SeriesRef } from './series.js';
import { decodeSketch, type Sketch } from './sketch.js';
import type { Statements } from './store-schema.js';
import { rowKey } from './writer-row.js';

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

/** The last_put of a series recorded before the commit of its first data: not listed yet. */
export const NOT_PUT_YET = 0;

/** The store's read side: series lookups, period queries and ListMetrics, over every writer's rows. */
export class MetricReader {
  /** {@link queryDense}'s arrays, reused. */
  private scratch = new Float64Array(0);
  /** The read cache was checked against SQLite's data_version in the current task (see {@link fresh}). */
  private checked = false;

  constructor(
    private readonly stmt: Statements,
    private readonly reads: ReadCache,
  ) {}

  /** The series `ref` as stored, if it was ever put. */
  find(ref: SeriesRef): { id: number; unit: string } | undefined {
    this.fresh();
    const key = seriesKey(ref);
    let found = this.reads.series.get(key);
    if (found === undefined) {
      found = this.stmt.seriesByKey.get(key) ?? null;
      this.reads.series.set(key, found && { id: found.id, unit: found.unit });
    }
    return found ?? undefined;
  }

  /**
   * The read cache checked against SQLite's data_version once per task, not per series (100 pragma statements for a
   * GetMetricData of 100 series, which reads them all in one synchronous run). Another process's commit landing
   * during that run is seen by the next task, as a commit landing just after a per-series check was before: what the
   * run read from SQLite meanwhile is cached under the old version, which the next check then finds changed.
   */
  private fresh(): void {
    if (this.checked) return;
    this.reads.validate(this.stmt.dataVersion.get()!);
    this.checked = true;
    queueMicrotask(() => {
      this.checked = false;
    });
  }

  /** Every writer's rows of a series and level from `firstRow` to `end`, merged by start, and kept for the next reader. */
  private loadRows(series: number, levelIndex: number, firstRow: number, end: number): Map<number, Float64Array> {
    const level = LEVELS[levelIndex]!;
    const merged = readMergedRows(this.stmt, series, levelIndex, firstRow, end);
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
   * period). The arrays are this reader's own and reused by its next query: read them before querying again (a fresh
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
    if (dense.sketches) this.readPeriodSketches(dense.sketches, found.id, level.res, first, query);
    return dense;
  }

  private readPeriodSketches(into: (Sketch | undefined)[], series: number, res: number, first: number, query: MetricQuery): void {
    const add = (t: number, sketch: Uint8Array | Sketch) => {
      const at = (into[Math.floor((t - first) / query.period)] ??= new Map());
      if (sketch instanceof Uint8Array) decodeSketch(sketch, at);
      else for (const [key, count] of sketch) at.set(key, (at.get(key) ?? 0) + count);
    };
    if (res <= 60) {
      readSketches(this.stmt, series, res, first, query.end, add);
      return;
    }
    const rolled = new Set<number>();
    for (const s of this.stmt.sketchesIn.all(series, res, first, query.end)) {
      rolled.add(s.t);
      add(s.t, s.data);
    }
    // Minute sketches for the coarse slots not rolled up yet (the last two weeks).
    readSketches(this.stmt, series, 60, first, query.end, (t, sketch) => {
      if (!rolled.has(Math.floor(t / res) * res)) add(t, sketch);
    });
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
}
