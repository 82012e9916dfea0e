/**
 * `berth lb` end to end: the built `berth server` and `berth lb` processes, a real HAProxy, Node HTTP backends on
 * loopback registered as `ip` targets, everything set up through the ELBv2 SDK. Requests through the node's
 * address reach the backends; DescribeTargetHealth follows HAProxy's checks (healthy, then unhealthy with its
 * reason when a backend fails, healthy again); a deregistered target drains and stops getting traffic;
 * DescribeLoadBalancers shows where the load balancer is served; after `kill -9` of `berth lb` (its HAProxy left
 * running), a new `berth lb` takes the leftover HAProxy's listeners over and serves on; a second node serves the
 * same load balancer on its own address.
 */
import { join } from 'node:path';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, get, labDir, requireHaproxy, startBackend, type Backend } from '../../src/lb/testing/lb-lab.js';
import { startBerthLb, type BerthLbProcess } from './support/berth-lb.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';

const REGION = 'eu-west-1';

describe('berth lb serving the ELBv2 API', () => {
  let lab: ReturnType<typeof labDir>;
  let server: BerthServerProcess;
  let elb: ElasticLoadBalancingV2Client;
  let node: BerthLbProcess | undefined;
  const backends: Backend[] = [];
  let listenerPort = 0;
  let tgArn = '';
  let lbArn = '';

  const startLb = (address = '127.0.0.1', nodeId = 'lb-e2e', dir = 'lb'): BerthLbProcess =>
    startBerthLb({ endpoint: server.url, keys: server.keys, dataDir: join(lab.dir, dir), region: REGION, address, nodeId });
  const stopLb = async (p: BerthLbProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') => p?.stop(signal);
  const health = async () =>
    Object.fromEntries(
      ((await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? []).map((d) => [`${d.Target!.Id}:${d.Target!.Port}`, d.TargetHealth]),
    );
  const key = (b: Backend) => `127.0.0.1:${b.target.port}`;
  /** Bodies of `n` requests through the node. */
  const bodies = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await get(listenerPort);
      out.push(r.status === 200 ? r.body : `status ${r.status}`);
    }
    return out;
  };

  beforeAll(async () => {
    requireHaproxy();
    lab = labDir();
    server = await startBerthServer(join(lab.dir, 'data'), ['--region', REGION]);
    elb = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: REGION, credentials: server.keys, maxAttempts: 1 });
    backends.push(await startBackend('b1'), await startBackend('b2'));
    node = startLb();
  }, 30_000);
  afterAll(async () => {
    if (process.env.LB_E2E_DEBUG) console.log(node?.output());
    await stopLb(node);
    if (lab) for (const dir of ['lb', 'lb2']) await stopStaleHaproxy(join(lab.dir, dir)).catch(() => []);
    for (const b of backends) await b.close();
    elb?.destroy();
    await server?.kill();
    lab?.cleanup();
  });

  it('serves a load balancer created through the SDK: traffic, health from HAProxy, where it is served, drain', async () => {
    lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'web', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    const tg = await elb.send(
      new CreateTargetGroupCommand({
        Name: 'web-ip',
        Protocol: 'HTTP',
        Port: 80,
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: 5,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 2,
      }),
    );
    tgArn = tg.TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '3' }] }));
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: backends.map((b) => ({ Id: '127.0.0.1', Port: b.target.port })) }));
    listenerPort = await freePort();
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: listenerPort, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));

    // Healthy once HAProxy's checks pass twice (interval 5 s), reported by the node.
    await expect.poll(async () => Object.values(await health()).map((h) => h?.State), { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy']);
    const seen = await bodies(20);
    expect(new Set(seen), node!.output()).toEqual(new Set(['b1', 'b2']));

    const lb = (await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] }))).LoadBalancers![0]!;
    // Each zone's addresses name the node's (one node serves every zone).
    expect(lb.AvailabilityZones!.map((z) => z.LoadBalancerAddresses)).toEqual([[{ IpAddress: '127.0.0.1' }], [{ IpAddress: '127.0.0.1' }]]);

    // b2 fails its checks: unhealthy with HAProxy's reason, and no more traffic.
    backends[1]!.healthStatus = 500;
    await expect.poll(async () => (await health())[key(backends[1]!)], { timeout: 30_000, interval: 500 }).toMatchObject({ State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch' });
    expect(new Set(await bodies(10))).toEqual(new Set(['b1']));
    backends[1]!.healthStatus = 200;
    await expect.poll(async () => (await health())[key(backends[1]!)]?.State, { timeout: 30_000, interval: 500 }).toBe('healthy');

    // Deregistered: draining, no new request reaches it, gone after the 3 s delay.
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: '127.0.0.1', Port: backends[1]!.target.port }] }));
    expect((await health())[key(backends[1]!)]?.State).toBe('draining');
    await expect.poll(async () => new Set(await bodies(10)), { timeout: 5_000, interval: 200 }).toEqual(new Set(['b1']));
    await expect.poll(async () => Object.keys(await health()), { timeout: 15_000, interval: 500 }).toEqual([key(backends[0]!)]);
  }, 120_000);

  it('after kill -9 of berth lb, a new one takes over from the HAProxy left behind and serves on', async () => {
    expect(listenerPort).toBeGreaterThan(0);
    await stopLb(node, 'SIGKILL');
    // The orphaned HAProxy keeps serving what it had.
    expect((await get(listenerPort)).body).toBe('b1');
    const restartedAt = Date.now();
    node = startLb();
    await expect.poll(() => /(stopped|took over the listeners of) the HAProxy a previous berth lb left running/.test(node!.output()), { timeout: 15_000, interval: 200 }).toBe(true);
    // Served again as soon as the new HAProxy listens: b1 is healthy in the API, so it is not held back for checks.
    await expect.poll(async () => (await get(listenerPort)).body, { timeout: 5_000, interval: 50 }).toBe('b1');
    console.log(`berth lb restarted: answering ${Date.now() - restartedAt} ms after the new process started (the old HAProxy serves until the new one takes its listeners; b1 not held back for checks: interval 5 s × threshold 2)`);
    expect((await health())[key(backends[0]!)]?.State).toBe('healthy');
  }, 60_000);

  it('a second node serves the same load balancer on its own address; both are listed; either carries the traffic', async () => {
    expect(listenerPort).toBeGreaterThan(0);
    const second = startLb('127.0.0.2', 'lb-e2e-2', 'lb2');
    try {
      const addresses = async () =>
        (await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lbArn] }))).LoadBalancers![0]!.AvailabilityZones!.map((z) => z.LoadBalancerAddresses?.map((a) => a.IpAddress));
      await expect.poll(addresses, { timeout: 15_000, interval: 250 }).toEqual([
        ['127.0.0.1', '127.0.0.2'],
        ['127.0.0.1', '127.0.0.2'],
      ]);
      // The second node starts b1 with traffic at once: the API shows it healthy (the first node's verdict).
      const viaSecond = async () => (await fetch(`http://127.0.0.2:${listenerPort}/`).then((r) => r.text()).catch((e: Error) => e.message));
      await expect.poll(viaSecond, { timeout: 10_000, interval: 100 }).toBe('b1');
      // Its checks agree: the target stays healthy with both nodes reporting, and the first node still serves.
      await expect.poll(async () => (await health())[key(backends[0]!)]?.State, { timeout: 15_000, interval: 500 }).toBe('healthy');
      await stopLb(second);
      expect((await get(listenerPort)).body).toBe('b1');
      expect(await viaSecond()).not.toBe('b1');
    } finally {
      await stopLb(second);
    }
  }, 60_000);
});
