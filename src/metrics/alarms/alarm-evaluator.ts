import { parseAlarmRecord, type AlarmRecord } from '../../state/records/alarms.js';
import { alarmKeys } from '../../state/scaling-keys.js';
import type { BackgroundLog } from '../../process/background.js';
import { startPeriodic } from '../../process/periodic.js';
import { rangePages } from '../../store/range-pages.js';
import type { Store } from '../../store/store.js';
import { transact } from '../../store/transact.js';
import type { MetricsEnv } from '../api/env.js';
import { getMetricData } from '../api/get-metric-data.js';
import { addHistory, stateHistory } from './alarm-api.js';
import { evaluateAlarm, evaluationRange, judgedRange, type AlarmState, type ComparisonOperator, type Datapoint, type TreatMissingData } from './evaluate.js';

/** What an alarm action did, for the alarm's history. */
export interface ActionOutcome {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Runs one action of an alarm (an Application Auto Scaling policy, by ARN). `repeat`: the alarm stayed in its
 * state and the action is invoked again, as CloudWatch re-invokes Auto Scaling actions every period.
 */
export type AlarmActionInvoker = (action: string, alarm: AlarmRecord, repeat: boolean) => Promise<ActionOutcome>;

export interface AlarmEvaluatorOptions {
  readonly records: Store;
  readonly metrics: MetricsEnv;
  readonly log: BackgroundLog & { warn?: (obj: object, msg: string) => void };
  readonly invoke: AlarmActionInvoker;
  /** Milliseconds since the epoch; tests drive it. */
  readonly now: () => number;
  /** Between passes (default 10 s, the finest alarm period: each alarm is evaluated once per period, at most once a minute for periods of a minute or more). */
  readonly intervalMs?: number;
}

/**
 * One evaluation pass over every alarm due (its period, capped at a minute, has turned since it was last evaluated
 * by this leader): the metric query, the verdict, the state written in a compare-and-swap transaction with its
 * history item, then the actions. Returns the alarms whose state changed. `evaluated` is the leader's memory of when
 * each alarm was last evaluated (a new leader evaluates everything at once, which changes nothing that was right).
 */
export async function evaluateAlarms(options: AlarmEvaluatorOptions, evaluated: Map<string, number>): Promise<string[]> {
  const now = options.now();
  const changed: string[] = [];
  const seen = new Set<string>();
  for await (const page of rangePages(options.records, alarmKeys.alarms(), 500)) {
    for (const e of page) {
      const alarm = parseAlarmRecord(e.value, e.key);
      seen.add(alarm.name);
      const step = Math.min(alarm.period, 60) * 1000;
      const last = evaluated.get(alarm.name);
      if (last !== undefined && Math.floor(last / step) === Math.floor(now / step)) continue;
      evaluated.set(alarm.name, now);
      let range: Datapoint[];
      try {
        range = judgedRange(await datapoints(options.metrics, alarm, now), alarm.evaluationPeriods, alarm.treatMissingData as TreatMissingData | undefined);
      } catch (err) {
        options.log.warn?.({ err, alarm: alarm.name }, 'alarm metric query failed');
        continue;
      }
      const verdict = evaluateAlarm(
        {
          threshold: alarm.threshold,
          comparisonOperator: alarm.comparisonOperator as ComparisonOperator,
          evaluationPeriods: alarm.evaluationPeriods,
          ...(alarm.datapointsToAlarm !== undefined ? { datapointsToAlarm: alarm.datapointsToAlarm } : {}),
          ...(alarm.treatMissingData !== undefined ? { treatMissingData: alarm.treatMissingData as TreatMissingData } : {}),
          period: alarm.period,
          ...(alarm.metric ? { statistic: alarm.metric.statistic ?? alarm.metric.extendedStatistic! } : {}),
          state: alarm.state as AlarmState,
        },
        range,
        now,
      );
      const after = await transact(options.records, async (tx) => {
        const r = await tx.getRecord(parseAlarmRecord, e.key);
        // Deleted, or reconfigured since it was read: the next pass evaluates the new configuration.
        if (!r || r.configurationUpdatedAt !== alarm.configurationUpdatedAt || r.state !== alarm.state) return r;
        if (verdict.state === r.state) return r;
        const next: AlarmRecord = { ...r, state: verdict.state, stateReason: verdict.reason, stateReasonData: verdict.reasonData, stateUpdatedAt: now, stateTransitionedAt: now };
        tx.putJson(e.key, next);
        addHistory(tx, stateHistory(r.name, r.state, verdict.state, verdict.reason, now, verdict.reasonData));
        changed.push(r.name);
        return next;
      });
      // Actions see this evaluation's datapoints (CloudWatch keeps the reason data of the last transition only; a
      // policy invoked again while the alarm stays in ALARM must scale on the metric as it is now).
      if (after) await act(options, after.state === verdict.state ? { ...after, stateReasonData: verdict.reasonData } : after, now);
    }
  }
  // Deleted alarms are forgotten, so the memory does not grow with every alarm ever evaluated.
  for (const name of evaluated.keys()) if (!seen.has(name)) evaluated.delete(name);
  return changed;
}

/** Runs the alarm's actions: all of its state's on a state not yet acted on, else the Auto Scaling ones again. */
async function act(options: AlarmEvaluatorOptions, alarm: AlarmRecord, now: number): Promise<void> {
  const actions = alarm.state === 'ALARM' ? alarm.alarmActions : alarm.state === 'OK' ? alarm.okActions : alarm.insufficientDataActions;
  const fresh = alarm.actedOn !== alarm.stateUpdatedAt;
  if (!alarm.actionsEnabled) {
    if (fresh) await markActed(options, alarm, []);
    return;
  }
  const outcomes: { action: string; outcome: ActionOutcome }[] = [];
  for (const action of actions) {
    if (!fresh && !action.includes(':autoscaling:')) continue;
    let outcome: ActionOutcome;
    try {
      outcome = await options.invoke(action, alarm, !fresh);
    } catch (err) {
      outcome = { ok: false, message: (err as Error).message };
    }
    outcomes.push({ action, outcome });
  }
  if (fresh) await markActed(options, alarm, outcomes, now);
}

async function markActed(options: AlarmEvaluatorOptions, alarm: AlarmRecord, outcomes: { action: string; outcome: ActionOutcome }[], now = options.now()): Promise<void> {
  await transact(options.records, async (tx) => {
    const r = await tx.getRecord(parseAlarmRecord, alarmKeys.alarm(alarm.name));
    if (!r || r.stateUpdatedAt !== alarm.stateUpdatedAt) return;
    tx.putJson(alarmKeys.alarm(alarm.name), { ...r, actedOn: alarm.stateUpdatedAt });
    for (const { action, outcome } of outcomes) {
      addHistory(tx, {
        AlarmName: alarm.name,
        AlarmType: 'MetricAlarm',
        Timestamp: now,
        HistoryItemType: 'Action',
        HistorySummary: outcome.ok ? `Successfully executed action ${action}` : `Failed to execute action ${action}. Received error: "${outcome.message}"`,
        HistoryData: JSON.stringify({ actionState: outcome.ok ? 'Succeeded' : 'Failed', stateUpdateTimestamp: alarm.stateUpdatedAt, ...(outcome.ok ? { notificationResource: action } : { error: outcome.message }) }),
      });
    }
  });
}

/** The evaluation range's datapoints and one period before it (judgedRange), through GetMetricData's own implementation (metric math included). */
async function datapoints(metrics: MetricsEnv, alarm: AlarmRecord, now: number): Promise<Datapoint[]> {
  const starts = evaluationRange(alarm.period, alarm.evaluationPeriods + 1, now);
  const queries = alarm.metric
    ? [
        {
          Id: 'm1',
          MetricStat: {
            Metric: { Namespace: alarm.metric.namespace, MetricName: alarm.metric.metricName, Dimensions: [...alarm.metric.dimensions] },
            Period: alarm.period,
            Stat: alarm.metric.statistic ?? alarm.metric.extendedStatistic!,
            ...(alarm.metric.unit !== undefined ? { Unit: alarm.metric.unit } : {}),
          },
        },
      ]
    : (alarm.metrics as never[]);
  const answer = (await getMetricData(metrics, {
    MetricDataQueries: queries,
    StartTime: starts[0]!,
    EndTime: starts[starts.length - 1]! + alarm.period,
    ScanBy: 'TimestampAscending',
  })) as { MetricDataResults: { Timestamps: number[]; Values: number[] }[] };
  const result = answer.MetricDataResults[0]!;
  const byTime = new Map(result.Timestamps.map((t, i) => [t, result.Values[i]!]));
  return starts.map((t) => ({ t, value: byTime.get(t) }));
}

/** The leader's alarm evaluation, every `intervalMs`. */
export function startAlarmEvaluator(options: AlarmEvaluatorOptions): { stop(): Promise<void> } {
  const evaluated = new Map<string, number>();
  return startPeriodic({ log: options.log, what: 'alarm evaluation', intervalMs: options.intervalMs ?? 10_000, run: () => evaluateAlarms(options, evaluated) });
}
