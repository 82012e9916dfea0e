import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { elbv2Service } from './elbv2-service.js';
import type { ElbEnv } from './env.js';
import { setServedBy } from './served-by.js';
import { setTargetHealth, startTargetDrain } from './target-health.js';
import { refusal } from '../testing/failure.js';

/** The operations over a memory store, with a clock the test moves. */
function harness(limits: ElbEnv['limits'] = {}) {
  const store = new MemoryStore();
  let now = 1_700_000_000_000;
  const env: ElbEnv = { store, scope: { region: 'eu-west-1', accountId: '123456789012' }, now: () => now, limits };
  const ops = elbv2Service(env).operations;
  const call = (op: string, input: object) => ops[op]!(input, {} as never) as Promise<any>;
  return { store, call, advance: (ms: number) => (now += ms), now: () => now };
}


async function alb(h: ReturnType<typeof harness>, name = 'web') {
  const lb = (await h.call('CreateLoadBalancer', { Name: name, Subnets: ['subnet-a', 'subnet-b'] })).LoadBalancers[0];
  const tg = (await h.call('CreateTargetGroup', { Name: `${name}-tg`, Protocol: 'HTTP', Port: 80, TargetType: 'ip' })).TargetGroups[0];
  return { lb, tg };
}

describe('ELBv2 operations', () => {
  afterEach(() => vi.useRealTimers());

  it('creates an ALB with AWS defaults: DNS name, zones per subnet, provisioning then active, attributes', async () => {
    const h = harness();
    const { lb } = await alb(h);
    expect(lb).toMatchObject({ Type: 'application', Scheme: 'internet-facing', State: { Code: 'provisioning' }, IpAddressType: 'ipv4' });
    expect(lb.DNSName).toMatch(/^web-[0-9a-f]{16}\.eu-west-1\.elb\.berth\.internal$/);
    expect(lb.AvailabilityZones).toEqual([
      { ZoneName: 'eu-west-1a', SubnetId: 'subnet-a' },
      { ZoneName: 'eu-west-1b', SubnetId: 'subnet-b' },
    ]);
    expect((await h.call('DescribeLoadBalancers', { Names: ['WEB'] })).LoadBalancers[0].State).toEqual({ Code: 'active' });
    const attributes = (await h.call('DescribeLoadBalancerAttributes', { LoadBalancerArn: lb.LoadBalancerArn })).Attributes;
    expect(attributes).toContainEqual({ Key: 'idle_timeout.timeout_seconds', Value: '60' });
    expect(await refusal(h.call('ModifyLoadBalancerAttributes', { LoadBalancerArn: lb.LoadBalancerArn, Attributes: [{ Key: 'bogus', Value: '1' }] }))).toEqual({
      type: 'ValidationError',
      message: "Load balancer attribute key 'bogus' is not recognized",
    });
    expect((await refusal(h.call('CreateLoadBalancer', { Name: 'one', Subnets: ['subnet-a'] }))).type).toBe('ValidationError');
    // The data plane records where it serves the load balancer; Describe shows the address in every zone.
    expect(await setServedBy(h.store, lb.LoadBalancerArn, 'lb-node-1', '192.0.2.10')).toBe(true);
    const served = (await h.call('DescribeLoadBalancers', { LoadBalancerArns: [lb.LoadBalancerArn] })).LoadBalancers[0];
    expect(served.AvailabilityZones.map((z: { LoadBalancerAddresses?: unknown }) => z.LoadBalancerAddresses)).toEqual([[{ IpAddress: '192.0.2.10' }], [{ IpAddress: '192.0.2.10' }]]);
    expect((await refusal(h.call('CreateLoadBalancer', { Name: 'web', Subnets: ['subnet-a', 'subnet-b'], Scheme: 'internal' }))).type).toBe('DuplicateLoadBalancerName');
  });

  it('gives target groups AWS health check defaults per protocol and refuses what AWS refuses', async () => {
    const h = harness();
    const http = (await h.call('CreateTargetGroup', { Name: 'h', Protocol: 'HTTP', Port: 80 })).TargetGroups[0];
    expect(http).toMatchObject({ HealthCheckProtocol: 'HTTP', HealthCheckPath: '/', HealthCheckTimeoutSeconds: 5, HealthyThresholdCount: 5, UnhealthyThresholdCount: 2, Matcher: { HttpCode: '200' } });
    const tcp = (await h.call('CreateTargetGroup', { Name: 't', Protocol: 'TCP', Port: 80 })).TargetGroups[0];
    expect(tcp).toMatchObject({ HealthCheckProtocol: 'TCP', HealthCheckTimeoutSeconds: 10 });
    expect(tcp.HealthCheckPath).toBeUndefined();
    expect((await refusal(h.call('CreateTargetGroup', { Name: 'x', Protocol: 'HTTP', Port: 80, HealthCheckProtocol: 'TCP' }))).message).toMatch(/not supported/);
    expect((await refusal(h.call('CreateTargetGroup', { Name: 'x', Protocol: 'HTTP', Port: 80, HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 5 }))).message).toMatch(/smaller than the interval/);
    expect((await refusal(h.call('CreateTargetGroup', { Name: 'x', Protocol: 'HTTP', Port: 80, Matcher: { HttpCode: '600' } }))).type).toBe('ValidationError');
    const attrs = (await h.call('DescribeTargetGroupAttributes', { TargetGroupArn: http.TargetGroupArn })).Attributes;
    expect(attrs).toEqual(expect.arrayContaining([{ Key: 'deregistration_delay.timeout_seconds', Value: '300' }, { Key: 'stickiness.type', Value: 'lb_cookie' }]));
  });

  it('shows targets unused until a listener forwards, then initial until the data plane reports', async () => {
    const h = harness();
    const { lb, tg } = await alb(h);
    await h.call('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5', Port: 8080 }] });
    const health = async () => (await h.call('DescribeTargetHealth', { TargetGroupArn: tg.TargetGroupArn })).TargetHealthDescriptions;
    expect((await health())[0].TargetHealth).toMatchObject({ State: 'unused', Reason: 'Target.NotInUse' });
    await h.call('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
    expect((await health())[0]).toMatchObject({ Target: { Id: '10.0.0.5', Port: 8080 }, HealthCheckPort: '8080', TargetHealth: { State: 'initial', Reason: 'Elb.RegistrationInProgress' } });
    await setTargetHealth(h.store, tg.TargetGroupArn, [{ id: '10.0.0.5', port: 8080, state: 'unhealthy', reason: 'Target.Timeout' }], 'lb-1');
    expect((await health())[0].TargetHealth).toMatchObject({ State: 'unhealthy', Reason: 'Target.Timeout' });
    await setTargetHealth(h.store, tg.TargetGroupArn, [{ id: '10.0.0.5', port: 8080, state: 'healthy' }], 'lb-1');
    expect((await health())[0].TargetHealth).toEqual({ State: 'healthy' });
    const notRegistered = (await h.call('DescribeTargetHealth', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.9' }] })).TargetHealthDescriptions;
    expect(notRegistered[0].TargetHealth).toMatchObject({ State: 'unused', Reason: 'Target.NotRegistered' });
    expect((await refusal(h.call('DeleteTargetGroup', { TargetGroupArn: tg.TargetGroupArn }))).type).toBe('ResourceInUse');
  });

  it('drains a deregistered target for the deregistration delay, then the leader removes it (fake timers)', async () => {
    vi.useFakeTimers();
    const h = harness();
    const { lb, tg } = await alb(h);
    await h.call('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }] });
    await h.call('ModifyTargetGroupAttributes', { TargetGroupArn: tg.TargetGroupArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }] });
    await h.call('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5' }] });
    await h.call('DeregisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.5' }] });
    // A health report racing the deregistration loses.
    expect(await setTargetHealth(h.store, tg.TargetGroupArn, [{ id: '10.0.0.5', port: 80, state: 'healthy' }], 'lb-1')).toBe(false);
    const health = async () => (await h.call('DescribeTargetHealth', { TargetGroupArn: tg.TargetGroupArn })).TargetHealthDescriptions;
    expect((await health())[0].TargetHealth).toMatchObject({ State: 'draining', Reason: 'Target.DeregistrationInProgress' });
    const drain = startTargetDrain({ store: h.store, log: pino({ level: 'silent' }), now: h.now, intervalMs: 1_000 });
    h.advance(9_000);
    expect(await drain.runOnce()).toBe(0);
    h.advance(1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await drain.stop();
    expect(await health()).toEqual([]);
  });

  it('keeps rule priorities unique, counts rules, and swaps priorities in one call', async () => {
    const h = harness({ rulesPerListener: 2 });
    const { lb, tg } = await alb(h);
    const listener = (await h.call('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }))
      .Listeners[0];
    const rule = (priority: number, path: string) =>
      h.call('CreateRule', {
        ListenerArn: listener.ListenerArn,
        Priority: priority,
        Conditions: [{ Field: 'path-pattern', Values: [path] }],
        Actions: [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }],
      });
    const a = (await rule(10, '/a/*')).Rules[0];
    expect((await refusal(rule(10, '/b/*'))).type).toBe('PriorityInUse');
    const b = (await rule(20, '/b/*')).Rules[0];
    expect((await refusal(rule(30, '/c/*'))).type).toBe('TooManyRules');
    const swapped = (await h.call('SetRulePriorities', { RulePriorities: [{ RuleArn: a.RuleArn, Priority: 20 }, { RuleArn: b.RuleArn, Priority: 10 }] })).Rules;
    expect(swapped.map((r: { Priority: string }) => r.Priority)).toEqual(['20', '10']);
    const rules = (await h.call('DescribeRules', { ListenerArn: listener.ListenerArn })).Rules;
    expect(rules.map((r: { Priority: string }) => r.Priority)).toEqual(['10', '20', 'default']);
    expect(rules[2]).toMatchObject({ IsDefault: true, Actions: [{ Type: 'fixed-response' }] });
    expect((await h.call('DescribeTargetGroups', { LoadBalancerArn: lb.LoadBalancerArn })).TargetGroups).toHaveLength(1);
    await h.call('DeleteLoadBalancer', { LoadBalancerArn: lb.LoadBalancerArn });
    // Its listener and rules went with it: the group is free again.
    await h.call('DeleteTargetGroup', { TargetGroupArn: tg.TargetGroupArn });
    expect((await h.call('DescribeTargetGroups', {})).TargetGroups).toEqual([]);
  });

  it('refuses incompatible protocols and a target group on a second load balancer', async () => {
    const h = harness();
    const { lb, tg } = await alb(h);
    const nlb = (await h.call('CreateLoadBalancer', { Name: 'net', Type: 'network', Subnets: ['subnet-a'] })).LoadBalancers[0];
    const forward = [{ Type: 'forward', TargetGroupArn: tg.TargetGroupArn }];
    expect((await refusal(h.call('CreateListener', { LoadBalancerArn: nlb.LoadBalancerArn, Protocol: 'TCP', Port: 80, DefaultActions: forward }))).type).toBe('IncompatibleProtocols');
    await h.call('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: forward });
    expect((await refusal(h.call('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] }))).type).toBe(
      'DuplicateListener',
    );
    const other = (await h.call('CreateLoadBalancer', { Name: 'other', Subnets: ['subnet-a', 'subnet-b'] })).LoadBalancers[0];
    expect((await refusal(h.call('CreateListener', { LoadBalancerArn: other.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: forward }))).type).toBe('TargetGroupAssociationLimit');
    expect((await refusal(h.call('CreateListener', { LoadBalancerArn: nlb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: forward }))).type).toBe('UnsupportedProtocol');
  });

  it('limits targets per group and checks ids for the target type', async () => {
    const h = harness({ targetsPerTargetGroup: 2 });
    const { tg } = await alb(h);
    await h.call('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.1' }, { Id: '10.0.0.2' }] });
    expect((await refusal(h.call('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: '10.0.0.3' }] }))).type).toBe('TooManyTargets');
    expect((await refusal(h.call('RegisterTargets', { TargetGroupArn: tg.TargetGroupArn, Targets: [{ Id: 'i-0123456789abcdef0' }] }))).type).toBe('InvalidTarget');
  });
});

describe('ELBv2 under concurrent writers (compare-and-swap)', () => {
  it('gives a priority to exactly one of two concurrent CreateRule calls, and a name to one of two CreateLoadBalancer calls', async () => {
    const h = harness();
    const { lb } = await alb(h);
    const listener = (await h.call('CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }] }))
      .Listeners[0];
    const create = (path: string) =>
      h.call('CreateRule', { ListenerArn: listener.ListenerArn, Priority: 5, Conditions: [{ Field: 'path-pattern', Values: [path] }], Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] });
    const outcomes = await Promise.allSettled([create('/a'), create('/b'), create('/c')]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.type)).toEqual(['PriorityInUse', 'PriorityInUse']);
    const names = await Promise.allSettled([
      h.call('CreateLoadBalancer', { Name: 'race', Subnets: ['subnet-a', 'subnet-b'] }),
      h.call('CreateLoadBalancer', { Name: 'race', Subnets: ['subnet-a', 'subnet-b'], Scheme: 'internal' }),
    ]);
    expect(names.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});
