/**
 * One evaluation of a metric alarm, as CloudWatch documents it ("Evaluating an alarm", "Configuring how
 * CloudWatch alarms treat missing data"): pure, over the datapoints of the last EvaluationPeriods periods.
 *
 *                    M of the last N datapoints breach
 *          ┌────────────────────────────────────────────────┐
 *          │                                                ▼
 *   INSUFFICIENT_DATA ◀── every datapoint missing ──    ALARM
 *          │   (TreatMissingData missing)                   │
 *          │                                                │ fewer than M breach
 *          └──────────── fewer than M breach ────────▶    OK ◀┘
 *
 * Missing datapoints count as breaching (`breaching`), as within the threshold (`notBreaching`), or not at all
 * (`missing`, `ignore`); when every datapoint is missing, `missing` moves to INSUFFICIENT_DATA and `ignore` keeps
 * the current state.
 */

export const alarmStates = ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const;
export type AlarmState = (typeof alarmStates)[number];

export const comparisonOperators = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const;
export type ComparisonOperator = (typeof comparisonOperators)[number];

export const missingDataTreatments = ['breaching', 'notBreaching', 'ignore', 'missing'] as const;
export type TreatMissingData = (typeof missingDataTreatments)[number];

/** What of an alarm's configuration evaluation reads. */
export interface EvaluatedAlarm {
  readonly threshold: number;
  readonly comparisonOperator: ComparisonOperator;
  readonly evaluationPeriods: number;
  /** M of N; N when absent. */
  readonly datapointsToAlarm?: number;
  readonly treatMissingData?: TreatMissingData;
  readonly period: number;
  /** For StateReasonData: the statistic (metric alarms) or absent (metric math). */
  readonly statistic?: string;
  readonly state: AlarmState;
}

/** One period of the evaluation range: its start (epoch seconds) and value, undefined when missing. */
export interface Datapoint {
  readonly t: number;
  readonly value: number | undefined;
}

export interface Verdict {
  readonly state: AlarmState;
  readonly reason: string;
  /** StateReasonData, CloudWatch's JSON. */
  readonly reasonData: string;
}

const verb: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export function breaches(op: ComparisonOperator, value: number, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/**
 * The alarm's state after this evaluation. `range` holds the last EvaluationPeriods periods, oldest first; `now`
 * (epoch ms) is the query date of the reason data.
 */
export function evaluateAlarm(alarm: EvaluatedAlarm, range: readonly Datapoint[], now: number): Verdict {
  const n = alarm.evaluationPeriods;
  const m = alarm.datapointsToAlarm ?? n;
  const treat = alarm.treatMissingData ?? 'missing';
  const present = range.filter((d) => d.value !== undefined) as { t: number; value: number }[];
  const missing = range.length - present.length;
  const breaching = present.filter((d) => breaches(alarm.comparisonOperator, d.value, alarm.threshold)).length;
  const data = reasonData(alarm, range, now);

  if (present.length === 0 && (treat === 'missing' || treat === 'ignore')) {
    if (treat === 'ignore') return { state: alarm.state, reason: `Insufficient Data: ${plural(missing, 'datapoint was', 'datapoints were')} unknown.`, reasonData: data };
    return { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${plural(missing, 'datapoint was', 'datapoints were')} unknown.`, reasonData: data };
  }
  const counted = breaching + (treat === 'breaching' ? missing : 0);
  const state: AlarmState = counted >= m ? 'ALARM' : 'OK';
  // The reason lists the datapoints that decided it, newest first, as CloudWatch's does.
  const shown = [...present].reverse();
  const list = shown.map((d) => `${num(d.value)} (${shortDate(d.t)})`).join(', ');
  const from = alarm.state;
  const transition = `${from} -> ${state}`;
  if (state === 'ALARM') {
    const count = counted;
    return {
      state,
      reason: `Threshold Crossed: ${count} out of the last ${n} datapoints [${list}] ${count === 1 ? 'was' : 'were'} ${verb[alarm.comparisonOperator]} the threshold (${num(alarm.threshold)}) (minimum ${plural(m, 'datapoint', 'datapoints')} for ${transition} transition).`,
      reasonData: data,
    };
  }
  // Datapoints within the threshold: the present ones not breaching, and missing ones only where they count as such
  // (notBreaching); with missing/ignore a missing datapoint is not "within" (15 of 15 with 2 present would be wrong).
  const within = present.length - breaching + (treat === 'notBreaching' ? missing : 0);
  // The fewest within-threshold datapoints that make ALARM impossible: N − M + 1.
  const needed = n - m + 1;
  return {
    state,
    reason: `Threshold Crossed: ${within} out of the last ${n} datapoints [${list}] ${within === 1 ? 'was' : 'were'} not ${verb[alarm.comparisonOperator]} the threshold (${num(alarm.threshold)}) (minimum ${plural(needed, 'datapoint', 'datapoints')} for ${transition} transition).`,
    reasonData: data,
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** CloudWatch writes thresholds and values as doubles: 70.0, 84.6. */
function num(v: number): string {
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

/** dd/MM/yy HH:mm:ss, UTC, as CloudWatch's reasons show a datapoint's time. */
function shortDate(t: number): string {
  const d = new Date(t * 1000);
  const p = (x: number) => String(x).padStart(2, '0');
  return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** 2026-12-06T18:50:00.000+0000, CloudWatch's reason-data dates. */
export function reasonDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

function reasonData(alarm: EvaluatedAlarm, range: readonly Datapoint[], now: number): string {
  const present = range.filter((d) => d.value !== undefined);
  return JSON.stringify({
    version: '1.0',
    queryDate: reasonDate(now),
    ...(range.length > 0 ? { startDate: reasonDate(range[0]!.t * 1000) } : {}),
    ...(alarm.statistic !== undefined ? { statistic: alarm.statistic } : {}),
    period: alarm.period,
    recentDatapoints: [...present].reverse().map((d) => d.value),
    threshold: alarm.threshold,
    evaluatedDatapoints: [...range].reverse().map((d) => ({ timestamp: reasonDate(d.t * 1000), ...(d.value !== undefined ? { value: d.value } : {}) })),
  });
}

/**
 * The N periods judged, from the N + 1 last complete ones (oldest first). CloudWatch retrieves more datapoints than
 * EvaluationPeriods, and with `missing` (and `ignore`) "does not consider missing data points": a newest period
 * without its datapoint yet — AWS/ECS utilization is written a few seconds after its minute ends, and the leader
 * may evaluate in between — is passed over and the N before it judged, instead of reading as a dip that would send
 * an N-of-N alarm back to OK (or keep it from ALARM) every period. `breaching`/`notBreaching` judge the newest N.
 */
export function judgedRange(lookback: readonly Datapoint[], evaluationPeriods: number, treat: TreatMissingData = 'missing'): Datapoint[] {
  const newestMissing = lookback.length > evaluationPeriods && lookback[lookback.length - 1]!.value === undefined;
  if (newestMissing && (treat === 'missing' || treat === 'ignore')) return lookback.slice(-evaluationPeriods - 1, -1);
  return lookback.slice(-evaluationPeriods);
}

/**
 * The evaluation range ending with the last complete period before `now` (epoch ms): N period starts, oldest
 * first. (CloudWatch evaluates complete periods; a period still filling would look like a dip.)
 */
export function evaluationRange(period: number, evaluationPeriods: number, now: number): number[] {
  const end = Math.floor(now / 1000 / period) * period;
  return Array.from({ length: evaluationPeriods }, (_, i) => end - (evaluationPeriods - i) * period);
}
