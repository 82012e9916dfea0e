import { seriesMemoKey, seriesRef, type Dimension, type SeriesRef } from './series.js';

/** One series of a batch, with the unit and resolution its datums came with. */
export interface BatchSeries {
  readonly series: SeriesRef;
  readonly unit: string;
  /** StorageResolution 1: also kept per second for 3 hours. */
  readonly highRes: boolean;
}

/** What a datum that is not one plain value adds: a statistic set, or values with their counts. */
export interface Aggregated {
  /** Epoch seconds (may be fractional). */
  readonly t: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The individual values (with their counts), for percentiles; absent for a statistic set. */
  readonly values?: readonly number[];
  readonly counts?: readonly number[];
}

/** Dimension name and value of a series without dimensions, and the name level of one with several. */
const NONE = '';
const SEVERAL = '\u0000several';

/**
 * Datapoints as the metric store folds them (a PutMetricData request, or a publisher's samples), built with no
 * object per datapoint: the distinct series once each, and each plain value as three numbers in parallel arrays
 * (a batch of 1,000 values over 100 series is 100 series objects and three arrays, where a sample per datapoint
 * made 1,000 objects that each lived until the commit's garbage collection).
 *
 * A series is found again by nested maps on its parts (namespace, name, dimension name, dimension value): no key
 * string is built per datapoint. A series with several dimensions (rarer) is keyed by its sorted dimensions.
 */
export class SampleBatch {
  readonly series: BatchSeries[] = [];
  /** Plain values: the index of their series in {@link series}, their time (epoch seconds) and value. */
  readonly at: number[] = [];
  readonly t: number[] = [];
  readonly value: number[] = [];
  /** Statistic sets and value arrays, with the index of their series. */
  readonly aggregated: { readonly at: number; readonly data: Aggregated }[] = [];
  private readonly index = new Map<string, Map<string, Map<string, Map<string, number[]>>>>();

  /** Datapoints in the batch. */
  get size(): number {
    return this.at.length + this.aggregated.length;
  }

  /**
   * The index of a series in this batch, added if new. `dimensions` need not be sorted but must not repeat a
   * name (the caller checks that first).
   */
  seriesAt(namespace: string, name: string, dimensions: readonly Dimension[] | undefined, unit: string, highRes: boolean): number {
    let byName = this.index.get(namespace);
    if (!byName) this.index.set(namespace, (byName = new Map()));
    let byDimName = byName.get(name);
    if (!byDimName) byName.set(name, (byDimName = new Map()));
    const several = dimensions !== undefined && dimensions.length > 1;
    const sorted = several ? seriesRef(namespace, name, dimensions) : undefined;
    const dimName = several ? SEVERAL : dimensions?.length === 1 ? dimensions[0]!.Name : NONE;
    const dimValue = sorted ? seriesMemoKey('', '', sorted.dimensions) : dimensions?.length === 1 ? dimensions[0]!.Value : NONE;
    let byValue = byDimName.get(dimName);
    if (!byValue) byDimName.set(dimName, (byValue = new Map()));
    let candidates = byValue.get(dimValue);
    if (!candidates) byValue.set(dimValue, (candidates = []));
    for (const i of candidates) {
      const s = this.series[i]!;
      if (s.unit === unit && s.highRes === highRes) return i;
    }
    const i = this.series.length;
    this.series.push({ series: sorted ?? seriesRef(namespace, name, dimensions), unit, highRes });
    candidates.push(i);
    return i;
  }

  addValue(at: number, t: number, value: number): void {
    this.at.push(at);
    this.t.push(t);
    this.value.push(value);
  }

  addAggregated(at: number, data: Aggregated): void {
    this.aggregated.push({ at, data });
  }
}
