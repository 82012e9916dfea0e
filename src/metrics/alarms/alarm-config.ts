import { ServiceError } from '../../model/errors.js';
import type { AlarmMetric, AlarmRecord } from '../../state/records/alarms.js';
import { combination, exclusive, invalidParameter, invalidValue, missing } from '../api/errors.js';
import { parseStatistic } from '../statistics.js';
import { comparisonOperators, missingDataTreatments } from './evaluate.js';

/** PutMetricAlarm's input, as the three codecs decode it. */
export interface PutMetricAlarmInput {
  AlarmName: string;
  AlarmDescription?: string;
  ActionsEnabled?: boolean;
  OKActions?: string[];
  AlarmActions?: string[];
  InsufficientDataActions?: string[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Dimensions?: { Name: string; Value: string }[];
  Period?: number;
  Unit?: string;
  EvaluationPeriods: number;
  DatapointsToAlarm?: number;
  Threshold?: number;
  ComparisonOperator: string;
  TreatMissingData?: string;
  EvaluateLowSampleCountPercentile?: string;
  Metrics?: { Id: string; MetricStat?: { Period: number; Stat: string; Metric: object }; Expression?: string; ReturnData?: boolean; Period?: number; Label?: string }[];
  ThresholdMetricId?: string;
  Tags?: { Key: string; Value: string }[];
}

/** The configuration part of an alarm record (everything PutMetricAlarm sets), checked as CloudWatch checks it. */
export type AlarmConfig = Pick<
  AlarmRecord,
  | 'description'
  | 'actionsEnabled'
  | 'okActions'
  | 'alarmActions'
  | 'insufficientDataActions'
  | 'metric'
  | 'metrics'
  | 'period'
  | 'evaluationPeriods'
  | 'datapointsToAlarm'
  | 'threshold'
  | 'comparisonOperator'
  | 'treatMissingData'
  | 'evaluateLowSampleCountPercentile'
>;

/** Alarm periods: 10, 20 and 30 seconds (high-resolution alarms) or a multiple of 60. */
function checkAlarmPeriod(field: string, period: number, allowed?: number): void {
  if (!(period === allowed || period === 10 || period === 20 || period === 30 || (period > 0 && period % 60 === 0))) {
    throw invalidValue(field, period, 'Valid values are 10, 20, 30 and any multiple of 60.');
  }
}

const ACTION = /^arn:aws[a-z-]*:(autoscaling|sns|ec2|automate|swf|lambda|ssm|ssm-incidents|opsworks):/;

/**
 * Checks PutMetricAlarm's input and returns the configuration to store. `allowPeriod`: one more period accepted,
 * for the alarms target tracking creates under the test-only time scale (5 s at BERTH_TIME_SCALE=12).
 */
export function alarmConfig(input: PutMetricAlarmInput, allowPeriod?: number): AlarmConfig {
  if (!comparisonOperators.includes(input.ComparisonOperator as never)) {
    throw invalidValue('ComparisonOperator', input.ComparisonOperator, 'berth evaluates static thresholds only (anomaly detection bands are not served).');
  }
  if (input.ThresholdMetricId !== undefined) throw invalidValue('ThresholdMetricId', input.ThresholdMetricId, 'berth does not serve anomaly detection.');
  if (input.Threshold === undefined) throw missing('Threshold');
  if (!Number.isFinite(input.Threshold)) throw invalidValue('Threshold', input.Threshold);
  if (input.TreatMissingData !== undefined && !missingDataTreatments.includes(input.TreatMissingData as never)) {
    throw invalidValue('TreatMissingData', input.TreatMissingData, 'Valid values are breaching, notBreaching, ignore and missing.');
  }
  if (input.EvaluateLowSampleCountPercentile !== undefined && !['evaluate', 'ignore'].includes(input.EvaluateLowSampleCountPercentile)) {
    throw invalidValue('EvaluateLowSampleCountPercentile', input.EvaluateLowSampleCountPercentile);
  }
  if (!(input.EvaluationPeriods >= 1)) throw invalidValue('EvaluationPeriods', input.EvaluationPeriods, 'It must be at least 1.');
  if (input.DatapointsToAlarm !== undefined && !(input.DatapointsToAlarm >= 1 && input.DatapointsToAlarm <= input.EvaluationPeriods)) {
    throw invalidValue('DatapointsToAlarm', input.DatapointsToAlarm, 'It must be between 1 and EvaluationPeriods.');
  }
  for (const field of ['OKActions', 'AlarmActions', 'InsufficientDataActions'] as const) {
    for (const [i, arn] of (input[field] ?? []).entries()) {
      if (!ACTION.test(arn)) throw invalidValue(`${field}.member.${i + 1}`, arn, 'It must be the ARN of an action.');
    }
  }

  let metric: AlarmMetric | undefined;
  let period: number;
  const single = input.MetricName !== undefined || input.Namespace !== undefined || input.Statistic !== undefined || input.ExtendedStatistic !== undefined;
  if (input.Metrics !== undefined) {
    if (single || input.Dimensions !== undefined || input.Period !== undefined) throw exclusive('Metrics', single ? 'MetricName' : input.Period !== undefined ? 'Period' : 'Dimensions');
    const returned = input.Metrics.filter((q) => q.ReturnData !== false);
    if (returned.length !== 1) throw invalidParameter('Exactly one element of the metrics list should return data.');
    for (const [i, q] of input.Metrics.entries()) {
      if (q.MetricStat && q.Expression !== undefined) throw exclusive(`Metrics.member.${i + 1}.MetricStat`, `Metrics.member.${i + 1}.Expression`);
      if (q.MetricStat) checkAlarmPeriod(`Metrics.member.${i + 1}.MetricStat.Period`, q.MetricStat.Period, allowPeriod);
    }
    const first = returned[0]!;
    period = first.MetricStat?.Period ?? first.Period ?? input.Metrics.find((q) => q.MetricStat)?.MetricStat?.Period ?? 0;
    if (!period) throw missing('Metrics.member.N.Period');
    checkAlarmPeriod('Period', period, allowPeriod);
  } else {
    if (input.MetricName === undefined) throw missing('MetricName');
    if (input.Namespace === undefined) throw missing('Namespace');
    if (input.Statistic !== undefined && input.ExtendedStatistic !== undefined) throw exclusive('Statistic', 'ExtendedStatistic');
    if (input.Statistic === undefined && input.ExtendedStatistic === undefined) throw combination('One of Statistic or ExtendedStatistic must be specified.');
    if (input.ExtendedStatistic !== undefined && parseStatistic(input.ExtendedStatistic)?.kind !== 'percentile') {
      throw invalidValue('ExtendedStatistic', input.ExtendedStatistic, 'berth computes percentiles pNN.NN.');
    }
    if (input.Period === undefined) throw missing('Period');
    checkAlarmPeriod('Period', input.Period, allowPeriod);
    period = input.Period;
    metric = {
      namespace: input.Namespace,
      metricName: input.MetricName,
      dimensions: input.Dimensions ?? [],
      ...(input.Statistic !== undefined ? { statistic: input.Statistic } : {}),
      ...(input.ExtendedStatistic !== undefined ? { extendedStatistic: input.ExtendedStatistic } : {}),
      ...(input.Unit !== undefined ? { unit: input.Unit } : {}),
    };
  }
  // CloudWatch's limit: the evaluation range is at most one day (seven for periods of an hour or more).
  const limit = period >= 3600 ? 7 * 86_400 : 86_400;
  if (period * input.EvaluationPeriods > limit) {
    throw new ServiceError('InvalidParameterValue', `The evaluation period multiplied by the number of periods must not exceed ${limit} seconds.`);
  }
  return {
    ...(input.AlarmDescription !== undefined ? { description: input.AlarmDescription } : {}),
    actionsEnabled: input.ActionsEnabled ?? true,
    okActions: input.OKActions ?? [],
    alarmActions: input.AlarmActions ?? [],
    insufficientDataActions: input.InsufficientDataActions ?? [],
    ...(metric ? { metric } : {}),
    ...(input.Metrics ? { metrics: input.Metrics } : {}),
    period,
    evaluationPeriods: input.EvaluationPeriods,
    ...(input.DatapointsToAlarm !== undefined ? { datapointsToAlarm: input.DatapointsToAlarm } : {}),
    threshold: input.Threshold,
    comparisonOperator: input.ComparisonOperator,
    ...(input.TreatMissingData !== undefined ? { treatMissingData: input.TreatMissingData } : {}),
    ...(input.EvaluateLowSampleCountPercentile !== undefined ? { evaluateLowSampleCountPercentile: input.EvaluateLowSampleCountPercentile } : {}),
  };
}

/** An alarm as DescribeAlarms answers it (timestamps epoch seconds, the codecs' convention). */
export function metricAlarmOut(r: AlarmRecord): object {
  return {
    AlarmName: r.name,
    AlarmArn: r.arn,
    ...(r.description !== undefined ? { AlarmDescription: r.description } : {}),
    AlarmConfigurationUpdatedTimestamp: r.configurationUpdatedAt / 1000,
    ActionsEnabled: r.actionsEnabled,
    OKActions: r.okActions,
    AlarmActions: r.alarmActions,
    InsufficientDataActions: r.insufficientDataActions,
    StateValue: r.state,
    StateReason: r.stateReason,
    ...(r.stateReasonData !== undefined ? { StateReasonData: r.stateReasonData } : {}),
    StateUpdatedTimestamp: r.stateUpdatedAt / 1000,
    StateTransitionedTimestamp: r.stateTransitionedAt / 1000,
    ...(r.metric
      ? {
          MetricName: r.metric.metricName,
          Namespace: r.metric.namespace,
          ...(r.metric.statistic !== undefined ? { Statistic: r.metric.statistic } : {}),
          ...(r.metric.extendedStatistic !== undefined ? { ExtendedStatistic: r.metric.extendedStatistic } : {}),
          Dimensions: r.metric.dimensions,
          Period: r.period,
          ...(r.metric.unit !== undefined ? { Unit: r.metric.unit } : {}),
        }
      : { Metrics: r.metrics }),
    EvaluationPeriods: r.evaluationPeriods,
    ...(r.datapointsToAlarm !== undefined ? { DatapointsToAlarm: r.datapointsToAlarm } : {}),
    Threshold: r.threshold,
    ComparisonOperator: r.comparisonOperator,
    ...(r.treatMissingData !== undefined ? { TreatMissingData: r.treatMissingData } : {}),
    ...(r.evaluateLowSampleCountPercentile !== undefined ? { EvaluateLowSampleCountPercentile: r.evaluateLowSampleCountPercentile } : {}),
  };
}
