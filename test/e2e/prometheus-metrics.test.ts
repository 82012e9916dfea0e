/**
 * Operators' metrics end to end: the built `berth server --metrics-listen`, API calls with the SDK (ECS in JSON
 * 1.1, IAM in the Query protocol, CloudWatch in RPC v2 CBOR), and a scrape of /metrics whose every line must
 * follow the exposition grammar and whose counters moved for exactly those actions and statuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { CreateClusterCommand, DeleteClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { CreateListenerCommand, CreateLoadBalancerCommand, CreateTargetGroupCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, get, requireHaproxy, startBackend } from '../../src/lb/testing/lb-lab.js';
import { parseExposition, sampleValue, type Sample } from '../../src/process/testing/exposition-grammar.js';
import { startBerthLb } from './support/berth-lb.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

describe('berth server --metrics-listen', () => {
  let dir: string;
  let server: BerthServerProcess;
  let metricsUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-prom-'));
    server = await startBerthServer(join(dir, 'data'), ['--metrics-listen', '127.0.0.1:0']);
    const m = /metrics at (http:\/\/\S+)/.exec(server.stderr());
    if (!m) throw new Error(`no metrics address in the server's output:\n${server.stderr()}`);
    metricsUrl = m[1]!;
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parseExposition(await res.text());
  };

  it('counts requests by service, action and status, times them and the store, on its own address', async () => {
    const before = await scrape();
    const requests = (samples: Sample[], service: string, action: string, status: string) =>
      sampleValue(samples, 'berth_api_requests_total', { service, action, status }) ?? 0;
    const txnsBefore = sampleValue(before, 'berth_store_txn_duration_seconds_count', { outcome: 'succeeded' }) ?? 0;

    const ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys });
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys });
    const cw = new CloudWatchClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys });
    try {
      await ecs.send(new CreateClusterCommand({ clusterName: 'prom' }));
      await ecs.send(new ListClustersCommand({}));
      await ecs.send(new ListClustersCommand({}));
      await expect(ecs.send(new DeleteClusterCommand({ cluster: 'no-such-cluster' }))).rejects.toMatchObject({ name: 'ClusterNotFoundException' });
      await iam.send(new ListUsersCommand({}));
      await cw.send(new ListMetricsCommand({}));
    } finally {
      ecs.destroy();
      iam.destroy();
      cw.destroy();
    }

    const after = await scrape();
    const moved = (service: string, action: string, status: string) => requests(after, service, action, status) - requests(before, service, action, status);
    expect(moved('ecs', 'CreateCluster', '200')).toBe(1);
    expect(moved('ecs', 'ListClusters', '200')).toBe(2);
    expect(moved('ecs', 'DeleteCluster', '400')).toBe(1);
    expect(moved('ecs', 'DeleteCluster', '200')).toBe(0);
    expect(moved('iam', 'ListUsers', '200')).toBe(1);
    expect(moved('monitoring', 'ListMetrics', '200')).toBe(1);
    // The scrape itself is on its own listener: the API's counters don't see it.
    expect(after.some((s) => s.name === 'berth_api_requests_total' && s.labels.action === 'metrics')).toBe(false);

    const latencyCount = sampleValue(after, 'berth_api_request_duration_seconds_count', { service: 'ecs', action: 'ListClusters' });
    expect(latencyCount).toBeGreaterThanOrEqual(2);
    expect(sampleValue(after, 'berth_api_request_duration_seconds_bucket', { service: 'ecs', action: 'ListClusters', le: '+Inf' })).toBe(latencyCount);
    // CreateCluster committed at least one transaction.
    expect(sampleValue(after, 'berth_store_txn_duration_seconds_count', { outcome: 'succeeded' })! - txnsBefore).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'berth_controller_queue_depth', { controller: 'service' })).toBeGreaterThanOrEqual(0);
    // No agent here, so no task: the family is declared (tasks by last status need agents; see the agent's own test).
  });

  it("berth lb --metrics-listen passes HAProxy's counters through: requests through a listener move its frontend's 2xx", async () => {
    requireHaproxy();
    const elb = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 });
    const backend = await startBackend('b1');
    const lbDir = join(dir, 'lb');
    const metricsPort = await freePort();
    const node = startBerthLb({ endpoint: server.url, keys: server.keys, dataDir: lbDir, region: 'us-east-1', extraArgs: ['--metrics-listen', `127.0.0.1:${metricsPort}`] });
    try {
      const lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'prom', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers![0]!.LoadBalancerArn!;
      const tgArn = (
        await elb.send(
          new CreateTargetGroupCommand({ Name: 'prom-ip', Protocol: 'HTTP', Port: 80, TargetType: 'ip', HealthCheckPath: '/health', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2 }),
        )
      ).TargetGroups![0]!.TargetGroupArn!;
      await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: '127.0.0.1', Port: backend.target.port }] }));
      const listenerPort = await freePort();
      await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: listenerPort, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));
      await expect
        .poll(async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions?.[0]?.TargetHealth?.State, { timeout: 30_000, interval: 500 })
        .toBe('healthy');
      const lbMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
      const frontend2xx = async () => {
        const samples = parseExposition(await (await fetch(lbMetrics)).text());
        expect(sampleValue(samples, 'berth_haproxy_up')).toBe(1);
        return samples.filter((s) => s.name === 'berth_haproxy_http_responses_total' && s.labels.type === 'frontend' && s.labels.code === '2xx').reduce((n, s) => n + s.value, 0);
      };
      const before = await frontend2xx();
      for (let i = 0; i < 5; i++) expect((await get(listenerPort)).status).toBe(200);
      expect((await frontend2xx()) - before).toBe(5);
    } finally {
      await node.stop();
      await stopStaleHaproxy(lbDir).catch(() => []);
      await backend.close();
      elb.destroy();
    }
  }, 60_000);

  it('answers 404 off /metrics, and the API listener does not serve it', async () => {
    expect((await fetch(metricsUrl.replace(/\/metrics$/, '/'))).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).not.toBe(200);
  });
});
