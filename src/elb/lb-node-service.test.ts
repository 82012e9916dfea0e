import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Authorizer } from '../api/authz/authorizer.js';
import { MemoryPolicySource } from '../api/authz/policy-source.js';
import { ShapeValidator } from '../api/protocol/shape-validator.js';
import { ServiceError } from '../model/errors.js';
import { parsePolicyDocument } from '../model/iam/index.js';
import { MetricStore } from '../metrics/metric-store.js';
import { seriesRef } from '../metrics/series.js';
import { MemoryStore } from '../store/memory.js';
import { elbv2Service } from './elbv2-service.js';
import type { ElbEnv } from './env.js';
import { LB_NODE_MODEL, lbNodeActions, lbNodeService } from './lb-node-service.js';
import { NODE_REPORT_REFRESH_MS, NODE_STALE_MS } from './serving-nodes.js';
import { removeDrainedTargets } from './target-health.js';

const scope = { region: 'eu-west-1', accountId: '123456789012' } as const;

function harness(metrics?: ElbEnv['metrics']) {
  const store = new MemoryStore();
  const clock = { now: 1_700_000_000_000 };
  const env: ElbEnv = { store, scope, now: () => clock.now, ...(metrics ? { metrics } : {}) };
  const elb = elbv2Service(env).operations;
  const node = lbNodeService(env).operations;
  return {
    env,
    elb: (op: string, input: object) => elb[op]!(input, {} as never) as Promise<any>,
    node: (op: string, input: object) => node[op]!(input, {} as never) as Promise<any>,
    store,
    clock,
  };
}

describe('BerthLoadBalancerNode', () => {
  it("records a node's health verdicts and address, as DescribeTargetHealth and DescribeLoadBalancers then show", async () => {
    const h = harness();
    const lb = (await h.elb('CreateLoadBalancer', { Name: 'web', Subnets: ['subnet-a', 'subnet-b'] })).LoadBalancers[0];
    const tg = (await h.elb('CreateTargetGroup', { Name: 'web', Protocol: 'HTTP', Port: 80, TargetType: 'ip' })).TargetGroups[0];
    await h.elb('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
    await h.elb('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5', Port: 8080 }, { Id: '10.0.0.6', Port: 8080 }] });
    const out = await h.node('ReportTargetHealth', {
      TargetGroupArn: tg.TargetGroupArn,
      Node: 'lb-a',
      Targets: [
        { Id: '10.0.0.5', Port: 8080, State: 'healthy' },
        { Id: '10.0.0.6', Port: 8080, State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' },
      ],
    });
    expect(out).toEqual({ Changed: true });
    const shown = (await h.elb('DescribeTargetHealth', { TargetGroupArn: tg.TargetGroupArn })).TargetHealthDescriptions.map((d: any) => d.TargetHealth);
    expect(shown).toEqual([{ State: 'healthy' }, { State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' }]);
    expect(await h.node('ReportServedBy', { LoadBalancerArn: lb.LoadBalancerArn, Node: 'lb-a', Address: '192.0.2.7' })).toEqual({ Recorded: true });
    const described = (await h.elb('DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] })).LoadBalancers[0];
    expect(described.AvailabilityZones.map((z: any) => z.LoadBalancerAddresses)).toEqual([[{ IpAddress: '192.0.2.7' }], [{ IpAddress: '192.0.2.7' }]]);
  });

  it('sums several nodes: every live address shown, a target healthy while any node passes it, a silent node forgotten', async () => {
    const h = harness();
    const lb = (await h.elb('CreateLoadBalancer', { Name: 'web', Subnets: ['subnet-a', 'subnet-b'] })).LoadBalancers[0];
    const tg = (await h.elb('CreateTargetGroup', { Name: 'web', Protocol: 'HTTP', Port: 80, TargetType: 'ip' })).TargetGroups[0];
    await h.elb('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
    await h.elb('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5', Port: 8080 }] });
    const report = (node: string, state: string) =>
      h.node('ReportTargetHealth', { TargetGroupArn: tg.TargetGroupArn, Node: node, Targets: [{ Id: '10.0.0.5', Port: 8080, State: state, ...(state === 'unhealthy' ? { Reason: 'Target.Timeout' } : {}) }] });
    const shown = async () => (await h.elb('DescribeTargetHealth', { TargetGroupArn: tg.TargetGroupArn })).TargetHealthDescriptions[0].TargetHealth.State;
    const addresses = async () => (await h.elb('DescribeLoadBalancers', { Names: ['web'] })).LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses;

    await h.node('ReportServedBy', { LoadBalancerArn: lb.LoadBalancerArn, Node: 'lb-a', Address: '192.0.2.7' });
    await h.node('ReportServedBy', { LoadBalancerArn: lb.LoadBalancerArn, Node: 'lb-b', Address: '192.0.2.8' });
    expect(await addresses()).toEqual([{ IpAddress: '192.0.2.7' }, { IpAddress: '192.0.2.8' }]);
    await report('lb-a', 'healthy');
    await report('lb-b', 'unhealthy');
    expect(await shown()).toBe('healthy');

    // lb-a falls silent; lb-b keeps reporting. Past NODE_STALE_MS its address and its verdict stop counting.
    for (let i = 0; i < 4; i++) {
      h.clock.now += NODE_REPORT_REFRESH_MS;
      await report('lb-b', 'unhealthy');
      await h.node('ReportServedBy', { LoadBalancerArn: lb.LoadBalancerArn, Node: 'lb-b', Address: '192.0.2.8' });
    }
    expect(await addresses()).toEqual([{ IpAddress: '192.0.2.8' }]);
    expect(await shown()).toBe('unhealthy');
  });

  it("drops a dead node's verdict in the leader's pass even when no other report comes", async () => {
    const h = harness();
    const lb = (await h.elb('CreateLoadBalancer', { Name: 'web', Subnets: ['subnet-a', 'subnet-b'] })).LoadBalancers[0];
    const tg = (await h.elb('CreateTargetGroup', { Name: 'web', Protocol: 'HTTP', Port: 80, TargetType: 'ip' })).TargetGroups[0];
    await h.elb('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
    await h.elb('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5', Port: 8080 }] });
    const t0 = h.clock.now;
    await h.node('ReportTargetHealth', { TargetGroupArn: tg.TargetGroupArn, Node: 'lb-b', Targets: [{ Id: '10.0.0.5', Port: 8080, State: 'unhealthy', Reason: 'Target.Timeout' }] });
    h.clock.now = t0 + 20_000;
    await h.node('ReportTargetHealth', { TargetGroupArn: tg.TargetGroupArn, Node: 'lb-a', Targets: [{ Id: '10.0.0.5', Port: 8080, State: 'healthy' }] });
    const state = async () => (await h.elb('DescribeTargetHealth', { TargetGroupArn: tg.TargetGroupArn })).TargetHealthDescriptions[0].TargetHealth.State;
    expect(await state()).toBe('healthy');
    // lb-a dies; lb-b's verdict is refreshed, lb-a's goes stale: the pass sums again without it.
    await h.node('ReportTargetHealth', { TargetGroupArn: tg.TargetGroupArn, Node: 'lb-b', Targets: [{ Id: '10.0.0.5', Port: 8080, State: 'unhealthy', Reason: 'Target.Timeout' }] });
    h.clock.now = t0 + 20_000 + NODE_STALE_MS + 1;
    await h.node('ReportTargetHealth', { TargetGroupArn: tg.TargetGroupArn, Node: 'lb-b', Targets: [{ Id: '10.0.0.5', Port: 8080, State: 'unhealthy', Reason: 'Target.Timeout' }] });
    expect(await state()).toBe('unhealthy');
    h.clock.now += NODE_STALE_MS + 1;
    expect(await removeDrainedTargets(h.store, h.clock.now)).toBe(0);
    // Nobody checks it any more: the last verdict stands.
    expect(await state()).toBe('unhealthy');
  });

  it('writes AWS/ApplicationELB from traffic reports: several nodes through several replicas add up, host counts from the records', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alb-metrics-'));
    // Two replicas: each its own MetricStore (writer) on the shared file, each its own service on the one Store.
    const replicaA = new MetricStore(join(dir, 'metrics.db'));
    const replicaB = new MetricStore(join(dir, 'metrics.db'));
    try {
      const h = harness(replicaA);
      const onB = lbNodeService({ ...h.env, metrics: replicaB }).operations;
      const lb = (await h.elb('CreateLoadBalancer', { Name: 'web', Subnets: ['subnet-a', 'subnet-b'] })).LoadBalancers[0];
      const tg = (await h.elb('CreateTargetGroup', { Name: 'web-tg', Protocol: 'HTTP', Port: 80, TargetType: 'ip' })).TargetGroups[0];
      const unused = (await h.elb('CreateTargetGroup', { Name: 'spare', Protocol: 'HTTP', Port: 80, TargetType: 'ip' })).TargetGroups[0];
      await h.elb('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
      await h.elb('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5', Port: 8080 }, { Id: '10.0.0.6', Port: 8080 }, { Id: '10.0.0.7', Port: 8080 }] });
      await h.node('ReportTargetHealth', {
        TargetGroupArn: tg.TargetGroupArn,
        Node: 'lb-a',
        Targets: [
          { Id: '10.0.0.5', Port: 8080, State: 'healthy' },
          { Id: '10.0.0.6', Port: 8080, State: 'healthy' },
          { Id: '10.0.0.7', Port: 8080, State: 'unhealthy', Reason: 'Target.Timeout' },
        ],
      });
      const traffic = (arn: string, requests: number, c4: number) => ({ TargetGroupArn: arn, Requests: requests, Http2xx: requests - c4, Http3xx: 0, Http4xx: c4, Http5xx: 0, ResponseTimeSum: requests * 0.01 });
      expect(await h.node('ReportTraffic', { Node: 'lb-a', TargetGroups: [traffic(tg.TargetGroupArn, 70, 10), traffic(unused.TargetGroupArn, 0, 0)] })).toEqual({ Recorded: 1 });
      expect(await onB.ReportTraffic!({ Node: 'lb-b', TargetGroups: [traffic(tg.TargetGroupArn, 50, 5)] }, {} as never)).toEqual({ Recorded: 1 });

      const lbDim = { Name: 'LoadBalancer', Value: `app/web/${lb.LoadBalancerArn.split('/').at(-1)}` };
      const tgDim = { Name: 'TargetGroup', Value: `targetgroup/web-tg/${tg.TargetGroupArn.split('/').at(-1)}` };
      const t = h.clock.now / 1000;
      // Either replica reads both writers' rows.
      const sum = (reader: MetricStore, name: string, dims: { Name: string; Value: string }[]) =>
        reader.query({ series: seriesRef('AWS/ApplicationELB', name, dims), start: t - 60, end: t + 60, period: 60 }).reduce((s, p) => s + p.sum, 0);
      expect(sum(replicaA, 'RequestCount', [lbDim])).toBe(120);
      expect(sum(replicaB, 'RequestCount', [lbDim, tgDim])).toBe(120);
      expect(sum(replicaA, 'HTTPCode_Target_2XX_Count', [lbDim])).toBe(105);
      expect(sum(replicaA, 'HTTPCode_Target_4XX_Count', [lbDim, tgDim])).toBe(15);
      // 120 requests over 2 healthy targets.
      expect(sum(replicaB, 'RequestCountPerTarget', [tgDim])).toBe(60);
      expect(sum(replicaB, 'RequestCountPerTarget', [lbDim, tgDim])).toBe(60);
      const healthy = replicaA.query({ series: seriesRef('AWS/ApplicationELB', 'HealthyHostCount', [lbDim, tgDim]), start: t - 60, end: t + 60, period: 60 });
      expect(healthy.map((p) => [p.count, p.sum / p.count, p.max])).toEqual([[2, 2, 2]]);
      expect(sum(replicaA, 'UnHealthyHostCount', [lbDim, tgDim])).toBe(2);
      const time = replicaA.query({ series: seriesRef('AWS/ApplicationELB', 'TargetResponseTime', [lbDim]), start: t - 60, end: t + 60, period: 60 });
      expect(time.map((p) => [p.count, Math.round((p.sum / p.count) * 1000) / 1000])).toEqual([[120, 0.01]]);
      // The unused group has no load balancer: nothing written for it.
      expect(replicaA.list({ limit: 500 }).filter((r) => r.dimensions.some((d) => d.Value.includes('spare')))).toEqual([]);
      expect(replicaA.list({ limit: 500 }).length).toBeGreaterThan(10);
    } finally {
      replicaA.close();
      replicaB.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a traffic report on something that is no target group, writing nothing', async () => {
    const written: unknown[] = [];
    const h = harness({ put: async (s) => void written.push(...s) });
    await expect(h.node('ReportTraffic', { Node: 'lb-a', TargetGroups: [{ TargetGroupArn: 'arn:x', Requests: 1, Http2xx: 1, Http3xx: 0, Http4xx: 0, Http5xx: 0, ResponseTimeSum: 0 }] })).rejects.toMatchObject({
      type: 'ValidationError',
    });
    const validator = new ShapeValidator(LB_NODE_MODEL, 'input', 'ValidationError');
    expect(() => validator.check('ReportTrafficInput', { Node: 'lb-a', TargetGroups: [{ TargetGroupArn: 'arn:x', Requests: -1, Http2xx: 0, Http3xx: 0, Http4xx: 0, Http5xx: 0, ResponseTimeSum: 0 }] })).toThrow(/Requests/);
    expect(written).toEqual([]);
  });

  it('refuses bad input in ELB words, naming the field', async () => {
    const validator = new ShapeValidator(LB_NODE_MODEL, 'input', 'ValidationError');
    const bad = { TargetGroupArn: 'x', Node: 'lb-a', Targets: [{ Id: '10.0.0.5', Port: 8080, State: 'draining' }] };
    expect(() => validator.check('ReportTargetHealthInput', bad)).toThrow(ServiceError);
    expect(() => validator.check('ReportTargetHealthInput', bad)).toThrow(/State/);
    const h = harness();
    await expect(h.node('ReportServedBy', { LoadBalancerArn: 'not-an-arn', Node: 'lb-a', Address: '192.0.2.7' })).rejects.toMatchObject({ type: 'ValidationError' });
  });

  it("is berth-lb:*, which elasticloadbalancing:* does not grant", async () => {
    const ALICE = 'arn:aws:iam::123456789012:user/alice';
    const alice = { type: 'User', arn: ALICE, accountId: scope.accountId, userName: 'alice', userId: 'AIDAALICE' } as const;
    const policy = (action: string) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: action, Resource: '*' }] }), 'identity');
    const tgArn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef';
    const outcome = async (action: string) => {
      const authorizer = new Authorizer({ policies: new MemoryPolicySource().set(ALICE, [policy(action)]), scope });
      const req = { principal: alice, declaration: lbNodeActions.ReportTargetHealth!, input: { TargetGroupArn: tgArn }, sourceIp: '10.0.0.5', secureTransport: false };
      try {
        await authorizer.authorize(req);
        return 'allowed';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(await outcome('elasticloadbalancing:*')).toContain(`not authorized to perform: berth-lb:ReportTargetHealth on resource: ${tgArn}`);
    expect(await outcome('berth-lb:Report*')).toBe('allowed');
    // A traffic report is authorized on every target group it names.
    const other = tgArn.replace('web/0123456789abcdef', 'api/fedcba9876543210');
    const traffic = { Node: 'lb-a', TargetGroups: [{ TargetGroupArn: tgArn }, { TargetGroupArn: other }, { TargetGroupArn: tgArn }] };
    expect(lbNodeActions.ReportTraffic!.resources(traffic as never, scope)).toEqual([tgArn, other]);
  });
});
