/**
 * AWS/ECS utilization end to end: a real `berth server`, a real agent running runc containers, the SDK for JavaScript
 * v3's CloudWatch client reading what berth published.
 *
 * A service of 2 busybox tasks reserving 256 CPU units and 128 MiB each (task level); one task burns CPU
 * (`while :; do :; done`), the other sleeps (which task burns is decided by a mkdir race on a shared host
 * directory, as a service has one task definition). The agent publishes every 10 s (BERTH_METRICS_PUBLISH_INTERVAL,
 * the test setting; ECS's and berth's default is a minute); the server writes each whole minute 5 s after it ends.
 *
 * Tolerance: berth, like ECS on EC2 with cpu shares, does not cap a task at its reservation, so the burner uses
 * whatever share of one CPU the shared 2-core machine gives it. The service's Average (Σ used × 100 / Σ reserved,
 * 512 units) is therefore asserted within 40–210 % (a quarter to all of one CPU, with slack for the idle task's
 * few units), its Maximum (the burner against its own 256) above 90 % and its Minimum (the sleeper) below 10 %, and
 * — exact arithmetic, the two tasks reserving the same — Average = (Maximum + Minimum) / 2 within 0.5 %.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricStatisticsCommand, type Datapoint } from '@aws-sdk/client-cloudwatch';
import { CreateServiceCommand, DescribeContainerInstancesCommand, ListContainerInstancesCommand, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './support/cluster.js';

const isRoot = process.getuid?.() === 0;

describe.runIf(isRoot)('AWS/ECS CPU and memory utilization and reservation', () => {
  let cluster: TestCluster;
  let cw: CloudWatchClient;
  let shared = '';

  beforeAll(async () => {
    cluster = await startTestCluster();
    await cluster.startAgent({ env: { BERTH_METRICS_PUBLISH_INTERVAL: '10s' } });
    cw = new CloudWatchClient({ endpoint: cluster.server.url, region: 'us-east-1', credentials: { ...cluster.server.keys } });
    shared = mkdtempSync(join(tmpdir(), 'berth-burn-'));
    await cluster.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'burn',
        cpu: '256',
        memory: '128',
        volumes: [{ name: 'race', host: { sourcePath: shared } }],
        containerDefinitions: [
          {
            name: 'app',
            image: cluster.image,
            mountPoints: [{ sourceVolume: 'race', containerPath: '/race' }],
            command: ['sh', '-c', 'if mkdir /race/burner 2>/dev/null; then while :; do :; done; else exec sleep 3600; fi'],
          },
        ],
      }),
    );
    await cluster.ecs.send(new CreateServiceCommand({ serviceName: 'burn', taskDefinition: 'burn', desiredCount: 2 }));
  }, 120_000);

  afterAll(async () => {
    if (cluster) {
      await cluster.ecs.send(new UpdateServiceCommand({ service: 'burn', desiredCount: 0 })).catch(() => {});
      await cluster.stop();
    }
    cw?.destroy();
    if (shared) rmSync(shared, { recursive: true, force: true });
  }, 120_000);

  const stats = async (name: string, withService: boolean): Promise<Datapoint[]> => {
    const now = Date.now();
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/ECS',
        MetricName: name,
        Dimensions: [{ Name: 'ClusterName', Value: 'default' }, ...(withService ? [{ Name: 'ServiceName', Value: 'burn' }] : [])],
        StartTime: new Date(now - 10 * 60_000),
        EndTime: new Date(now),
        Period: 60,
        Statistics: ['Average', 'Minimum', 'Maximum', 'SampleCount'],
      }),
    );
    // The last whole minute with both tasks in it.
    return (out.Datapoints ?? []).filter((d) => d.SampleCount === 2).sort((a, b) => a.Timestamp!.getTime() - b.Timestamp!.getTime());
  };

  it('publishes CPUUtilization per service consistent with one task burning, MemoryUtilization > 0, and the reservation', async () => {
    const started = Date.now();
    let cpu: Datapoint | undefined;
    // Both tasks must run a whole minute, then the minute is written 5 s after it ends: at most about 2 minutes.
    await expect
      .poll(async () => (cpu = (await stats('CPUUtilization', true)).at(-1)) !== undefined, { timeout: 150_000, interval: 2_000 })
      .toBe(true);
    const firstAfterS = (Date.now() - started) / 1000;
    expect(cpu!.Unit).toBe('Percent');
    expect(cpu!.Average!).toBeGreaterThan(40);
    expect(cpu!.Average!).toBeLessThan(210);
    expect(cpu!.Maximum!).toBeGreaterThan(90);
    expect(cpu!.Minimum!).toBeLessThan(10);
    expect(Math.abs(cpu!.Average! - (cpu!.Maximum! + cpu!.Minimum!) / 2)).toBeLessThan(0.5);

    const memory = (await stats('MemoryUtilization', true)).at(-1)!;
    expect(memory.Average!).toBeGreaterThan(0);
    expect(memory.Average!).toBeLessThan(50); // busybox's sh and sleep: well under 64 of 256 MiB

    // Per cluster, against the registered capacity; the reservation from the control plane's records.
    const arns = (await cluster.ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns!;
    const instances = (await cluster.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: arns }))).containerInstances!;
    const registered = (name: string) => instances.reduce((s, i) => s + (i.registeredResources!.find((r) => r.name === name)!.integerValue ?? 0), 0);
    const at = (points: Datapoint[]) => points.find((p) => p.Timestamp!.getTime() === cpu!.Timestamp!.getTime());
    const cluster1 = async (name: string) => {
      const now = Date.now();
      const out = await cw.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/ECS',
          MetricName: name,
          Dimensions: [{ Name: 'ClusterName', Value: 'default' }],
          StartTime: new Date(now - 10 * 60_000),
          EndTime: new Date(now),
          Period: 60,
          Statistics: ['Average'],
        }),
      );
      return at(out.Datapoints ?? [])?.Average;
    };
    expect(await cluster1('CPUReservation')).toBeCloseTo((512 * 100) / registered('CPU'), 3);
    expect(await cluster1('MemoryReservation')).toBeCloseTo((256 * 100) / registered('MEMORY'), 3);
    // Cluster CPU: the same CPU used, over the registered units instead of the reserved 512.
    expect(await cluster1('CPUUtilization')).toBeCloseTo((cpu!.Average! * 512) / registered('CPU'), 1);
    expect(await cluster1('MemoryUtilization')).toBeGreaterThan(0);
    console.log(
      `AWS/ECS after ${firstAfterS.toFixed(0)} s: service CPU avg ${cpu!.Average!.toFixed(1)} % (min ${cpu!.Minimum!.toFixed(1)}, max ${cpu!.Maximum!.toFixed(1)}), ` +
        `memory ${memory.Average!.toFixed(2)} %, registered CPU ${registered('CPU')} MEMORY ${registered('MEMORY')}`,
    );
  }, 200_000);
});
