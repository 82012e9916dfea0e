import type { Sketch } from './sketch.js';

/** What a period of a series holds: CloudWatch's statistic set, and the values' sketch when they were sent one by one. */
export interface Aggregate {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Absent or empty when the period's data came only as statistic sets: no percentiles then (as CloudWatch). */
  sketch?: Sketch;
}

/** Fields per slot in a row's stats bytes: count, sum, min, max. */
export const FIELDS = 4;

/** Adds `count, sum, min, max` to slot `slot` of a row's stats (count 0 means empty). */
export function addToSlot(stats: Float64Array, slot: number, count: number, sum: number, min: number, max: number): void {
  const at = slot * FIELDS;
  if (stats[at] === 0) {
    stats[at + 2] = min;
    stats[at + 3] = max;
  } else {
    if (min < stats[at + 2]!) stats[at + 2] = min;
    if (max > stats[at + 3]!) stats[at + 3] = max;
  }
  stats[at] = stats[at]! + count;
  stats[at + 1] = stats[at + 1]! + sum;
}
