import { SampleBatch } from '../sample-batch.js';
import type { Dimension } from '../series.js';
import type { MetricsEnv } from './env.js';
import { exclusive, invalidParameter, invalidValue, missing, combination } from './errors.js';

/** PutMetricData's limits (CloudWatch quotas). */
export const PUT_LIMITS = {
  metricData: 1000,
  values: 150,
  pastSeconds: 14 * 86_400,
  futureSeconds: 2 * 3600,
  /** CloudWatch rejects magnitudes outside these (base 10: e-109 and e+108). */
  smallest: 8.515920e-109,
  largest: 1.174271e108,
} as const;

interface MetricDatum {
  MetricName: string;
  Dimensions?: Dimension[];
  Timestamp?: number;
  Value?: number;
  StatisticValues?: { SampleCount: number; Sum: number; Minimum: number; Maximum: number };
  Values?: number[];
  Counts?: number[];
  Unit?: string;
  StorageResolution?: number;
}

interface PutMetricDataInput {
  Namespace: string;
  MetricData?: MetricDatum[];
  EntityMetricData?: { MetricData?: MetricDatum[] }[];
}

/**
 * Checks the whole request before anything is stored (all or nothing, as CloudWatch), then stores it durably.
 * Not an async function: the store folds the request in before this returns, and nothing of `input` (a thousand
 * datums' objects) is then kept while the commit is awaited.
 */
export function putMetricData(env: MetricsEnv, input: PutMetricDataInput): Promise<object> {
  try {
    return env.store.putBatch(batchOf(env, input)).then(() => ({}));
  } catch (error) {
    return Promise.reject(error);
  }
}

function batchOf(env: MetricsEnv, input: PutMetricDataInput): SampleBatch {
  if (input.Namespace.startsWith('AWS/')) throw invalidValue('Namespace', input.Namespace, 'Namespaces starting with AWS/ are reserved for AWS services.');
  const nowS = env.now() / 1000;
  const batch = new SampleBatch();
  const lists: [string, MetricDatum[]][] = [];
  if (input.MetricData && input.MetricData.length > 0) lists.push(['MetricData', input.MetricData]);
  for (const [i, entity] of (input.EntityMetricData ?? []).entries()) {
    if (entity.MetricData && entity.MetricData.length > 0) lists.push([`EntityMetricData.member.${i + 1}.MetricData`, entity.MetricData]);
  }
  if (lists.length === 0) throw missing('MetricData');
  for (const [field, data] of lists) {
    if (data.length > PUT_LIMITS.metricData) throw invalidParameter(`The collection ${field} must not have a size greater than ${PUT_LIMITS.metricData}.`);
    for (let i = 0; i < data.length; i++) addDatum(batch, input.Namespace, data[i]!, field, i, nowS);
  }
  return batch;
}

/** Whether CloudWatch stores `v` (finite, within its magnitudes). */
function storable(v: number): boolean {
  const abs = Math.abs(v);
  return Number.isFinite(v) && abs <= PUT_LIMITS.largest && (abs === 0 || abs >= PUT_LIMITS.smallest);
}

/** Adds one datum to the batch; field names are only built for an error (this runs for every datapoint ingested). */
function addDatum(batch: SampleBatch, namespace: string, d: MetricDatum, list: string, index: number, nowS: number): void {
  const value = d.Value;
  // The common datum, one Value of standard resolution: checked and returned with nothing else built.
  if (value !== undefined && d.StatisticValues === undefined && d.Values === undefined && d.Counts === undefined && (d.Dimensions === undefined || d.Dimensions.length < 2) && d.StorageResolution === undefined) {
    const t = d.Timestamp ?? nowS;
    if (t >= nowS - PUT_LIMITS.pastSeconds && t <= nowS + PUT_LIMITS.futureSeconds && storable(value)) {
      batch.addValue(batch.seriesAt(namespace, d.MetricName, d.Dimensions, d.Unit ?? 'None', false), t, value);
      return;
    }
  }
  const at = `${list}.member.${index + 1}`;
  const given = (d.Value !== undefined ? 1 : 0) + (d.StatisticValues !== undefined ? 1 : 0) + (d.Values !== undefined ? 1 : 0);
  if (given > 1) {
    const names = (['Value', 'StatisticValues', 'Values'] as const).filter((k) => d[k] !== undefined);
    throw exclusive(`${at}.${names[0]}`, `${at}.${names[1]}`);
  }
  if (given === 0) throw combination(`One of the parameters ${at}.Value, ${at}.StatisticValues or ${at}.Values must be specified.`);
  if (d.Counts !== undefined && d.Values === undefined) throw combination(`The parameter ${at}.Counts may only be specified with ${at}.Values.`);
  const dims = d.Dimensions;
  if (dims && dims.length > 1) {
    for (let j = 1; j < dims.length; j++) {
      for (let k = 0; k < j; k++) {
        if (dims[k]!.Name === dims[j]!.Name) throw invalidValue(`${at}.Dimensions.member.${j + 1}.Name`, dims[j]!.Name, 'A dimension name may appear only once.');
      }
    }
  }
  const t = d.Timestamp ?? nowS;
  if (t < nowS - PUT_LIMITS.pastSeconds) throw invalidParameter(`The parameter ${at}.Timestamp must specify a time no more than two weeks in the past.`);
  if (t > nowS + PUT_LIMITS.futureSeconds) throw invalidParameter(`The parameter ${at}.Timestamp must specify a time no more than two hours in the future.`);
  const resolution = d.StorageResolution ?? 60;
  if (resolution !== 1 && resolution !== 60) throw invalidValue(`${at}.StorageResolution`, resolution, 'Valid values are 1 and 60.');
  const series = batch.seriesAt(namespace, d.MetricName, dims, d.Unit ?? 'None', resolution === 1);

  if (d.Value !== undefined) {
    if (!storable(d.Value)) throw invalidValue(`${at}.Value`, d.Value);
    batch.addValue(series, t, d.Value);
    return;
  }
  if (d.StatisticValues !== undefined) {
    const s = d.StatisticValues;
    for (const k of ['SampleCount', 'Sum', 'Minimum', 'Maximum'] as const) if (!storable(s[k])) throw invalidValue(`${at}.StatisticValues.${k}`, s[k]);
    if (s.SampleCount <= 0) throw invalidValue(`${at}.StatisticValues.SampleCount`, s.SampleCount, 'It must be greater than 0.');
    if (s.Minimum > s.Maximum) throw invalidParameter(`The parameter ${at}.StatisticValues.Minimum must not be greater than ${at}.StatisticValues.Maximum.`);
    batch.addAggregated(series, { t, count: s.SampleCount, sum: s.Sum, min: s.Minimum, max: s.Maximum });
    return;
  }
  const values = d.Values!;
  const counts = d.Counts;
  if (values.length === 0) throw missing(`${at}.Values`);
  if (values.length > PUT_LIMITS.values) throw invalidParameter(`The collection ${at}.Values must not have a size greater than ${PUT_LIMITS.values}.`);
  if (counts !== undefined && counts.length !== values.length) throw invalidParameter(`The parameters ${at}.Values and ${at}.Counts must be of the same size.`);
  let count = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!storable(v)) throw invalidValue(`${at}.Values.member.${i + 1}`, v);
    const c = counts?.[i] ?? 1;
    if (!Number.isFinite(c) || c < 0) throw invalidValue(`${at}.Counts.member.${i + 1}`, c);
    if (c === 0) continue;
    count += c;
    sum += v * c;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (count === 0) throw invalidParameter(`The parameter ${at}.Counts must count at least one value.`);
  batch.addAggregated(series, { t, count, sum, min, max, values, ...(counts ? { counts } : {}) });
}
