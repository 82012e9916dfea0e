import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { validateDesiredState } from './desired.js';
import { provenHealthy, reportsToSend, servedByToSend, translate, type Elbv2Snapshot } from './elbv2-translation.js';

const P = 'arn:aws:elasticloadbalancing:eu-west-1:000000000000';
const LB = `${P}:loadbalancer/app/web/00000000000000a1`;
const NLB = `${P}:loadbalancer/net/db/00000000000000b1`;
const L80 = `${P}:listener/app/web/00000000000000a1/00000000000000c1`;
const L5432 = `${P}:listener/net/db/00000000000000b1/00000000000000c2`;
const TG_API = `${P}:targetgroup/api/00000000000000d1`;
const TG_WEB = `${P}:targetgroup/web/00000000000000d2`;
const TG_INST = `${P}:targetgroup/inst/00000000000000d3`;
const TG_TCP = `${P}:targetgroup/pg/00000000000000d4`;

const health = (Id: string, Port: number, State: string, Reason?: string): TargetHealthDescription => ({
  Target: { Id, Port },
  TargetHealth: { State: State as never, ...(Reason ? { Reason: Reason as never } : {}) },
});

function snapshot(over: Partial<Elbv2Snapshot> = {}): Elbv2Snapshot {
  return {
    loadBalancers: [
      { LoadBalancerArn: LB, LoadBalancerName: 'web', Type: 'application', State: { Code: 'active' } },
      { LoadBalancerArn: NLB, LoadBalancerName: 'db', Type: 'network', State: { Code: 'provisioning' } },
      { LoadBalancerArn: `${P}:loadbalancer/app/gone/00000000000000a9`, LoadBalancerName: 'gone', Type: 'application', State: { Code: 'failed' } },
    ],
    listeners: new Map([
      [LB, [{ ListenerArn: L80, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_WEB }] }]],
      [NLB, [{ ListenerArn: L5432, Port: 5432, Protocol: 'TCP', DefaultActions: [{ Type: 'forward', TargetGroupArn: TG_TCP }] }]],
    ]),
    rules: new Map([
      [
        L80,
        [
          { RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/00000000000000e0`, Priority: 'default', IsDefault: true, Actions: [] },
          {
            RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/00000000000000e2`,
            Priority: '20',
            Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['api.example.test'] } }],
            Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no' } }],
          },
          {
            RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/00000000000000e1`,
            Priority: '10',
            Conditions: [{ Field: 'path-pattern', Values: ['/api/*'] }],
            Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG_API, Weight: 3 }, { TargetGroupArn: TG_WEB, Weight: 1 }] } }],
          },
        ],
      ],
    ]),
    targetGroups: [
      { TargetGroupArn: TG_API, TargetGroupName: 'api', Protocol: 'HTTP', Port: 8080, TargetType: 'ip', HealthCheckProtocol: 'HTTP', HealthCheckPath: '/healthz', HealthCheckPort: 'traffic-port', HealthCheckIntervalSeconds: 5, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: 2, UnhealthyThresholdCount: 3, Matcher: { HttpCode: '200-299' } },
      { TargetGroupArn: TG_WEB, TargetGroupName: 'web', Protocol: 'HTTP', Port: 80, TargetType: 'ip' },
      { TargetGroupArn: TG_INST, TargetGroupName: 'inst', Protocol: 'HTTP', Port: 80, TargetType: 'instance' },
      { TargetGroupArn: TG_TCP, TargetGroupName: 'pg', Protocol: 'TCP', Port: 5432, TargetType: 'ip', HealthCheckProtocol: 'TCP', HealthCheckPort: '5433' },
    ],
    attributes: new Map([
      [
        TG_API,
        [
          { Key: 'deregistration_delay.timeout_seconds', Value: '7' },
          { Key: 'stickiness.enabled', Value: 'true' },
          { Key: 'stickiness.type', Value: 'lb_cookie' },
          { Key: 'stickiness.lb_cookie.duration_seconds', Value: '60' },
          { Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' },
        ],
      ],
    ]),
    targets: new Map([
      [TG_API, [health('10.0.0.5', 8080, 'healthy'), health('10.0.0.6', 8081, 'initial'), health('10.0.0.7', 8080, 'draining')]],
      [TG_WEB, [health('10.0.0.8', 80, 'unhealthy', 'Target.Timeout')]],
      [TG_INST, [health('i-0123456789abcdef0', 32768, 'unused'), health('i-0fedcba987654321f', 32769, 'unused')]],
      [TG_TCP, [health('10.0.1.1', 5432, 'initial')]],
    ]),
    ...over,
  };
}

describe('ELBv2 → desired state', () => {
  const t = translate(snapshot(), (id) => (id === 'i-0123456789abcdef0' ? '192.0.2.10' : undefined));

  it('serves active and provisioning load balancers, their listeners, and rules in priority order', () => {
    expect(() => validateDesiredState(t.desired)).not.toThrow();
    expect(t.desired.loadBalancers.map((l) => [l.name, l.type, l.listeners.map((x) => `${x.protocol}:${x.port}`)])).toEqual([
      ['db', 'network', ['TCP:5432']],
      ['web', 'application', ['HTTP:80']],
    ]);
    expect(t.servedLoadBalancers).toEqual([NLB, LB]);
    const l80 = t.desired.loadBalancers[1]!.listeners[0]!;
    expect(l80.defaultAction).toEqual({ type: 'forward', targetGroups: [{ targetGroupId: '00000000000000d2', weight: 1 }] });
    expect(l80.rules).toEqual([
      {
        id: '00000000000000e1',
        priority: 10,
        conditions: [{ field: 'path-pattern', values: ['/api/*'] }],
        action: { type: 'forward', targetGroups: [{ targetGroupId: '00000000000000d1', weight: 3 }, { targetGroupId: '00000000000000d2', weight: 1 }] },
      },
      { id: '00000000000000e2', priority: 20, conditions: [{ field: 'host-header', values: ['api.example.test'] }], action: { type: 'fixed-response', statusCode: 404, contentType: 'text/plain', messageBody: 'no' } },
    ]);
  });

  it("carries health checks and attributes, ELBv2's defaults where the API gives none", () => {
    const api = t.desired.targetGroups.find((g) => g.name === 'api')!;
    expect(api.healthCheck).toEqual({ protocol: 'HTTP', path: '/healthz', port: 'traffic-port', intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 3, matcher: '200-299' });
    expect(api.attributes).toEqual({ deregistrationDelaySeconds: 7, slowStartSeconds: 0, stickiness: { enabled: true, type: 'lb_cookie', durationSeconds: 60 }, algorithm: 'least_outstanding_requests' });
    expect(t.desired.targetGroups.find((g) => g.name === 'web')!.attributes.deregistrationDelaySeconds).toBe(300);
    expect(t.desired.targetGroups.find((g) => g.name === 'pg')!.healthCheck).toMatchObject({ protocol: 'TCP', port: 5433 });
  });

  it('serves registered targets but draining ones; instance targets on their known address, others listed as skipped', () => {
    expect(t.desired.targetGroups.find((g) => g.name === 'api')!.targets).toEqual([
      { address: '10.0.0.5', port: 8080 },
      { address: '10.0.0.6', port: 8081 },
    ]);
    expect(t.desired.targetGroups.find((g) => g.name === 'inst')!.targets).toEqual([{ address: '192.0.2.10', port: 32768 }]);
    expect(t.origins.get('00000000000000d3/192.0.2.10:32768')).toEqual({ targetGroupArn: TG_INST, id: 'i-0123456789abcdef0', port: 32768 });
    expect(t.skipped).toEqual([expect.stringContaining('i-0fedcba987654321f:32769 of inst')]);
  });

  it('skips what it cannot serve: an HTTPS listener, a port already taken, a forward to no served group', () => {
    const s = snapshot();
    const other = `${P}:loadbalancer/app/zz/00000000000000a2`;
    const out = translate({
      ...s,
      loadBalancers: [...s.loadBalancers, { LoadBalancerArn: other, LoadBalancerName: 'zz', Type: 'application', State: { Code: 'active' } }],
      listeners: new Map([
        ...s.listeners,
        [
          other,
          [
            { ListenerArn: `${other.replace(':loadbalancer/', ':listener/')}/1`, Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200' } }] },
            { ListenerArn: `${other.replace(':loadbalancer/', ':listener/')}/2`, Port: 443, Protocol: 'HTTPS', DefaultActions: [] },
            { ListenerArn: `${other.replace(':loadbalancer/', ':listener/')}/3`, Port: 81, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: `${P}:targetgroup/x/0000000000000099` }] },
          ],
        ],
      ]),
    });
    expect(out.skipped.filter((x) => x.startsWith('listener'))).toEqual([expect.stringContaining('listener 80/HTTP of zz: port already served'), expect.stringContaining('listener 443/HTTPS of zz: protocol HTTPS')]);
    // An ALB forwarding to nothing answers 503, as AWS's does.
    expect(out.desired.loadBalancers.find((l) => l.name === 'zz')!.listeners).toEqual([
      { id: '3', port: 81, protocol: 'HTTP', defaultAction: { type: 'fixed-response', statusCode: 503, contentType: 'text/plain', messageBody: '' }, rules: [] },
    ]);
    expect(() => validateDesiredState(out.desired)).not.toThrow();
  });
});

describe('reports back', () => {
  const s = snapshot();
  const t = translate(s);
  const api = '00000000000000d1';
  const web = '00000000000000d2';

  it('sends verdicts the API does not show yet, and nothing once it shows them', () => {
    const verdicts = [
      { targetGroupId: api, target: { address: '10.0.0.5', port: 8080 }, state: 'healthy' },
      { targetGroupId: api, target: { address: '10.0.0.6', port: 8081 }, state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', description: 'Health checks failed with these codes: [500]' },
      { targetGroupId: web, target: { address: '10.0.0.8', port: 80 }, state: 'unhealthy', reason: 'Target.Timeout' },
      { targetGroupId: api, target: { address: '10.0.0.9', port: 1 }, state: 'healthy' },
      { targetGroupId: api, target: { address: '10.0.0.7', port: 8080 }, state: 'draining' },
    ];
    expect(Object.fromEntries(reportsToSend(t, verdicts, s.targets))).toEqual({
      [TG_API]: [{ Id: '10.0.0.6', Port: 8081, State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [500]' }],
    });
    const healthyAgain = [{ targetGroupId: web, target: { address: '10.0.0.8', port: 80 }, state: 'healthy' }];
    expect(Object.fromEntries(reportsToSend(t, healthyAgain, s.targets))).toEqual({ [TG_WEB]: [{ Id: '10.0.0.8', Port: 80, State: 'healthy' }] });
    // A heartbeat sends what the API shows as well (the control plane forgets a silent node's verdicts).
    expect(Object.fromEntries(reportsToSend(t, verdicts, s.targets, true))).toEqual({
      [TG_API]: [
        { Id: '10.0.0.5', Port: 8080, State: 'healthy' },
        { Id: '10.0.0.6', Port: 8081, State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [500]' },
      ],
      [TG_WEB]: [{ Id: '10.0.0.8', Port: 80, State: 'unhealthy', Reason: 'Target.Timeout' }],
    });
  });

  it('lists the served targets the API shows healthy (a restarted node serves them at once)', () => {
    expect(provenHealthy(t, s.targets)).toEqual([{ targetGroupId: api, target: { address: '10.0.0.5', port: 8080 } }]);
  });

  it('reports where it serves until DescribeLoadBalancers shows the address', () => {
    expect(servedByToSend(t, s, '192.0.2.1')).toEqual([NLB, LB]);
    const shown = { ...s, loadBalancers: s.loadBalancers.map((l) => (l.LoadBalancerArn === LB ? { ...l, AvailabilityZones: [{ LoadBalancerAddresses: [{ IpAddress: '192.0.2.1' }] }] } : l)) };
    expect(servedByToSend(t, shown, '192.0.2.1')).toEqual([NLB]);
    expect(servedByToSend(t, shown, '192.0.2.1', true)).toEqual([NLB, LB]);
  });
});
