/**
 * `AWS/ApplicationELB` end to end: the built `berth server` (target-tracking alarms at a 10-second period) and two
 * `berth lb` nodes (127.0.0.1 and 127.0.0.2, reporting their traffic every 2 s: `--traffic-report-interval 2`), a
 * real HAProxy each, two Node HTTP backends as `ip` targets. A known number of requests through both nodes — some to
 * `/status/404` and `/status/500`, which the backends answer with those codes — is read back with
 * GetMetricStatistics (the SDK and the AWS CLI v2) and GetMetricData: the sums equal what was sent, whatever the
 * number of nodes and reports, split by code; HealthyHostCount is the healthy targets; a reload of HAProxy (a new
 * listener) restarts its counters without losing or doubling a request. Then target tracking on
 * ALBRequestCountPerTarget scales an ECS service out from that traffic, and a third node (127.0.0.3, reporting
 * hourly) reports what it served when it is stopped.
 */
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import {
  ApplicationAutoScalingClient,
  DescribeScalingPoliciesCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, GetMetricStatisticsCommand, type Dimension, type Statistic } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, labDir, requireHaproxy, startBackend, type Backend } from '../../src/lb/testing/lb-lab.js';
import { AWS_CLI, awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthLb, type BerthLbProcess } from './support/berth-lb.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'us-east-1';
const NODES = [
  { address: '127.0.0.1', id: 'lb-a', dir: 'lba' },
  { address: '127.0.0.2', id: 'lb-b', dir: 'lbb' },
] as const;

describe('AWS/ApplicationELB metrics from berth lb', () => {
  let lab: ReturnType<typeof labDir>;
  let server: BerthServerProcess;
  let elb: ElasticLoadBalancingV2Client;
  let cw: CloudWatchClient;
  const nodes: BerthLbProcess[] = [];
  const backends: Backend[] = [];
  let port = 0;
  let lbDim: Dimension;
  let tgDim: Dimension;
  let tgArn = '';
  let since = 0;
  /** Requests a target answered (through the load balancer's port, answered 200, 404 or 500), by node address. */
  const served = new Map<string, number>();
  const servedInAll = () => [...served.values()].reduce((s, n) => s + n, 0);

  /**
   * One request through the node at `address` on a connection of its own (a keep-alive connection opened before a
   * reload would have its next request answered by the old worker, whose last answers are not counted: see
   * docs/metrics.md); its status (0: failed).
   */
  const request = (address: string, path: string, toPort = port) =>
    new Promise<number>((resolve) => {
      const req = httpRequest({ host: address, port: toPort, path, agent: false }, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (toPort === port && [200, 404, 500].includes(status)) served.set(address, (served.get(address) ?? 0) + 1);
          resolve(status);
        });
        res.on('error', () => resolve(0));
      });
      req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end();
    });
  /** A statistic over the whole test so far, from its 60-second datapoints (summed; Maximum: the greatest). */
  const stat = async (name: string, dims: Dimension[], statistic: Statistic = 'Sum') => {
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/ApplicationELB',
        MetricName: name,
        Dimensions: dims,
        StartTime: new Date((Math.floor(since / 60_000) - 1) * 60_000),
        EndTime: new Date(Date.now() + 120_000),
        Period: 60,
        Statistics: [statistic],
      }),
    );
    const values = (out.Datapoints ?? []).map((p) => p[statistic] ?? 0);
    if (statistic === 'Maximum') return Math.max(...values);
    if (statistic === 'Minimum') return Math.min(...values);
    return values.reduce((s, v) => s + v, 0);
  };

  beforeAll(async () => {
    requireHaproxy();
    if (!hasAwsCli) throw new Error(`the AWS CLI v2 is not installed at ${AWS_CLI}`);
    lab = labDir();
    server = await startBerthServer(join(lab.dir, 'data'), ['--region', REGION, '--target-tracking-period', '10']);
    const clientOptions = { endpoint: server.url, region: REGION, credentials: server.keys, maxAttempts: 1 };
    elb = new ElasticLoadBalancingV2Client(clientOptions);
    cw = new CloudWatchClient(clientOptions);
    backends.push(await startBackend('b1'), await startBackend('b2'));
    for (const n of NODES) {
      nodes.push(
        startBerthLb({ endpoint: server.url, keys: server.keys, dataDir: join(lab.dir, n.dir), region: REGION, address: n.address, nodeId: n.id, extraArgs: ['--traffic-report-interval', '2'] }),
      );
    }
  }, 30_000);
  afterAll(async () => {
    if (process.env.LB_E2E_DEBUG) for (const n of nodes) console.log(n.output());
    for (const n of nodes) await n.stop();
    if (lab) for (const dir of [...NODES.map((n) => n.dir), 'lbc']) await stopStaleHaproxy(join(lab.dir, dir)).catch(() => []);
    for (const b of backends) await b.close();
    elb?.destroy();
    cw?.destroy();
    await server?.kill();
    lab?.cleanup();
  });

  it('counts what two nodes served, once, by load balancer and target group, codes split; healthy hosts counted', async () => {
    since = Date.now();
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'shop', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers![0]!;
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: 'shop-web',
          Protocol: 'HTTP',
          Port: 80,
          TargetType: 'ip',
          HealthCheckPath: '/health',
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: 2,
        }),
      )
    ).TargetGroups![0]!;
    tgArn = tg.TargetGroupArn!;
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: backends.map((b) => ({ Id: '127.0.0.1', Port: b.target.port })) }));
    port = await freePort();
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn!, Port: port, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));
    lbDim = { Name: 'LoadBalancer', Value: lb.LoadBalancerArn!.split(':loadbalancer/')[1]! };
    tgDim = { Name: 'TargetGroup', Value: tgArn.split(':')[5]! };
    expect(lbDim.Value).toMatch(/^app\/shop\/[0-9a-f]{16}$/);
    expect(tgDim.Value).toMatch(/^targetgroup\/shop-web\/[0-9a-f]{16}$/);

    await expect
      .poll(async () => ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? []).map((d) => d.TargetHealth?.State), {
        timeout: 30_000,
        interval: 500,
      })
      .toEqual(['healthy', 'healthy']);
    // Both nodes serve (each runs its own checks: its HAProxy sends traffic once they pass there too). Probes a
    // target answered are counted too (a 503 HAProxy answers itself while no server is up is not a target's).
    let before = 0;
    for (const n of NODES) {
      await expect
        .poll(
          async () => {
            const s = await request(n.address, '/');
            if (s === 200) before++;
            return s;
          },
          { timeout: 20_000, interval: 300 },
        )
        .toBe(200);
    }
    await expect.poll(() => stat('RequestCount', [lbDim]), { timeout: 20_000, interval: 500 }).toBe(before);

    // 120 requests, 60 through each node: 50 answered 200, 5 404, 5 500 by the backends.
    const statuses = new Map<number, number>();
    for (const n of NODES) {
      for (let i = 0; i < 60; i++) {
        const path = i < 5 ? '/status/404' : i < 10 ? '/status/500' : '/';
        const s = await request(n.address, path);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 100, 404: 10, 500: 10 });

    await expect.poll(() => stat('RequestCount', [lbDim]), { timeout: 30_000, interval: 1_000 }).toBe(before + 120);
    const baseline = {
      pair: await stat('RequestCount', [lbDim, tgDim]),
      c2: await stat('HTTPCode_Target_2XX_Count', [lbDim]),
      c4: await stat('HTTPCode_Target_4XX_Count', [lbDim, tgDim]),
      c5: await stat('HTTPCode_Target_5XX_Count', [lbDim]),
      perTarget: await stat('RequestCountPerTarget', [tgDim]),
    };
    // Wait for both nodes' next reports (host counts come with each), then nothing has been counted twice.
    const hostSamples = await stat('HealthyHostCount', [lbDim, tgDim], 'SampleCount');
    await expect.poll(() => stat('HealthyHostCount', [lbDim, tgDim], 'SampleCount'), { timeout: 20_000, interval: 1_000 }).toBeGreaterThanOrEqual(hostSamples + 4);
    expect(await stat('RequestCount', [lbDim])).toBe(before + 120);
    expect(await stat('RequestCount', [lbDim, tgDim])).toBe(baseline.pair);
    // Everything before `since` was a 200 probe (health checks are not requests).
    expect(baseline.pair).toBe(before + 120);
    expect(baseline.c2).toBe(before + 100);
    expect(baseline.c4).toBe(10);
    expect(baseline.c5).toBe(10);
    // Two healthy targets: RequestCountPerTarget's Sum is the requests over two.
    expect(baseline.perTarget).toBe((before + 120) / 2);
    // (Reports made before the checks passed counted no healthy host: the Minimum over the test is 0.)
    expect(await stat('HealthyHostCount', [lbDim, tgDim], 'Maximum')).toBe(2);
    expect(await stat('UnHealthyHostCount', [lbDim, tgDim], 'Maximum')).toBe(0);
    expect(await stat('TargetResponseTime', [lbDim], 'SampleCount')).toBe(before + 120);
    const time = await stat('TargetResponseTime', [lbDim, tgDim], 'Maximum');
    expect(time).toBeGreaterThanOrEqual(0);
    expect(time).toBeLessThan(1);

    // The AWS CLI v2 (Query protocol) reads the same.
    const start = new Date((Math.floor(since / 60_000) - 1) * 60_000).toISOString();
    const end = new Date(Date.now() + 120_000).toISOString();
    const cli = await awsCli(
      server.url,
      server.credentialsFile,
      ['cloudwatch', 'get-metric-statistics', '--namespace', 'AWS/ApplicationELB', '--metric-name', 'HTTPCode_Target_5XX_Count', '--dimensions', `Name=LoadBalancer,Value=${lbDim.Value}`, `Name=TargetGroup,Value=${tgDim.Value}`, '--start-time', start, '--end-time', end, '--period', '60', '--statistics', 'Sum'],
      REGION,
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect((cli.json.Datapoints as { Sum: number }[]).reduce((s, p) => s + p.Sum, 0)).toBe(10);
    const listed = await awsCli(server.url, server.credentialsFile, ['cloudwatch', 'list-metrics', '--namespace', 'AWS/ApplicationELB', '--metric-name', 'RequestCountPerTarget'], REGION);
    expect((listed.json.Metrics as { Dimensions: Dimension[] }[]).map((m) => m.Dimensions.map((d) => d.Name).sort().join('+')).sort()).toEqual(['LoadBalancer+TargetGroup', 'TargetGroup']);

    // GetMetricData with metric math: the 4XX and 5XX over all requests sent since `since`.
    const data = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date((Math.floor(since / 60_000) - 1) * 60_000),
        EndTime: new Date(Date.now() + 120_000),
        MetricDataQueries: [
          { Id: 'e4', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_4XX_Count', Dimensions: [lbDim] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
          { Id: 'e5', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [lbDim] }, Period: 60, Stat: 'Sum' }, ReturnData: false },
          { Id: 'errors', Expression: 'FILL(e4, 0) + FILL(e5, 0)' },
        ],
      }),
    );
    expect(data.MetricDataResults![0]!.Values!.reduce((s, v) => s + v, 0)).toBe(20);

    // A new listener makes each node reload HAProxy: a new worker, its counters from zero. 40 requests per node just
    // before it (read by the node before its reload, if its next report has not come first), then 80 per node after
    // it — more than any server had counted before, so only the worker's pid tells the counters restarted — are
    // all counted, once; the new listener's fixed answers (no target) are not.
    const total = before + 120;
    for (const n of NODES) for (let i = 0; i < 40; i++) expect(await request(n.address, '/')).toBe(200);
    const fixedPort = await freePort();
    await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.LoadBalancerArn!,
        Port: fixedPort,
        Protocol: 'HTTP',
        DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '202', ContentType: 'text/plain', MessageBody: 'fixed' } }],
      }),
    );
    for (const n of NODES) await expect.poll(() => request(n.address, '/', fixedPort), { timeout: 20_000, interval: 300 }).toBe(202);
    for (const n of NODES) for (let i = 0; i < 80; i++) expect(await request(n.address, '/')).toBe(200);
    await expect.poll(() => stat('RequestCount', [lbDim]), { timeout: 20_000, interval: 1_000 }).toBe(total + 240);
    const afterReload = await stat('HealthyHostCount', [lbDim, tgDim], 'SampleCount');
    await expect.poll(() => stat('HealthyHostCount', [lbDim, tgDim], 'SampleCount'), { timeout: 20_000, interval: 1_000 }).toBeGreaterThanOrEqual(afterReload + 4);
    expect(await stat('RequestCount', [lbDim, tgDim])).toBe(total + 240);
    expect(await stat('HTTPCode_Target_2XX_Count', [lbDim])).toBe(before + 100 + 240);
  }, 150_000);

  it('scales an ECS service with target tracking on ALBRequestCountPerTarget', async () => {
    const ecs = new ECSClient({ endpoint: server.url, region: REGION, credentials: server.keys, maxAttempts: 1 });
    const aas = new ApplicationAutoScalingClient({ endpoint: server.url, region: REGION, credentials: server.keys, maxAttempts: 1 });
    let load: Promise<void> | undefined;
    let loading = true;
    try {
      await ecs.send(new CreateClusterCommand({ clusterName: 'default' }));
      await ecs.send(new RegisterTaskDefinitionCommand({ family: 'shop', containerDefinitions: [{ name: 'web', image: 'busybox', memory: 32, essential: true }] }));
      // No instance: the service's tasks cannot be placed, which does not matter for its desired count.
      await ecs.send(new CreateServiceCommand({ cluster: 'default', serviceName: 'shop', taskDefinition: 'shop', desiredCount: 1 }));
      await aas.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: 'service/default/shop', ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 1, MaxCapacity: 4 }));
      const resourceLabel = `${lbDim.Value}/${tgDim.Value}`;
      await aas.send(
        new PutScalingPolicyCommand({
          PolicyName: 'requests',
          ServiceNamespace: 'ecs',
          ResourceId: 'service/default/shop',
          ScalableDimension: 'ecs:service:DesiredCount',
          PolicyType: 'TargetTrackingScaling',
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 5, PredefinedMetricSpecification: { PredefinedMetricType: 'ALBRequestCountPerTarget', ResourceLabel: resourceLabel }, ScaleOutCooldown: 0 },
        }),
      );
      const policy = (await aas.send(new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs', ResourceId: 'service/default/shop' }))).ScalingPolicies![0]!;
      const high = policy.Alarms!.find((a) => a.AlarmName!.includes('AlarmHigh'))!.AlarmName!;
      const alarm = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [high] }))).MetricAlarms![0]!;
      expect(alarm).toMatchObject({ Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCountPerTarget', Dimensions: [tgDim], Statistic: 'Sum', Period: 10, Threshold: 5 });

      // ~10 requests a second through the nodes: ~50 per target per 10-second period, ten times the target.
      load = (async () => {
        for (let i = 0; loading; i++) {
          await request(NODES[i % 2]!.address, '/');
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await expect.poll(async () => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [high] }))).MetricAlarms![0]!.StateValue, { timeout: 90_000, interval: 1_000 }).toBe('ALARM');
      await expect
        .poll(async () => (await ecs.send(new DescribeServicesCommand({ cluster: 'default', services: ['shop'] }))).services![0]!.desiredCount, { timeout: 30_000, interval: 1_000 })
        .toBe(4);
    } finally {
      loading = false;
      await load;
      ecs.destroy();
      aas.destroy();
    }
  }, 180_000);

  it('a node stopping reports what it served since its last report', async () => {
    // A third node reporting once an hour: nothing of its traffic is written until it stops.
    const address = '127.0.0.3';
    const third = startBerthLb({ endpoint: server.url, keys: server.keys, dataDir: join(lab.dir, 'lbc'), region: REGION, address, nodeId: 'lb-c', extraArgs: ['--traffic-report-interval', '3600'] });
    nodes.push(third);
    await expect.poll(() => request(address, '/'), { timeout: 30_000, interval: 300 }).toBe(200);
    for (let i = 0; i < 30; i++) expect(await request(address, '/')).toBe(200);
    // Everything the other two nodes served is written; none of the third's.
    await expect.poll(() => stat('RequestCount', [lbDim]), { timeout: 20_000, interval: 1_000 }).toBe(servedInAll() - served.get(address)!);
    await third.stop('SIGTERM');
    await expect.poll(() => stat('RequestCount', [lbDim]), { timeout: 10_000, interval: 500 }).toBe(servedInAll());
    expect(served.get(address)).toBeGreaterThanOrEqual(31);
  }, 90_000);
});
