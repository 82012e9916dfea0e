import { describe, expect, it } from 'vitest';
import { evaluateAlarm, evaluationRange, judgedRange, type EvaluatedAlarm } from './evaluate.js';

const base: EvaluatedAlarm = { threshold: 70, comparisonOperator: 'GreaterThanThreshold', evaluationPeriods: 3, period: 60, statistic: 'Average', state: 'OK' };
const now = Date.UTC(2026, 11, 6, 18, 51, 2);
const range = (...values: (number | undefined)[]) => evaluationRange(60, values.length, now).map((t, i) => ({ t, value: values[i] }));

describe('evaluateAlarm', () => {
  it('evaluates the last complete periods before now', () => {
    expect(evaluationRange(60, 3, now).map((t) => new Date(t * 1000).toISOString())).toEqual(['2026-12-06T18:48:00.000Z', '2026-12-06T18:49:00.000Z', '2026-12-06T18:50:00.000Z']);
    expect(evaluationRange(10, 2, Date.UTC(2026, 11, 6, 18, 51, 29))).toEqual([Date.UTC(2026, 11, 6, 18, 51, 0) / 1000, Date.UTC(2026, 11, 6, 18, 51, 10) / 1000]);
  });

  it('alarms when all N breach, with CloudWatch reason and reason data', () => {
    const v = evaluateAlarm(base, range(80, 90, 84.6), now);
    expect(v.state).toBe('ALARM');
    expect(v.reason).toBe(
      'Threshold Crossed: 3 out of the last 3 datapoints [84.6 (06/12/26 18:50:00), 90.0 (06/12/26 18:49:00), 80.0 (06/12/26 18:48:00)] were greater than the threshold (70.0) (minimum 3 datapoints for OK -> ALARM transition).',
    );
    const data = JSON.parse(v.reasonData);
    expect(data).toMatchObject({ version: '1.0', queryDate: '2026-12-06T18:51:02.000+0000', startDate: '2026-12-06T18:48:00.000+0000', statistic: 'Average', period: 60, recentDatapoints: [84.6, 90, 80], threshold: 70 });
    expect(data.evaluatedDatapoints[0]).toEqual({ timestamp: '2026-12-06T18:50:00.000+0000', value: 84.6 });
  });

  it('stays OK when fewer than N breach (N of N)', () => {
    const v = evaluateAlarm(base, range(80, 60, 90), now);
    expect(v.state).toBe('OK');
    expect(v.reason).toContain('1 out of the last 3 datapoints');
    expect(v.reason).toContain('was not greater than the threshold (70.0) (minimum 1 datapoint for OK -> OK transition)');
  });

  it('M of N: DatapointsToAlarm 2 of 3', () => {
    const m = { ...base, datapointsToAlarm: 2 };
    expect(evaluateAlarm(m, range(80, 60, 90), now).state).toBe('ALARM');
    expect(evaluateAlarm(m, range(60, 60, 90), now).state).toBe('OK');
    expect(evaluateAlarm({ ...m, state: 'ALARM' }, range(60, 60, 90), now).reason).toContain('(minimum 2 datapoints for ALARM -> OK transition)');
  });

  it('each comparison operator', () => {
    expect(evaluateAlarm({ ...base, evaluationPeriods: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold' }, range(70), now).state).toBe('ALARM');
    expect(evaluateAlarm({ ...base, evaluationPeriods: 1, comparisonOperator: 'GreaterThanThreshold' }, range(70), now).state).toBe('OK');
    expect(evaluateAlarm({ ...base, evaluationPeriods: 1, comparisonOperator: 'LessThanThreshold' }, range(69), now).state).toBe('ALARM');
    expect(evaluateAlarm({ ...base, evaluationPeriods: 1, comparisonOperator: 'LessThanOrEqualToThreshold' }, range(70), now).state).toBe('ALARM');
  });

  describe('TreatMissingData', () => {
    it('missing (the default): all missing is INSUFFICIENT_DATA; some missing evaluates what is there', () => {
      const v = evaluateAlarm(base, range(undefined, undefined, undefined), now);
      expect(v).toMatchObject({ state: 'INSUFFICIENT_DATA', reason: 'Insufficient Data: 3 datapoints were unknown.' });
      expect(evaluateAlarm({ ...base, datapointsToAlarm: 2 }, range(undefined, 80, 90), now).state).toBe('ALARM');
      expect(evaluateAlarm(base, range(undefined, 80, 90), now).state).toBe('OK');
    });
    it('ignore: all missing keeps the current state', () => {
      expect(evaluateAlarm({ ...base, treatMissingData: 'ignore', state: 'ALARM' }, range(undefined, undefined, undefined), now).state).toBe('ALARM');
      expect(evaluateAlarm({ ...base, treatMissingData: 'ignore', state: 'OK' }, range(undefined, undefined, undefined), now).state).toBe('OK');
      expect(evaluateAlarm({ ...base, treatMissingData: 'ignore', state: 'ALARM' }, range(undefined, 10, undefined), now).state).toBe('OK');
    });
    it('breaching: missing datapoints breach', () => {
      expect(evaluateAlarm({ ...base, treatMissingData: 'breaching' }, range(undefined, undefined, undefined), now).state).toBe('ALARM');
      expect(evaluateAlarm({ ...base, treatMissingData: 'breaching' }, range(undefined, 80, undefined), now).state).toBe('ALARM');
      expect(evaluateAlarm({ ...base, treatMissingData: 'breaching' }, range(undefined, 10, undefined), now).state).toBe('OK');
    });
    it('notBreaching: missing datapoints are within the threshold', () => {
      expect(evaluateAlarm({ ...base, treatMissingData: 'notBreaching', state: 'ALARM' }, range(undefined, undefined, undefined), now).state).toBe('OK');
      expect(evaluateAlarm({ ...base, treatMissingData: 'notBreaching', datapointsToAlarm: 1 }, range(undefined, 80, undefined), now).state).toBe('ALARM');
      expect(evaluateAlarm({ ...base, treatMissingData: 'notBreaching', datapointsToAlarm: 2 }, range(undefined, 80, undefined), now).state).toBe('OK');
    });
  });
});

describe('reasons with missing datapoints', () => {
  it('count only the datapoints within the threshold that are there (missing), or the missing too (notBreaching)', () => {
    const low = { ...base, comparisonOperator: 'LessThanThreshold' as const, threshold: 45, evaluationPeriods: 15, state: 'INSUFFICIENT_DATA' as const };
    const r = evaluationRange(60, 15, now).map((t, i) => ({ t, value: i >= 13 ? 100 : undefined }));
    expect(evaluateAlarm(low, r, now).reason).toMatch(/^Threshold Crossed: 2 out of the last 15 datapoints \[100\.0 .*\] were not less than the threshold \(45\.0\) \(minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition\)\.$/);
    expect(evaluateAlarm({ ...low, treatMissingData: 'notBreaching' }, r, now).reason).toMatch(/^Threshold Crossed: 15 out of the last 15 datapoints/);
  });
});

describe('judgedRange', () => {
  const lookback = (...values: (number | undefined)[]) => evaluationRange(60, values.length, now).map((t, i) => ({ t, value: values[i] }));

  it('judges the newest N of the N + 1 periods read', () => {
    const r = lookback(10, 80, 90, 84.6);
    expect(judgedRange(r, 3).map((d) => d.value)).toEqual([80, 90, 84.6]);
  });

  it('with missing (the default) or ignore, passes over a newest period whose datapoint has not arrived yet', () => {
    const r = lookback(80, 90, 84.6, undefined);
    expect(judgedRange(r, 3).map((d) => d.value)).toEqual([80, 90, 84.6]);
    expect(judgedRange(r, 3, 'ignore').map((d) => d.value)).toEqual([80, 90, 84.6]);
    // So a 3-of-3 alarm is not sent back to OK by a datapoint still on its way.
    expect(evaluateAlarm({ ...base, state: 'ALARM' }, judgedRange(r, 3), now).state).toBe('ALARM');
    // A gap further back still counts as missing.
    expect(judgedRange(lookback(80, undefined, 84.6, 90), 3).map((d) => d.value)).toEqual([undefined, 84.6, 90]);
  });

  it('with breaching or notBreaching, judges the newest N as they are', () => {
    const r = lookback(80, 90, 84.6, undefined);
    expect(judgedRange(r, 3, 'breaching').map((d) => d.value)).toEqual([90, 84.6, undefined]);
    expect(evaluateAlarm({ ...base, treatMissingData: 'notBreaching', state: 'ALARM' }, judgedRange(r, 3, 'notBreaching'), now).state).toBe('OK');
  });
});
