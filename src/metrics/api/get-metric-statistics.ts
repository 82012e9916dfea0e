import { seriesRef, type Dimension } from '../series.js';
import { parseStatistic, statisticOf, type Statistic } from '../statistics.js';
import type { MetricsEnv } from './env.js';
import { combination, exclusive, invalidValue } from './errors.js';
import { checkPeriod, checkRange } from './periods.js';

/** GetMetricStatistics answers at most this many datapoints (CloudWatch's limit). */
export const MAX_STATISTICS_DATAPOINTS = 1440;

interface Input {
  Namespace: string;
  MetricName: string;
  Dimensions?: Dimension[];
  StartTime: number;
  EndTime: number;
  Period: number;
  Statistics?: string[];
  ExtendedStatistics?: string[];
  Unit?: string;
}

export function getMetricStatistics(env: MetricsEnv, input: Input): Promise<object> {
  if (input.Statistics && input.ExtendedStatistics) throw exclusive('Statistics', 'ExtendedStatistics');
  if (!input.Statistics && !input.ExtendedStatistics) throw combination('Must specify either Statistics or ExtendedStatistics.');
  checkPeriod('Period', input.Period);
  checkRange(input.StartTime, input.EndTime);
  const requested = Math.ceil((input.EndTime - input.StartTime) / input.Period);
  if (requested > MAX_STATISTICS_DATAPOINTS) {
    throw combination(
      `You have requested up to ${requested.toLocaleString('en-US')} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  }
  const extended: [string, Statistic][] = (input.ExtendedStatistics ?? []).map((name, i) => {
    const stat = parseStatistic(name);
    if (stat?.kind !== 'percentile') throw invalidValue(`ExtendedStatistics.member.${i + 1}`, name, 'berth computes the percentiles pNN and pNN.NN.');
    return [name, stat];
  });
  const series = seriesRef(input.Namespace, input.MetricName, input.Dimensions);
  const unit = env.store.find(series)?.unit ?? 'None';
  const points = env.store.query({
    series,
    start: input.StartTime,
    end: input.EndTime,
    period: input.Period,
    sketches: extended.length > 0,
    ...(input.Unit !== undefined ? { unit: input.Unit } : {}),
  });
  const datapoints = points.map((point) => {
    const out: Record<string, unknown> = { Timestamp: point.t, Unit: unit };
    for (const name of input.Statistics ?? []) out[name] = statisticOf(parseStatistic(name)!, point);
    if (extended.length > 0) {
      const values: Record<string, number> = {};
      for (const [name, stat] of extended) {
        const v = statisticOf(stat, point);
        if (v !== undefined) values[name] = v;
      }
      out.ExtendedStatistics = values;
    }
    return out;
  });
  return Promise.resolve({ Label: input.MetricName, Datapoints: datapoints });
}
