import { describe, expect, it } from 'vitest';
import { albSamples, loadBalancerDimension, targetGroupDimension, type GroupFigures } from './application-elb.js';

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/0123456789abcdef';
const TG_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web-tg/fedcba9876543210';

const traffic = (requests: number, codes: [number, number, number, number], timeSum = 0) => ({
  requests,
  http2xx: codes[0],
  http3xx: codes[1],
  http4xx: codes[2],
  http5xx: codes[3],
  responseTimeSum: timeSum,
  ...(requests > 0 ? { responseTimeMin: 0.01, responseTimeMax: 0.05 } : {}),
});

/** The samples as `name {dims} = stat set`, easy to compare. */
const shown = (figures: GroupFigures[]) =>
  Object.fromEntries(albSamples(figures, 1_800_000_000).map((s) => [`${s.series.name} ${s.series.dimensions.map((d) => `${d.Name}=${d.Value}`).join(',')}`, [s.count, s.sum, s.min, s.max, s.unit]]));

describe('AWS/ApplicationELB dimensions', () => {
  it("are the ARNs' resource parts, as ALB names them", () => {
    expect(loadBalancerDimension(LB_ARN)).toBe('app/web/0123456789abcdef');
    expect(targetGroupDimension(TG_ARN)).toBe('targetgroup/web-tg/fedcba9876543210');
    // A network load balancer's metrics are AWS/NetworkELB's, not these.
    expect(loadBalancerDimension(LB_ARN.replace('/app/', '/net/'))).toBeUndefined();
  });
});

describe('albSamples', () => {
  const lb = 'app/web/0123456789abcdef';
  const a = 'targetgroup/a/1111111111111111';
  const b = 'targetgroup/b/2222222222222222';

  it('writes per load balancer and per load balancer + target group, RequestCountPerTarget per target group too', () => {
    const out = shown([
      { loadBalancer: lb, targetGroup: a, traffic: traffic(120, [100, 0, 15, 5], 1.2), healthy: 2, unhealthy: 1, registered: 3 },
      { loadBalancer: lb, targetGroup: b, traffic: traffic(30, [30, 0, 0, 0], 0.5), healthy: 1, unhealthy: 0, registered: 1 },
    ]);
    expect(out).toEqual({
      [`HealthyHostCount LoadBalancer=${lb},TargetGroup=${a}`]: [1, 2, 2, 2, 'Count'],
      [`UnHealthyHostCount LoadBalancer=${lb},TargetGroup=${a}`]: [1, 1, 1, 1, 'Count'],
      [`RequestCount LoadBalancer=${lb},TargetGroup=${a}`]: [1, 120, 120, 120, 'Count'],
      [`RequestCountPerTarget TargetGroup=${a}`]: [1, 60, 60, 60, 'Count'],
      [`RequestCountPerTarget LoadBalancer=${lb},TargetGroup=${a}`]: [1, 60, 60, 60, 'Count'],
      [`HTTPCode_Target_2XX_Count LoadBalancer=${lb},TargetGroup=${a}`]: [1, 100, 100, 100, 'Count'],
      [`HTTPCode_Target_4XX_Count LoadBalancer=${lb},TargetGroup=${a}`]: [1, 15, 15, 15, 'Count'],
      [`HTTPCode_Target_5XX_Count LoadBalancer=${lb},TargetGroup=${a}`]: [1, 5, 5, 5, 'Count'],
      [`TargetResponseTime LoadBalancer=${lb},TargetGroup=${a}`]: [120, 1.2, 0.01, 0.05, 'Seconds'],
      [`HealthyHostCount LoadBalancer=${lb},TargetGroup=${b}`]: [1, 1, 1, 1, 'Count'],
      [`UnHealthyHostCount LoadBalancer=${lb},TargetGroup=${b}`]: [1, 0, 0, 0, 'Count'],
      [`RequestCount LoadBalancer=${lb},TargetGroup=${b}`]: [1, 30, 30, 30, 'Count'],
      [`RequestCountPerTarget TargetGroup=${b}`]: [1, 30, 30, 30, 'Count'],
      [`RequestCountPerTarget LoadBalancer=${lb},TargetGroup=${b}`]: [1, 30, 30, 30, 'Count'],
      [`HTTPCode_Target_2XX_Count LoadBalancer=${lb},TargetGroup=${b}`]: [1, 30, 30, 30, 'Count'],
      [`TargetResponseTime LoadBalancer=${lb},TargetGroup=${b}`]: [30, 0.5, 0.01, 0.05, 'Seconds'],
      // The load balancer's figures add its groups up.
      [`RequestCount LoadBalancer=${lb}`]: [1, 150, 150, 150, 'Count'],
      [`HTTPCode_Target_2XX_Count LoadBalancer=${lb}`]: [1, 130, 130, 130, 'Count'],
      [`HTTPCode_Target_4XX_Count LoadBalancer=${lb}`]: [1, 15, 15, 15, 'Count'],
      [`HTTPCode_Target_5XX_Count LoadBalancer=${lb}`]: [1, 5, 5, 5, 'Count'],
      [`TargetResponseTime LoadBalancer=${lb}`]: [150, 1.7, 0.01, 0.05, 'Seconds'],
    });
  });

  it('divides by the registered targets when none is healthy, and writes only host counts for a group without traffic', () => {
    const none = shown([{ loadBalancer: lb, targetGroup: a, traffic: traffic(12, [0, 0, 0, 12]), healthy: 0, unhealthy: 3, registered: 3 }]);
    expect(none[`RequestCountPerTarget TargetGroup=${a}`]).toEqual([1, 4, 4, 4, 'Count']);
    const idle = shown([{ loadBalancer: lb, targetGroup: a, traffic: traffic(0, [0, 0, 0, 0]), healthy: 2, unhealthy: 0, registered: 2 }]);
    expect(Object.keys(idle)).toEqual([`HealthyHostCount LoadBalancer=${lb},TargetGroup=${a}`, `UnHealthyHostCount LoadBalancer=${lb},TargetGroup=${a}`]);
    const empty = shown([{ loadBalancer: lb, targetGroup: a, traffic: traffic(5, [5, 0, 0, 0]), healthy: 0, unhealthy: 0, registered: 0 }]);
    expect(Object.keys(empty).filter((k) => k.startsWith('RequestCountPerTarget'))).toEqual([]);
  });
});
