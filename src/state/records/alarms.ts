import { recordParser } from './codec.js';

/** A dimension or tag as CloudWatch spells it. */
export interface NameValue {
  readonly Name: string;
  readonly Value: string;
}

/** A metric alarm's single metric (PutMetricAlarm's MetricName, Namespace, …). */
export interface AlarmMetric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly NameValue[];
  /** One of Statistic or ExtendedStatistic. */
  readonly statistic?: string;
  readonly extendedStatistic?: string;
  readonly unit?: string;
}

/**
 * A CloudWatch metric alarm: its configuration as PutMetricAlarm gave it and its state as the leader's evaluator
 * last wrote it. Both change in compare-and-swap transactions on this one key, so a PutMetricAlarm racing an
 * evaluation is retried against the other's write, never overwritten.
 */
export interface AlarmRecord {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly actionsEnabled: boolean;
  readonly okActions: readonly string[];
  readonly alarmActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
  /** Either `metric` (with `period`) or `metrics` (MetricDataQueries as given, one with ReturnData). */
  readonly metric?: AlarmMetric;
  readonly metrics?: readonly object[];
  readonly period: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
  readonly comparisonOperator: string;
  readonly treatMissingData?: string;
  readonly evaluateLowSampleCountPercentile?: string;
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
  /** Epoch ms. */
  readonly configurationUpdatedAt: number;
  readonly state: string;
  readonly stateReason: string;
  readonly stateReasonData?: string;
  /** Epoch ms of the last state update, and of the last transition to another state. */
  readonly stateUpdatedAt: number;
  readonly stateTransitionedAt: number;
  /** The `stateUpdatedAt` whose actions the leader has run (a state set by SetAlarmState on any replica is acted on once). */
  readonly actedOn?: number;
  /** Application Auto Scaling's target-tracking policy (ARN) that created and owns this alarm. */
  readonly ownedBy?: string;
}

export const parseAlarmRecord = recordParser<AlarmRecord>('CloudWatch alarm', {
  name: 'string',
  arn: 'string',
  actionsEnabled: 'boolean',
  okActions: 'array',
  alarmActions: 'array',
  insufficientDataActions: 'array',
  period: 'number',
  evaluationPeriods: 'number',
  threshold: 'number',
  comparisonOperator: 'string',
  tags: 'array',
  state: 'string',
  stateReason: 'string',
  stateUpdatedAt: 'number',
  stateTransitionedAt: 'number',
});

/** One DescribeAlarmHistory item, as CloudWatch answers it. */
export interface AlarmHistoryRecord {
  readonly AlarmName: string;
  readonly AlarmType: 'MetricAlarm';
  /** Epoch ms. */
  readonly Timestamp: number;
  readonly HistoryItemType: 'ConfigurationUpdate' | 'StateUpdate' | 'Action';
  readonly HistorySummary: string;
  readonly HistoryData: string;
}

export const parseAlarmHistoryRecord = recordParser<AlarmHistoryRecord>('CloudWatch alarm history item', {
  AlarmName: 'string',
  Timestamp: 'number',
  HistoryItemType: 'string',
  HistorySummary: 'string',
  HistoryData: 'string',
});
