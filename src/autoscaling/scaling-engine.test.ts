import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alarmOperations } from '../metrics/alarms/alarm-api.js';
import { evaluateAlarms, type AlarmEvaluatorOptions } from '../metrics/alarms/alarm-evaluator.js';
import { putMetricData } from '../metrics/api/put-metric-data.js';
import { MetricStore } from '../metrics/metric-store.js';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { keys } from '../state/keys.js';
import { parseAlarmRecord } from '../state/records/alarms.js';
import { alarmKeys } from '../state/scaling-keys.js';
import { parseServiceRecord } from '../state/records/services.js';
import { autoScalingService } from './autoscaling-service.js';
import { executePolicy, runScheduledActions } from './scaling-engine.js';

/**
 * The scaling engine over real records and a real metric store, in fake time: alarms evaluated by the leader's pass
 * at chosen instants, their Auto Scaling actions running policies, scheduled actions falling due.
 */
const scope = { region: 'us-east-1', accountId: '123456789012' };
const resource = 'service/c1/web';
let dir: string;
let clock: number;
let store: MemoryStore;
let metrics: MetricStore;
let api: ReturnType<typeof autoScalingService>['operations'];
let alarms: ReturnType<typeof alarmOperations>;
let evaluator: AlarmEvaluatorOptions;
const evaluated = new Map<string, number>();

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-scaling-'));
  clock = Date.UTC(2026, 11, 6, 18, 0, 0);
  const now = () => clock;
  store = new MemoryStore();
  metrics = new MetricStore(join(dir, 'metrics.db'), { now });
  const env = { store, scope, now, targetTrackingPeriodS: 10 };
  api = autoScalingService(env).operations;
  alarms = alarmOperations({ store: metrics, now, records: store, scope });
  evaluated.clear();
  evaluator = {
    records: store,
    metrics: { store: metrics, now },
    log: { error: () => {} },
    now,
    invoke: (action, alarm, repeat) => executePolicy(env, action, alarm, repeat),
  };
  await transact(store, async (tx) => tx.putJson(keys.service('c1', 'web'), { serviceName: 'web', serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/c1/web', status: 'ACTIVE', desiredCount: 1, deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', desiredCount: 1 }], berth: { cluster: 'c1' } }));
  await api.RegisterScalableTarget!({ ServiceNamespace: 'ecs', ResourceId: resource, ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 1, MaxCapacity: 8 }, {} as never);
});
afterEach(() => {
  metrics.close();
  rmSync(dir, { recursive: true, force: true });
});

const desired = async () => parseServiceRecord((await store.get(keys.service('c1', 'web')))!.value, 'k').desiredCount;
const put = (value: number, at = clock) => putMetricData({ store: metrics, now: () => clock }, { Namespace: 'App', MetricData: [{ MetricName: 'QueueDepth', Value: value, Timestamp: at / 1000, StorageResolution: 1 }] } as never);
/** Advance the fake clock by `s` seconds, then run one evaluation pass. */
async function tick(s: number) {
  clock += s * 1000;
  return evaluateAlarms(evaluator, evaluated);
}
const activities = async () => ((await api.DescribeScalingActivities!({ ServiceNamespace: 'ecs', ResourceId: resource }, {} as never)) as { ScalingActivities: { Description: string; Cause: string; StatusCode: string }[] }).ScalingActivities;

describe('step scaling driven by an alarm', () => {
  it('scales by the step the breach falls in, honours the cooldown, and stops when suspended', async () => {
    const { PolicyARN } = (await api.PutScalingPolicy!(
      {
        PolicyName: 'queue-out',
        ServiceNamespace: 'ecs',
        ResourceId: resource,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: {
          AdjustmentType: 'ChangeInCapacity',
          Cooldown: 60,
          MetricAggregationType: 'Maximum',
          StepAdjustments: [
            { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 50, ScalingAdjustment: 1 },
            { MetricIntervalLowerBound: 50, ScalingAdjustment: 3 },
          ],
        },
      },
      {} as never,
    )) as { PolicyARN: string };
    await alarms.PutMetricAlarm({ AlarmName: 'queue-high', Namespace: 'App', MetricName: 'QueueDepth', Statistic: 'Maximum', Period: 10, EvaluationPeriods: 1, Threshold: 100, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [PolicyARN] });
    await put(170);
    expect(await tick(10)).toEqual(['queue-high']);
    expect(await desired()).toBe(4);
    const [first] = await activities();
    expect(first).toMatchObject({ Description: 'Setting desired count to 4.', Cause: 'monitor alarm queue-high in state ALARM triggered policy queue-out', StatusCode: 'Successful' });
    // Still in ALARM, inside the cooldown: the same step again adds nothing (it was counted from 1).
    await put(170);
    await tick(10);
    expect(await desired()).toBe(4);
    // After the cooldown the alarm, still in ALARM, is acted on again: the smaller step, from 4.
    for (let i = 0; i < 6; i++) {
      await put(120);
      await tick(10);
    }
    expect(await desired()).toBe(5);
    // Suspended: no more scale-out.
    await api.RegisterScalableTarget!({ ServiceNamespace: 'ecs', ResourceId: resource, ScalableDimension: 'ecs:service:DesiredCount', SuspendedState: { DynamicScalingOutSuspended: true } }, {} as never);
    for (let i = 0; i < 8; i++) {
      await put(170);
      await tick(10);
    }
    expect(await desired()).toBe(5);
    const history = (await alarms.DescribeAlarmHistory({ AlarmName: 'queue-high', HistoryItemType: 'StateUpdate' })) as { AlarmHistoryItems: { HistorySummary: string }[] };
    expect(history.AlarmHistoryItems.map((h) => h.HistorySummary)).toEqual(['Alarm updated from INSUFFICIENT_DATA to ALARM']);
  });
});

describe('a leader killed between scaling and recording the alarm acted on', () => {
  it('a new leader replaying the first invocation for the same state change scales nothing more; a later re-invocation still scales', async () => {
    const { PolicyARN } = (await api.PutScalingPolicy!(
      {
        PolicyName: 'burst',
        ServiceNamespace: 'ecs',
        ResourceId: resource,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'StepScaling',
        // No cooldown: only the replay guard stands between a replay and a second +2.
        StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', Cooldown: 0, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }] },
      },
      {} as never,
    )) as { PolicyARN: string };
    await alarms.PutMetricAlarm({ AlarmName: 'burst-high', Namespace: 'App', MetricName: 'QueueDepth', Statistic: 'Maximum', Period: 10, EvaluationPeriods: 1, Threshold: 100, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [PolicyARN] });
    // The first leader is killed after the scale-out's transaction, before markActed's (its writes fail from then on).
    let dead = false;
    const dying = new Proxy(store, {
      get: (target, prop, receiver) => (prop === 'txn' ? (...args: Parameters<MemoryStore['txn']>) => (dead ? Promise.reject(new Error('killed')) : target.txn(...args)) : Reflect.get(target, prop, receiver)),
    });
    const first: AlarmEvaluatorOptions = {
      ...evaluator,
      records: dying,
      invoke: async (action, alarm, repeat) => {
        const outcome = await executePolicy({ store, scope, now: () => clock }, action, alarm, repeat);
        dead = true;
        return outcome;
      },
    };
    await put(170);
    clock += 10_000;
    await expect(evaluateAlarms(first, new Map())).rejects.toThrow('killed');
    expect(await desired()).toBe(3);
    expect(parseAlarmRecord((await store.get(alarmKeys.alarm('burst-high')))!.value, 'k')).toMatchObject({ state: 'ALARM' });
    // The new leader (no memory of evaluations) sees a change not acted on and invokes the policy as for a first time.
    const newLeader = new Map<string, number>();
    await put(170);
    await evaluateAlarms(evaluator, newLeader);
    expect(await desired()).toBe(3);
    expect((await activities()).filter((a) => a.Cause.includes('burst'))).toHaveLength(1);
    const actions = (await alarms.DescribeAlarmHistory({ AlarmName: 'burst-high', HistoryItemType: 'Action' })) as { AlarmHistoryItems: { HistorySummary: string }[] };
    expect(actions.AlarmHistoryItems.map((h) => h.HistorySummary)).toEqual([`Successfully executed action ${PolicyARN}`]);
    // Its periodic re-invocation while the alarm stays in ALARM scales again, as CloudWatch's would (no cooldown).
    await put(170, clock + 10_000);
    clock += 10_000;
    await evaluateAlarms(evaluator, newLeader);
    expect(await desired()).toBe(5);
  });
});

describe('not scaled activities', () => {
  it('a policy held at max capacity records one AlreadyAtMaxCapacity activity, listed only with IncludeNotScaledActivities', async () => {
    await api.RegisterScalableTarget!({ ServiceNamespace: 'ecs', ResourceId: resource, ScalableDimension: 'ecs:service:DesiredCount', MaxCapacity: 2 }, {} as never);
    const { PolicyARN } = (await api.PutScalingPolicy!(
      {
        PolicyName: 'plus-five',
        ServiceNamespace: 'ecs',
        ResourceId: resource,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', Cooldown: 0, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 5 }] },
      },
      {} as never,
    )) as { PolicyARN: string };
    await alarms.PutMetricAlarm({ AlarmName: 'deep', Namespace: 'App', MetricName: 'QueueDepth', Statistic: 'Maximum', Period: 10, EvaluationPeriods: 1, Threshold: 100, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [PolicyARN] });
    // 1 + 5 asks for 6: capped at the maximum, 2 (a scale-out, recorded as usual).
    await put(170);
    await tick(10);
    expect(await desired()).toBe(2);
    // At the maximum, invoked again every period: one not scaled activity, however many periods.
    for (let i = 0; i < 4; i++) {
      await put(170);
      await tick(10);
    }
    expect(await desired()).toBe(2);
    expect((await activities()).map((a) => a.Description)).toEqual(['Setting desired count to 2.']);
    const all = ((await api.DescribeScalingActivities!({ ServiceNamespace: 'ecs', ResourceId: resource, IncludeNotScaledActivities: true }, {} as never)) as { ScalingActivities: object[] }).ScalingActivities;
    expect(all).toHaveLength(2);
    expect(all[0]).toMatchObject({
      Description: 'Attempting to scale due to alarm triggered',
      Cause: 'monitor alarm deep in state ALARM triggered policy plus-five',
      StatusCode: 'Failed',
      NotScaledReasons: [{ Code: 'AlreadyAtMaxCapacity', MaxCapacity: 2, CurrentCapacity: 2 }],
    });
    // Raising the maximum lets the next invocation scale again.
    await api.RegisterScalableTarget!({ ServiceNamespace: 'ecs', ResourceId: resource, ScalableDimension: 'ecs:service:DesiredCount', MaxCapacity: 4 }, {} as never);
    await put(170);
    await tick(10);
    expect(await desired()).toBe(4);
  });
});

describe('target tracking', () => {
  it('creates its alarms, scales out proportionally and back in after the low alarm, within max', async () => {
    const out = (await api.PutScalingPolicy!(
      {
        PolicyName: 'track',
        ServiceNamespace: 'ecs',
        ResourceId: resource,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 50,
          CustomizedMetricSpecification: { Namespace: 'App', MetricName: 'QueueDepth', Statistic: 'Average' },
          ScaleOutCooldown: 30,
          ScaleInCooldown: 30,
        },
      },
      {} as never,
    )) as { Alarms: { AlarmName: string }[] };
    expect(out.Alarms.map((a) => a.AlarmName)).toEqual([expect.stringMatching(/^TargetTracking-service\/c1\/web-AlarmHigh-[0-9a-f-]{36}$/), expect.stringMatching(/^TargetTracking-service\/c1\/web-AlarmLow-[0-9a-f-]{36}$/)]);
    const described = (await alarms.DescribeAlarms({ AlarmNamePrefix: 'TargetTracking-service/c1/web-' })) as { MetricAlarms: { Threshold: number; EvaluationPeriods: number; ComparisonOperator: string; Period: number }[] };
    expect(described.MetricAlarms.map((a) => [a.ComparisonOperator, a.Threshold, a.EvaluationPeriods, a.Period])).toEqual([
      ['GreaterThanThreshold', 50, 3, 10],
      ['LessThanThreshold', 45, 15, 10],
    ]);
    // 3 periods above the target: from 1 task at 200 → ceil(1 × 200 / 50) = 4.
    for (let i = 0; i < 3; i++) {
      await put(200);
      await tick(10);
    }
    expect(await desired()).toBe(4);
    // 1,000 would ask for 80 tasks: max is 8 (after the scale-out cooldown).
    for (let i = 0; i < 4; i++) {
      await put(1000);
      await tick(10);
    }
    expect(await desired()).toBe(8);
    // Low for 15 periods: scale in to ceil(8 × 10 / 50) = 2.
    for (let i = 0; i < 16; i++) {
      await put(10);
      await tick(10);
    }
    expect(await desired()).toBe(2);
  });
});

describe('scheduled actions', () => {
  it('an at() action a few seconds ahead sets min/max and brings the desired count within them', async () => {
    const at = new Date(clock + 5_000).toISOString().slice(0, 19);
    await api.PutScheduledAction!({ ServiceNamespace: 'ecs', ScheduledActionName: 'morning', ResourceId: resource, ScalableDimension: 'ecs:service:DesiredCount', Schedule: `at(${at})`, ScalableTargetAction: { MinCapacity: 3, MaxCapacity: 6 } }, {} as never);
    clock += 4_000;
    expect(await runScheduledActions({ store, scope, now: () => clock })).toEqual([]);
    clock += 1_000;
    expect(await runScheduledActions({ store, scope, now: () => clock })).toEqual(['morning']);
    expect(await runScheduledActions({ store, scope, now: () => clock + 60_000 })).toEqual([]);
    expect(await desired()).toBe(3);
    const target = ((await api.DescribeScalableTargets!({ ServiceNamespace: 'ecs' }, {} as never)) as { ScalableTargets: { MinCapacity: number; MaxCapacity: number }[] }).ScalableTargets[0]!;
    expect([target.MinCapacity, target.MaxCapacity]).toEqual([3, 6]);
    expect((await activities()).map((a) => [a.Description, a.Cause])).toEqual([
      ['Setting desired count to 3.', 'minimum capacity was set to 3'],
      ['Setting min capacity to 3 and max capacity to 6', 'scheduled action name morning was triggered'],
    ]);
  });
});
