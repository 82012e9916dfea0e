import { ServiceError } from '../../model/errors.js';
import { evaluate, type Grid, type Scope, type Series, type Value } from '../math/evaluate.js';
import { ExpressionError, parseExpression, type Expr } from '../math/parse.js';
import { levelFor } from '../levels.js';
import { seriesRef, type Dimension } from '../series.js';
import { parseStatistic, statisticOfPeriods } from '../statistics.js';
import type { MetricsEnv } from './env.js';
import { combination, exclusive, invalidValue } from './errors.js';
import { checkPeriod, checkRange, decodeToken, encodeToken } from './periods.js';

/** GetMetricData's default and largest MaxDatapoints (CloudWatch's). */
export const MAX_DATAPOINTS = 100_800;
const ID = /^[a-z][a-zA-Z0-9_]*$/;

interface Query {
  Id: string;
  MetricStat?: { Metric: { Namespace?: string; MetricName?: string; Dimensions?: Dimension[] }; Period: number; Stat: string; Unit?: string };
  Expression?: string;
  Label?: string;
  ReturnData?: boolean;
  Period?: number;
}

interface Input {
  MetricDataQueries: Query[];
  StartTime: number;
  EndTime: number;
  NextToken?: string;
  ScanBy?: 'TimestampDescending' | 'TimestampAscending';
  MaxDatapoints?: number;
}

/** One returned query's series, read into the answer by {@link page}. */
interface Result {
  readonly id: string;
  readonly label: string;
  readonly series: Series;
  /** The periods that hold a value (not NaN): the result's datapoints. */
  readonly count: number;
}

/**
 * Memory for one GetMetricData's metric series, reused by the next: a fresh Float64Array per series and request (100
 * of 11.5 KB for a day of minutes) is memory outside the heap, allocated, faulted in and swept every time, and it cost
 * as much as computing the statistic. Safe because getMetricData runs synchronously from start to answer and the
 * answer copies the values it returns: nothing reads a series of one request once the next has begun.
 */
export class SeriesScratch {
  private memory: Float64Array<ArrayBuffer> = new Float64Array(0);
  private used = 0;

  /** A request begins: everything handed out before is free again. */
  reset(): void {
    this.used = 0;
  }

  take(length: number): Float64Array<ArrayBuffer> {
    if (this.used + length > this.memory.length) {
      // Too big to keep (500 queries of 1,440 periods): memory of its own, not kept.
      if (this.used + length > MAX_SCRATCH) return new Float64Array(length);
      // Grown: what was handed out keeps the old memory alive until the request ends.
      this.memory = new Float64Array(Math.min(MAX_SCRATCH, Math.max(2 * this.memory.length, this.used + length)));
      this.used = 0;
    }
    const out = this.memory.subarray(this.used, this.used + length);
    this.used += length;
    return out;
  }
}

/** Doubles kept for {@link SeriesScratch}: 200 series of a day of minutes (2.3 MB). */
const MAX_SCRATCH = 200 * 1440;
const scratch = new SeriesScratch();

/**
 * The series a metric query names over [start, end), as a grid of its period (NaN where no datapoint): the
 * function alarms will evaluate through as well. `into` gives the memory for its values (a fresh array without).
 */
export function metricSeries(env: MetricsEnv, stat: NonNullable<Query['MetricStat']>, start: number, end: number, field: string, into?: SeriesScratch): Series {
  const statistic = parseStatistic(stat.Stat);
  if (!statistic) throw invalidValue(`${field}.Stat`, stat.Stat, 'berth computes SampleCount, Average, Sum, Minimum, Maximum and pNN.NN.');
  if (stat.Metric.Namespace === undefined) throw new ServiceError('MissingParameter', `The parameter ${field}.Metric.Namespace is required.`);
  if (stat.Metric.MetricName === undefined) throw new ServiceError('MissingParameter', `The parameter ${field}.Metric.MetricName is required.`);
  const dense = env.store.queryDense({
    series: seriesRef(stat.Metric.Namespace, stat.Metric.MetricName, stat.Metric.Dimensions),
    start,
    end,
    period: stat.Period,
    sketches: statistic.kind === 'percentile',
    ...(stat.Unit !== undefined ? { unit: stat.Unit } : {}),
  });
  const grid: Grid = { start: dense.first, period: dense.period, length: dense.length };
  const values = statisticOfPeriods(statistic, dense, into ? into.take(dense.length) : undefined);
  return { kind: 'series', grid, values };
}

export function getMetricData(env: MetricsEnv, input: Input): Promise<object> {
  scratch.reset();
  checkRange(input.StartTime, input.EndTime);
  const queries = input.MetricDataQueries;
  const byId = new Map<string, { query: Query; index: number; expr?: Expr }>();
  for (const [i, q] of queries.entries()) {
    const at = `MetricDataQueries.member.${i + 1}`;
    if (!ID.test(q.Id)) throw invalidValue(`${at}.Id`, q.Id, 'An Id must start with a lowercase letter and hold only letters, digits and underscores.');
    if (byId.has(q.Id)) throw invalidValue(`${at}.Id`, q.Id, 'Ids must be unique within a request.');
    if (q.MetricStat && q.Expression !== undefined) throw exclusive(`${at}.MetricStat`, `${at}.Expression`);
    if (!q.MetricStat && q.Expression === undefined) throw combination(`Exactly one of ${at}.MetricStat and ${at}.Expression must be specified.`);
    if (q.MetricStat) checkPeriod(`${at}.MetricStat.Period`, q.MetricStat.Period);
    let expr: Expr | undefined;
    if (q.Expression !== undefined) {
      try {
        expr = parseExpression(q.Expression);
      } catch (error) {
        if (error instanceof ExpressionError) throw invalidValue(`${at}.Expression`, q.Expression, error.message);
        throw error;
      }
    }
    byId.set(q.Id, { query: q, index: i, ...(expr ? { expr } : {}) });
  }
  if (!queries.some((q) => q.ReturnData !== false)) throw combination('At least one of the MetricDataQueries must have ReturnData set to true.');

  const values = new Map<string, Value>();
  const evaluating = new Set<string>();
  const metricIds = queries.filter((q) => q.MetricStat).map((q) => q.Id);
  const scope: Scope = {
    metricIds,
    resolve(id) {
      const known = values.get(id);
      if (known) return known;
      const entry = byId.get(id);
      if (!entry) return undefined;
      const at = `MetricDataQueries.member.${entry.index + 1}`;
      if (entry.query.MetricStat) {
        const series = metricSeries(env, entry.query.MetricStat, input.StartTime, input.EndTime, `${at}.MetricStat`, scratch);
        values.set(id, series);
        return series;
      }
      if (evaluating.has(id)) throw new ExpressionError(`circular reference to ${id}`);
      evaluating.add(id);
      try {
        const value = evaluate(entry.expr!, scope);
        values.set(id, value);
        return value;
      } finally {
        evaluating.delete(id);
      }
    },
  };

  const results: Result[] = [];
  for (const [i, q] of queries.entries()) {
    if (q.ReturnData === false) continue;
    let value: Value;
    try {
      value = scope.resolve(q.Id)!;
    } catch (error) {
      if (error instanceof ExpressionError) throw invalidValue(`MetricDataQueries.member.${i + 1}.Expression`, q.Expression, error.message);
      throw error;
    }
    const series = asSeries(value, q, i, input);
    let count = 0;
    for (let k = 0; k < series.grid.length; k++) if (!Number.isNaN(series.values[k]!)) count++;
    results.push({ id: q.Id, label: q.Label ?? q.MetricStat?.Metric.MetricName ?? q.Id, series, count });
  }
  return Promise.resolve(page(results, input));
}

/** An expression's value as one series: a scalar spread over the grid of the request's metrics; an array refused. */
function asSeries(value: Value, q: Query, i: number, input: Input): Series {
  if (value.kind === 'series') return value;
  if (value.kind === 'array') {
    if (value.items.length === 1) return value.items[0]!;
    throw invalidValue(`MetricDataQueries.member.${i + 1}.Expression`, q.Expression, 'The expression must return a single time series.');
  }
  const period = q.Period ?? input.MetricDataQueries.find((m) => m.MetricStat)?.MetricStat?.Period ?? 60;
  const first = Math.floor(input.StartTime / levelFor(period).res) * levelFor(period).res;
  const grid: Grid = { start: first, period, length: Math.ceil((input.EndTime - first) / period) };
  return { kind: 'series', grid, values: new Float64Array(grid.length).fill(value.value) };
}

/**
 * One page of at most MaxDatapoints datapoints, counted across the results in order; every result appears on every
 * page (empty once done), PartialData while datapoints of it remain for a later page. Each result's timestamps and
 * values are read straight from its series into the answer's arrays, in the order ScanBy asks for: no array of all
 * its datapoints first, reversed and then sliced to the page (a day of 100 series is 144,000 of each).
 */
function page(results: readonly Result[], input: Input): object {
  const max = input.MaxDatapoints ?? MAX_DATAPOINTS;
  const descending = (input.ScanBy ?? 'TimestampDescending') === 'TimestampDescending';
  const { NextToken, ...request } = input;
  let offset = NextToken === undefined ? 0 : decodeToken<number>(NextToken, request);
  if (!Number.isInteger(offset) || offset < 0) offset = 0;
  let skip = offset;
  let room = max;
  let previous: number[] | undefined;
  const out = results.map((r) => {
    const from = Math.min(skip, r.count);
    skip -= from;
    const take = Math.min(room, r.count - from);
    room -= take;
    const { Timestamps, Values } = datapoints(r.series, descending, from, take, previous);
    previous = Timestamps;
    return { Id: r.id, Label: r.label, Timestamps, Values, StatusCode: from + take < r.count ? 'PartialData' : 'Complete' };
  });
  const total = results.reduce((n, r) => n + r.count, 0);
  const next = offset + (max - room);
  return { MetricDataResults: out, Messages: [], ...(next < total ? { NextToken: encodeToken(next, request) } : {}) };
}

/**
 * The datapoints `from` to `from + take` of a series (its periods holding a value), in scan order, as plain arrays.
 * Written into arrays kept across requests, then copied out at their exact size: arrays grown by push for 1,440
 * datapoints allocate three times their size on the way, and 200 of them per answer kept the young generation
 * collecting. Integral numbers go in as small integers (`| 0`), so an array of them is stored as such: the
 * encoders then read them without boxing a number per element (cbor-x allocated one per double it wrote).
 *
 * Timestamps equal to `previous` (the result before: series of one grid with the same periods filled, the usual
 * case) are `previous` itself, not a copy: 100 series of a day share one array of 1,440, and the encoders write a
 * list they have already written from what they made of it the first time (shape-serializer.ts, rpcv2-cbor.ts).
 */
function datapoints(series: Series, descending: boolean, from: number, take: number, previous: number[] | undefined): { Timestamps: number[]; Values: number[] } {
  const { grid, values } = series;
  let seen = 0;
  let n = 0;
  for (let i = 0; i < grid.length && n < take; i++) {
    const k = descending ? grid.length - 1 - i : i;
    const v = values[k]!;
    if (Number.isNaN(v) || seen++ < from) continue;
    put(timestampScratch, n, grid.start + k * grid.period);
    put(valueScratch, n, v);
    n++;
  }
  return { Timestamps: previous !== undefined && sameNumbers(previous, timestampScratch, n) ? previous : timestampScratch.slice(0, n), Values: valueScratch.slice(0, n) };
}

/** Whether `list` is the first `n` numbers of `scratch`. */
function sameNumbers(list: readonly number[], scratch: readonly number[], n: number): boolean {
  if (list.length !== n) return false;
  for (let i = 0; i < n; i++) if (list[i] !== scratch[i]) return false;
  return true;
}

const timestampScratch: number[] = [];
const valueScratch: number[] = [];

function put(into: number[], at: number, v: number): void {
  const small = v | 0;
  const stored = small === v && !Object.is(v, -0) ? small : v;
  if (at < into.length) into[at] = stored;
  else into.push(stored);
}
