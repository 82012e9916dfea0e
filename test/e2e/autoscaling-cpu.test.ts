/**
 * Target tracking on ECSServiceAverageCPUUtilization end to end, with real CPU: a real `berth server`, a real agent
 * running busybox tasks under runc, and the CPU figures the agent reads from the tasks' cgroups — nothing pushed.
 *
 * The service's tasks (256 CPU units each) spin a shell loop while a marker file exists in a bind-mounted host
 * directory and sleep otherwise: the test creates the marker (load) and removes it (no load). Target tracking at
 * 50 %, min 1, max 3, cooldowns 10 s: under load it scales out to the maximum and stays there; when the load
 * stops, AlarmLow's 15 low periods pass and it scales in to the minimum.
 *
 * Then a capacity shortfall: a second service of 1,024-unit tasks, scaled by a step policy to 4 on a host of 2,048
 * units where one fits: as in AWS, the activity is Successful (the desired count is set) and the shortfall is in
 * the service's events ("was unable to place a task … insufficient CPU units available").
 *
 * Time scale (test-only, docs/autoscaling.md "Test-only time scale"): AWS's 1-minute periods would make scale-in
 * take over 15 minutes, so the server runs with BERTH_TIME_SCALE=12 — a "minute" of AWS/ECS utilization, target
 * tracking's alarm period and the evaluation interval all last 5 s (evaluation every 0.83 s) — and the agent
 * publishes its figures every 2 s (BERTH_METRICS_PUBLISH_INTERVAL; more than once per 5-s period, so none is
 * without figures). The alarms keep AWS's 3 of 3 (high) and 15 of 15 (low) periods; cooldowns are the policy's own.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApplicationAutoScalingClient,
  DescribeScalingActivitiesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ScalingActivity,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmHistoryCommand, DescribeAlarmsCommand, GetMetricDataCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateServiceCommand, DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './support/cluster.js';

const isRoot = process.getuid?.() === 0;
const RESOURCE = 'service/default/burn';
const DIMENSION = 'ecs:service:DesiredCount';
const PERIOD_S = 5; // 60 s / BERTH_TIME_SCALE

describe.runIf(isRoot)('target tracking on the service CPU the agent measures', () => {
  let cluster: TestCluster;
  let cw: CloudWatchClient;
  let aas: ApplicationAutoScalingClient;
  let ctl = '';
  /** Every desired count seen while the test runs (sampled every 250 ms), to prove min/max were never crossed. */
  const seen = new Set<number>();
  let sampler: ReturnType<typeof setInterval> | undefined;

  const service = async () => (await cluster.ecs.send(new DescribeServicesCommand({ services: ['burn'] }))).services![0]!;
  const activities = async (): Promise<ScalingActivity[]> => (await aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE }))).ScalingActivities!;
  const alarm = async (name: string) => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms![0]!;
  const stateHistory = async (name: string) =>
    ((await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate', ScanBy: 'TimestampAscending' }))).AlarmHistoryItems ?? []).map((h) => h.HistorySummary);
  /** The service's CPUUtilization datapoints (period 5 s) of the last `seconds`, oldest first. */
  const cpu = async (seconds: number) => {
    const now = Date.now();
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - seconds * 1000),
        EndTime: new Date(now),
        ScanBy: 'TimestampAscending',
        MetricDataQueries: [
          {
            Id: 'cpu',
            MetricStat: {
              Metric: { Namespace: 'AWS/ECS', MetricName: 'CPUUtilization', Dimensions: [{ Name: 'ClusterName', Value: 'default' }, { Name: 'ServiceName', Value: 'burn' }] },
              Period: PERIOD_S,
              Stat: 'Average',
            },
          },
        ],
      }),
    );
    return out.MetricDataResults![0]!.Values!;
  };

  beforeAll(async () => {
    cluster = await startTestCluster({ serverEnv: { BERTH_TIME_SCALE: '12' } });
    // 2,048 CPU units whatever the machine: three 256-unit tasks fit, and beside one of them a single 1,024-unit task.
    await cluster.startAgent({ env: { BERTH_METRICS_PUBLISH_INTERVAL: '2s', BERTH_CPU_UNITS: '2048' } });
    const credentials = { ...cluster.server.keys };
    cw = new CloudWatchClient({ endpoint: cluster.server.url, region: 'us-east-1', credentials });
    aas = new ApplicationAutoScalingClient({ endpoint: cluster.server.url, region: 'us-east-1', credentials });
    ctl = mkdtempSync(join(tmpdir(), 'berth-e2e-burn-'));
    await cluster.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'burn',
        cpu: '256',
        memory: '128',
        volumes: [{ name: 'ctl', host: { sourcePath: ctl } }],
        containerDefinitions: [
          {
            name: 'app',
            image: cluster.image,
            mountPoints: [{ sourceVolume: 'ctl', containerPath: '/ctl', readOnly: true }],
            // Spin while /ctl/burn exists (a stat and a builtin per turn: all CPU), else check once a second.
            command: ['sh', '-c', 'while :; do while [ -e /ctl/burn ]; do :; done; sleep 1; done'],
          },
        ],
      }),
    );
    await cluster.ecs.send(new CreateServiceCommand({ serviceName: 'burn', taskDefinition: 'burn', desiredCount: 1 }));
    sampler = setInterval(() => {
      service()
        .then((s) => seen.add(s.desiredCount!))
        .catch(() => {});
    }, 250);
  }, 120_000);

  afterAll(async () => {
    if (sampler) clearInterval(sampler);
    if (ctl) rmSync(join(ctl, 'burn'), { force: true }); // the load stops first, whatever happened
    if (cluster) {
      // No scaling while the service drains, and every task gone before the agent is: cluster.stop() only waits
      // for tasks still desired RUNNING.
      for (const name of ['burn', 'big']) {
        await aas?.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: `service/default/${name}`, ScalableDimension: DIMENSION, MinCapacity: 0, MaxCapacity: 0 })).catch(() => {});
        await cluster.ecs.send(new UpdateServiceCommand({ service: name, desiredCount: 0 })).catch(() => {});
      }
      const deadline = Date.now() + 60_000;
      const settled = async () => {
        const arns = (await cluster.ecs.send(new ListTasksCommand({ desiredStatus: 'STOPPED' }))).taskArns!;
        const tasks = arns.length ? (await cluster.ecs.send(new DescribeTasksCommand({ tasks: arns }))).tasks! : [];
        const running = (await cluster.ecs.send(new ListTasksCommand({ desiredStatus: 'RUNNING' }))).taskArns!;
        return running.length === 0 && tasks.every((t) => t.lastStatus === 'STOPPED');
      };
      while (Date.now() < deadline && !(await settled().catch(() => false))) await new Promise((r) => setTimeout(r, 500));
      await cluster.stop();
    }
    if (ctl) rmSync(ctl, { recursive: true, force: true });
    cw?.destroy();
    aas?.destroy();
  }, 120_000);

  /** On a failure, what the alarms went through (their reasons name every datapoint). */
  const dumpHistory = async () => {
    const items = (await cw.send(new DescribeAlarmHistoryCommand({ HistoryItemType: 'StateUpdate', ScanBy: 'TimestampAscending' }))).AlarmHistoryItems ?? [];
    for (const h of items) console.log(`${h.Timestamp!.toISOString()} ${h.AlarmName!.replace(/-[0-9a-f-]{36}$/, '')}: ${JSON.parse(h.HistoryData!).newState.stateReason}`);
    console.log(`CPU per 5 s: ${(await cpu(400)).map((v) => v.toFixed(0)).join(' ')}`);
  };

  it('scales out to the maximum under load and back in to the minimum when it stops, its alarms changing state with reasons', async () => {
    try {
      await scaleOutAndIn();
    } catch (err) {
      await dumpHistory().catch(() => {});
      throw err;
    }
  }, 400_000);

  it('a scale-out the host cannot place: the activity is Successful, the service says it was unable to place a task', async () => {
    const resource = 'service/default/big';
    await cluster.ecs.send(new RegisterTaskDefinitionCommand({ family: 'big', cpu: '1024', memory: '64', containerDefinitions: [{ name: 'app', image: cluster.image, command: ['sleep', '3600'] }] }));
    await cluster.ecs.send(new CreateServiceCommand({ serviceName: 'big', taskDefinition: 'big', desiredCount: 1 }));
    const big = async () => (await cluster.ecs.send(new DescribeServicesCommand({ services: ['big'] }))).services![0]!;
    await expect.poll(async () => (await big()).runningCount, { timeout: 60_000, interval: 500 }).toBe(1);
    await aas.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: resource, ScalableDimension: DIMENSION, MinCapacity: 1, MaxCapacity: 4 }));
    const { PolicyARN } = await aas.send(
      new PutScalingPolicyCommand({
        ServiceNamespace: 'ecs',
        ResourceId: resource,
        ScalableDimension: DIMENSION,
        PolicyName: 'big-out',
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', Cooldown: 300, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 3 }] },
      }),
    );
    await cw.send(new PutMetricAlarmCommand({ AlarmName: 'big-backlog', Namespace: 'App', MetricName: 'Backlog', Statistic: 'Maximum', Period: 10, EvaluationPeriods: 1, Threshold: 100, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [PolicyARN!] }));
    let pushing = true;
    const pusher = (async () => {
      while (pushing) {
        await cw.send(new PutMetricDataCommand({ Namespace: 'App', MetricData: [{ MetricName: 'Backlog', Value: 500, StorageResolution: 1 }] })).catch(() => {});
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    try {
      await expect.poll(async () => (await big()).desiredCount, { timeout: 60_000, interval: 500 }).toBe(4);
    } finally {
      pushing = false;
      await pusher;
    }
    const [activity] = (await aas.send(new DescribeScalingActivitiesCommand({ ServiceNamespace: 'ecs', ResourceId: resource }))).ScalingActivities!;
    expect(activity).toMatchObject({
      Description: 'Setting desired count to 4.',
      Cause: 'monitor alarm big-backlog in state ALARM triggered policy big-out',
      StatusCode: 'Successful',
      StatusMessage: 'Successfully set desired count to 4. Change successfully fulfilled by ecs.',
    });
    // 2,048 units: the burn service's task (256) and one big task (1,024) leave 768, less than another big task.
    const unplaced = /^\(service big\) was unable to place a task because no container instance met all of its requirements\. The closest matching \(container-instance [0-9a-f]{32}\) has insufficient CPU units available\. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide\.$/;
    await expect.poll(async () => (await big()).events!.some((e) => unplaced.test(e.message!)), { timeout: 30_000, interval: 500 }).toBe(true);
    const s = await big();
    expect([s.desiredCount, s.runningCount]).toEqual([4, 1]);
  }, 120_000);

  async function scaleOutAndIn() {
    const started = Date.now();
    await aas.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE, ScalableDimension: DIMENSION, MinCapacity: 1, MaxCapacity: 3 }));
    const put = await aas.send(
      new PutScalingPolicyCommand({
        ServiceNamespace: 'ecs',
        ResourceId: RESOURCE,
        ScalableDimension: DIMENSION,
        PolicyName: 'cpu50',
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 50,
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          ScaleOutCooldown: 10,
          ScaleInCooldown: 10,
        },
      }),
    );
    const [high, low] = put.Alarms!.map((a) => a.AlarmName!) as [string, string];
    expect(high).toMatch(/^TargetTracking-service\/default\/burn-AlarmHigh-[0-9a-f-]{36}$/);
    expect(low).toMatch(/^TargetTracking-service\/default\/burn-AlarmLow-[0-9a-f-]{36}$/);
    expect(await alarm(high)).toMatchObject({ Namespace: 'AWS/ECS', MetricName: 'CPUUtilization', Statistic: 'Average', Period: PERIOD_S, EvaluationPeriods: 3, Threshold: 50, ComparisonOperator: 'GreaterThanThreshold' });
    expect(await alarm(low)).toMatchObject({ Period: PERIOD_S, EvaluationPeriods: 15, Threshold: 45, ComparisonOperator: 'LessThanThreshold' });
    await expect.poll(async () => (await service()).runningCount, { timeout: 60_000, interval: 500 }).toBe(1);

    // Load: the one task spins (a whole CPU against its 256 units is 400 %; on this shared machine, under the
    // contention of other work and cpu weights, we have seen 80–105 %: enough for one step or two to the maximum).
    writeFileSync(join(ctl, 'burn'), '');
    const loadOn = Date.now();
    await expect.poll(async () => (await service()).desiredCount, { timeout: 120_000, interval: 500 }).toBe(3);
    const outAfterS = (Date.now() - loadOn) / 1000;
    // Each scale-out: AlarmHigh in ALARM after 3 periods above 50 %, in CloudWatch's words, with the datapoints.
    const toAlarm = async (name: string) =>
      ((await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate', ScanBy: 'TimestampAscending' }))).AlarmHistoryItems ?? [])
        .map((h) => JSON.parse(h.HistoryData!) as { oldState: { stateValue: string }; newState: { stateValue: string; stateReason: string; stateReasonData: { recentDatapoints: number[]; period: number; threshold: number; statistic: string } } })
        .filter((d) => d.newState.stateValue === 'ALARM');
    const highAlarms = await toAlarm(high);
    expect(highAlarms.length).toBeGreaterThanOrEqual(1);
    for (const d of highAlarms) {
      expect(d.newState.stateReason).toMatch(/^Threshold Crossed: 3 out of the last 3 datapoints \[[\d.]+ \(.+\), [\d.]+ \(.+\), [\d.]+ \(.+\)\] were greater than the threshold \(50\.0\) \(minimum 3 datapoints for (OK|INSUFFICIENT_DATA) -> ALARM transition\)\.$/);
      expect(d.newState.stateReasonData).toMatchObject({ statistic: 'Average', period: PERIOD_S, threshold: 50 });
      expect(d.newState.stateReasonData.recentDatapoints.every((v) => v > 50)).toBe(true);
    }
    const outs = (await activities()).filter((a) => /^monitor alarm .*AlarmHigh/.test(a.Cause!)); // newest first
    expect(outs[0]).toMatchObject({ Description: 'Setting desired count to 3.', Cause: `monitor alarm ${high} in state ALARM triggered policy cpu50`, StatusCode: 'Successful' });
    expect(outs.length).toBeLessThanOrEqual(2); // 1 → 3, or 1 → 2 → 3

    // At the maximum, still under load (3 spinning tasks): whatever AlarmHigh does now (invoked again every period in
    // ALARM, or back to OK if the shared machine gives the three less than 50 %), nothing goes above 3 and no
    // activity is recorded.
    await expect.poll(async () => (await service()).runningCount, { timeout: 60_000, interval: 500 }).toBe(3);
    const atMax = Date.now();
    while (Date.now() - atMax < 3 * PERIOD_S * 1000) {
      expect((await service()).desiredCount).toBe(3);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await activities()).filter((a) => /AlarmHigh/.test(a.Cause!))).toHaveLength(outs.length);

    // The load stops: the CPU falls, AlarmHigh goes OK, and after 15 low periods AlarmLow goes to ALARM and scales in.
    rmSync(join(ctl, 'burn'));
    const loadOff = Date.now();
    await expect.poll(async () => (await alarm(high)).StateValue, { timeout: 60_000, interval: 500 }).toBe('OK');
    await expect.poll(async () => (await service()).desiredCount, { timeout: 150_000, interval: 1000 }).toBe(1);
    const inAfterS = (Date.now() - loadOff) / 1000;
    expect(inAfterS).toBeGreaterThanOrEqual(15 * PERIOD_S); // 15 low periods, none before
    const l = await alarm(low);
    expect(l.StateValue).toBe('ALARM');
    expect(l.StateReason).toMatch(/^Threshold Crossed: 15 out of the last 15 datapoints \[.+\] were less than the threshold \(45\.0\) \(minimum 15 datapoints for (OK|INSUFFICIENT_DATA) -> ALARM transition\)\.$/);
    expect(JSON.parse(l.StateReasonData!).recentDatapoints).toHaveLength(15);
    expect((await alarm(high)).StateReason).toMatch(/^Threshold Crossed: \d+ out of the last 3 datapoints \[.+\] (was|were) not greater than the threshold \(50\.0\) \(minimum 1 datapoint for ALARM -> OK transition\)\.$/);

    const all = await activities(); // newest first
    const scaleIn = all[0]!;
    expect(scaleIn).toMatchObject({ Description: 'Setting desired count to 1.', Cause: `monitor alarm ${low} in state ALARM triggered policy cpu50`, StatusCode: 'Successful' });
    // Cooldowns: the scale-in came after the last scale-out's cooldown (10 s); the desired count never left [1, 3].
    const lastOut = all.find((a) => /AlarmHigh/.test(a.Cause!))!;
    expect(scaleIn.StartTime!.getTime() - lastOut.StartTime!.getTime()).toBeGreaterThanOrEqual(10_000);
    expect(all.every((a) => /^Setting desired count to [123]\.$/.test(a.Description!))).toBe(true);
    expect([...seen].every((n) => n >= 1 && n <= 3)).toBe(true);
    expect(seen.has(3) && seen.has(1)).toBe(true);

    // History: AlarmHigh went to ALARM (more than once if the three tasks dipped under 50 %) and ended OK; AlarmLow
    // reached ALARM once, after the load.
    const highHistory = await stateHistory(high);
    expect(highHistory.filter((s) => s!.endsWith('to ALARM')).length).toBeGreaterThanOrEqual(1);
    expect(highHistory.at(-1)).toBe('Alarm updated from ALARM to OK');
    const lowHistory = await stateHistory(low);
    expect(lowHistory.filter((s) => s!.endsWith('to ALARM'))).toHaveLength(1);
    expect(lowHistory.at(-1)).toMatch(/^Alarm updated from (OK|INSUFFICIENT_DATA) to ALARM$/);

    // The figures behind it all: the agent's, per 5-s period, high under load and low after.
    const points = await cpu((Date.now() - started) / 1000 + 10);
    expect(Math.max(...points)).toBeGreaterThan(50);
    expect(points.slice(-10).every((v) => v < 45)).toBe(true);

    // At the minimum, AlarmLow stays in ALARM and keeps being invoked; nothing goes below 1 or is recorded again.
    const atMin = Date.now();
    while (Date.now() - atMin < 3 * PERIOD_S * 1000) {
      expect((await service()).desiredCount).toBe(1);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await activities()).toHaveLength(all.length);
    console.log(
      `CPU target tracking: scale-out to 3 ${outAfterS.toFixed(1)} s after the load started, scale-in to 1 ${inAfterS.toFixed(1)} s after it stopped; ` +
        `peak service CPU ${Math.max(...points).toFixed(0)} %, ${all.length} activities, whole test ${((Date.now() - started) / 1000).toFixed(0)} s`,
    );
  }
});
