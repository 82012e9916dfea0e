import { addToSlot, FIELDS } from './aggregate.js';
import { LEVELS, SLOTS, type Level } from './levels.js';
import type { Aggregated, SampleBatch } from './sample-batch.js';
import { addKey, keyOf, type Sketch } from './sketch.js';

/**
 * One of this writer's rows in memory — a series' span of {@link SLOTS} slots at one level — and the folds that
 * add datapoints to rows. What changed is tracked at two horizons: the slots changed since the last commit
 * (`lo`..`hi`: what the next commit appends to the slot log) and whether the row changed since it was last
 * written whole (`pending`: the next compaction rewrites it and drops its log records).
 */
export interface Row {
  readonly series: number;
  readonly levelIndex: number;
  readonly level: Level;
  readonly start: number;
  readonly stats: Float64Array;
  /** The slots' sketches, loaded when the row is (this writer's only). */
  readonly sketches: Map<number, Sketch>;
  /** Slots whose sketch changed since the row was last written whole. */
  readonly dirtySketches: Set<number>;
  /** The first and last slot changed since the last commit; lo > hi when none. */
  lo: number;
  hi: number;
  /** Changed since the row was last written whole (its newest state is in the log, or in memory only). */
  pending: boolean;
  used: number;
}

/** A number per (series, level, row): numbers hash faster than strings, and this runs three times per datapoint. */
export function rowKey(series: number, levelIndex: number, start: number, span: number): number {
  // start/span < 2^26 until the year 2100 even at 1-minute rows; series ids < 2^25 keep the product below 2^53.
  return (series * 4 + levelIndex) * 67_108_864 + start / span;
}

export function newRow(series: number, levelIndex: number, start: number, stats: Float64Array, sketches: Map<number, Sketch>, used: number): Row {
  return { series, levelIndex, level: LEVELS[levelIndex]!, start, stats, sketches, dirtySketches: new Set(), lo: SLOTS, hi: -1, pending: false, used };
}

/** Rows changed since the last commit, and the way to a row (from memory or disk). */
export interface FoldTarget {
  row(series: number, levelIndex: number, start: number): Row;
  /** Called the first time a row changes after a commit. */
  changed(row: Row): void;
}

function touchSlot(target: FoldTarget, row: Row, slot: number): void {
  if (row.hi < row.lo) target.changed(row);
  if (slot < row.lo) row.lo = slot;
  if (slot > row.hi) row.hi = slot;
}

/**
 * The batch's plain values, the common datum: each value's bucket computed once for the levels it adds to, and
 * the row of the series' last value at each level tried before the map of rows (a series' values of one request
 * usually fall in one row per level).
 */
export function foldValues(target: FoldTarget, batch: SampleBatch, ids: readonly number[], nowS: number): void {
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
      if (row === undefined || row.start !== start) last[s * levels + l] = row = target.row(ids[s]!, l, start);
      const slot = Math.floor((t - start) / level.res);
      addToSlot(row.stats, slot, 1, v, v, v);
      // Coarser levels' sketches come from the minute ones (query time, then the leader's roll-up).
      if (level.res <= 60) {
        let sketch = row.sketches.get(slot);
        if (!sketch) row.sketches.set(slot, (sketch = new Map()));
        addKey(sketch, key, 1);
        row.dirtySketches.add(slot);
      }
      if (slot < row.lo || slot > row.hi) touchSlot(target, row, slot);
    }
  }
}

/** A statistic set, or values with counts. */
export function foldAggregated(target: FoldTarget, data: Aggregated, highRes: boolean, series: number, nowS: number): void {
  // Each value's bucket once, for the three or four levels it adds to.
  const keys = data.values && data.values.length > 0 ? data.values.map(keyOf) : undefined;
  for (let l = 0; l < LEVELS.length; l++) {
    const level = LEVELS[l]!;
    if (level.res === 1 && (!highRes || data.t < nowS - level.retention)) continue;
    const start = Math.floor(data.t / level.span) * level.span;
    const slot = Math.floor((data.t - start) / level.res);
    const row = target.row(series, l, start);
    addToSlot(row.stats, slot, data.count, data.sum, data.min, data.max);
    if (keys && level.res <= 60) {
      let sketch = row.sketches.get(slot);
      if (!sketch) row.sketches.set(slot, (sketch = new Map()));
      for (let i = 0; i < keys.length; i++) addKey(sketch, keys[i]!, data.counts?.[i] ?? 1);
      row.dirtySketches.add(slot);
    }
    touchSlot(target, row, slot);
  }
}

/** The row's stats bytes (a view: bound before the row changes again). */
export function statsBytes(stats: Float64Array, fromSlot = 0, toSlot = SLOTS): Buffer {
  return Buffer.from(stats.buffer, stats.byteOffset + fromSlot * FIELDS * 8, (toSlot - fromSlot) * FIELDS * 8);
}
