/**
 * kill -9 of `berth server` in the middle of a scale-out, then a restart on the same data directory (no agent:
 * the desired count is the control plane's; the tasks need not run).
 *
 * A queue depth is pushed with PutMetricData (high-resolution, one datapoint every 100 ms, one request at a time,
 * each acknowledged one remembered); a step policy (+2, cooldown 300 s) is the action of an alarm on it (period
 * 10 s, 1 of 1, ≥ 100). The moment DescribeAlarms shows ALARM — the leader is then running the alarm's action:
 * the policy's transaction, then the alarm's "acted on" mark — the server is killed with SIGKILL and started again.
 *
 * After the restart: every acknowledged datapoint is there (per second, SampleCount and Sum at least what was
 * acknowledged); the alarm went to ALARM once (one StateUpdate, one Action item); DescribeScalingActivities holds
 * one activity; the desired count is 3 and stays 3 while the new leader keeps evaluating the alarm.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApplicationAutoScalingClient,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricStatisticsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { afterAll, describe, expect, it } from 'vitest';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const RESOURCE = 'service/default/worker';
const DIMENSION = 'ecs:service:DesiredCount';

function clients(s: BerthServerProcess) {
  const options = { endpoint: s.url, region: 'us-east-1', credentials: { ...s.keys }, maxAttempts: 1 };
  return { ecs: new ECSClient(options), cw: new CloudWatchClient(options), aas: new ApplicationAutoScalingClient(options) };
}

describe('kill -9 of the server in the middle of a scale-out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-scale-crash-'));
  const dataDir = join(dir, 'data');
  let server: BerthServerProcess | undefined;
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses no acknowledged datapoint, fires the alarm once and records one activity', async () => {
    server = await startBerthServer(dataDir);
    let c = clients(server);
    await c.ecs.send(new CreateClusterCommand({ clusterName: 'default' }));
    await c.ecs.send(new RegisterTaskDefinitionCommand({ family: 'worker', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 32 }] }));
    await c.ecs.send(new CreateServiceCommand({ serviceName: 'worker', taskDefinition: 'worker', desiredCount: 1 }));
    await c.aas.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE, ScalableDimension: DIMENSION, MinCapacity: 1, MaxCapacity: 10 }));
    const { PolicyARN } = await c.aas.send(
      new PutScalingPolicyCommand({
        ServiceNamespace: 'ecs',
        ResourceId: RESOURCE,
        ScalableDimension: DIMENSION,
        PolicyName: 'plus-two',
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', Cooldown: 300, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 2 }] },
      }),
    );
    await c.cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'depth-high',
        Namespace: 'App',
        MetricName: 'QueueDepth',
        Statistic: 'Maximum',
        Period: 10,
        EvaluationPeriods: 1,
        Threshold: 100,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [PolicyARN!],
      }),
    );

    // The load: one PutMetricData at a time, each acknowledged datapoint remembered per second.
    const acked = new Map<number, { count: number; sum: number }>();
    let pushing = true;
    let seq = 0;
    const pusher = (async () => {
      while (pushing) {
        const value = 150 + (seq++ % 50);
        const at = new Date();
        try {
          await c.cw.send(new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'QueueDepth', Value: value, Timestamp: at, StorageResolution: 1 }] }));
          const second = Math.floor(at.getTime() / 1000);
          const s = acked.get(second) ?? { count: 0, sum: 0 };
          acked.set(second, { count: s.count + 1, sum: s.sum + value });
        } catch {
          // the server is down (killed, restarting): not acknowledged, not counted
          await new Promise((r) => setTimeout(r, 100));
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    // ALARM seen: the leader is running the alarm's action right now. Kill it.
    await expect.poll(async () => (await c.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['depth-high'] }))).MetricAlarms![0]!.StateValue, { timeout: 60_000, interval: 50 }).toBe('ALARM');
    expect(await server.kill('SIGKILL')).toBeNull();
    const killedAt = Date.now();
    server = await startBerthServer(dataDir);
    const old = c;
    c = clients(server);
    for (const x of Object.values(old)) x.destroy();
    const restartedAfterMs = Date.now() - killedAt;

    // The new leader acts on the alarm (if the first one had not) and the desired count is 1 + 2.
    const desired = async () => (await c.ecs.send(new DescribeServicesCommand({ services: ['worker'] }))).services![0]!.desiredCount;
    await expect.poll(desired, { timeout: 60_000, interval: 250 }).toBe(3);
    const history = async (type: 'StateUpdate' | 'Action') => (await c.cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'depth-high', HistoryItemType: type }))).AlarmHistoryItems!;
    await expect.poll(async () => (await history('Action')).length, { timeout: 60_000, interval: 250 }).toBeGreaterThan(0);
    // Two more evaluation passes (every 10 s) of the alarm, still in ALARM, by the new leader: nothing more.
    const watchFrom = Date.now();
    while (Date.now() - watchFrom < 25_000) {
      expect(await desired()).toBe(3);
      await new Promise((r) => setTimeout(r, 1000));
    }
    pushing = false;
    await pusher;

    const activities = (await c.aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE }))).ScalingActivities!;
    expect(activities).toHaveLength(1);
    expect(activities[0]).toMatchObject({ Description: 'Setting desired count to 3.', Cause: 'monitor alarm depth-high in state ALARM triggered policy plus-two', StatusCode: 'Successful' });
    const states = await history('StateUpdate');
    expect(states.filter((h) => h.HistorySummary!.endsWith('to ALARM'))).toHaveLength(1);
    const actions = await history('Action');
    expect(actions.map((h) => h.HistorySummary)).toEqual([`Successfully executed action ${PolicyARN}`]);
    expect((await c.cw.send(new DescribeAlarmsCommand({ AlarmNames: ['depth-high'] }))).MetricAlarms![0]!.StateValue).toBe('ALARM');

    // Every acknowledged datapoint, per second: at least what was acknowledged (a request cut by the kill may have
    // been stored without its answer arriving, so more is allowed; less is a loss).
    const seconds = [...acked.keys()].sort((a, b) => a - b);
    const stats = await c.cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'App',
        MetricName: 'QueueDepth',
        StartTime: new Date(seconds[0]! * 1000),
        EndTime: new Date((seconds.at(-1)! + 1) * 1000),
        Period: 1,
        Statistics: ['SampleCount', 'Sum'],
      }),
    );
    const stored = new Map(stats.Datapoints!.map((d) => [d.Timestamp!.getTime() / 1000, d]));
    const lost = seconds.filter((s) => (stored.get(s)?.SampleCount ?? 0) < acked.get(s)!.count || (stored.get(s)?.Sum ?? 0) < acked.get(s)!.sum - 1e-6);
    expect(lost).toEqual([]);
    const ackedTotal = [...acked.values()].reduce((n, s) => n + s.count, 0);
    const activityAt = activities[0]!.StartTime!.getTime();
    console.log(
      `kill -9 ${activityAt <= killedAt ? 'after' : 'before'} the scale-out's transaction (activity ${activityAt - killedAt} ms from the kill); ` +
        `restarted in ${restartedAfterMs} ms; ${ackedTotal} acknowledged datapoints over ${seconds.length} s, none lost`,
    );

    // Item 4 of the issue: the maximum lowered to the current 3 while the alarm stays in ALARM — the next invocation
    // is held at the bound and says so, as a not scaled activity (listed only with IncludeNotScaledActivities).
    await c.aas.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE, ScalableDimension: DIMENSION, MaxCapacity: 3 }));
    pushing = true;
    const again = (async () => {
      while (pushing) {
        await c.cw.send(new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'QueueDepth', Value: 170, StorageResolution: 1 }] })).catch(() => {});
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    const withNotScaled = async () => (await c.aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE, IncludeNotScaledActivities: true }))).ScalingActivities!;
    await expect.poll(async () => (await withNotScaled()).length, { timeout: 40_000, interval: 500 }).toBe(2);
    pushing = false;
    await again;
    expect((await withNotScaled())[0]).toMatchObject({
      Description: 'Attempting to scale due to alarm triggered',
      Cause: 'monitor alarm depth-high in state ALARM triggered policy plus-two',
      StatusCode: 'Failed',
      NotScaledReasons: [{ Code: 'AlreadyAtMaxCapacity', MaxCapacity: 3, CurrentCapacity: 3 }],
    });
    expect((await c.aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE }))).ScalingActivities).toHaveLength(1);
    expect(await desired()).toBe(3);
    for (const x of Object.values(c)) x.destroy();
  }, 240_000);
});
