/**
 * `AWS/ApplicationELB` datapoints from one `berth lb` node's traffic report (pure). Dimensions and units are ALB's
 * ("CloudWatch metrics for your Application Load Balancer"): `LoadBalancer` = `app/<name>/<id>`, `TargetGroup` =
 * `targetgroup/<name>/<id>` (the ARNs' resource parts).
 *
 * | metric                                   | dimensions                         | from the report                       |
 * | RequestCount                             | LoadBalancer; LoadBalancer+TG      | requests the targets were sent        |
 * | RequestCountPerTarget                    | TargetGroup; LoadBalancer+TG       | requests ÷ healthy targets (÷ registered when none is healthy) |
 * | HTTPCode_Target_2XX…5XX_Count            | LoadBalancer; LoadBalancer+TG      | the targets' answers by class         |
 * | TargetResponseTime (Seconds)             | LoadBalancer; LoadBalancer+TG      | statistic set: n requests, Σ seconds  |
 * | HealthyHostCount, UnHealthyHostCount     | LoadBalancer+TG                    | the control plane's target health     |
 *
 * Each report is its own statistic set, written at the time the control plane receives it. Several nodes report
 * their own traffic and several replicas write their own rows (metric-store.ts merges writers): a period's Sum is
 * the total whatever the number of nodes and replicas. Counts of zero are not written (ALB publishes them only
 * while requests flow); host counts are written with every report, so their Average, Minimum and Maximum are the
 * counts (their Sum grows with the number of nodes, as with ALB's nodes).
 */
import type { Sample } from './metric-store.js';
import { seriesRef } from './series.js';

export const ALB_NAMESPACE = 'AWS/ApplicationELB';

/** What a node saw of one target group since its last report. */
export interface GroupTraffic {
  readonly requests: number;
  readonly http2xx: number;
  readonly http3xx: number;
  readonly http4xx: number;
  readonly http5xx: number;
  /** Σ of response times (seconds) over `requests`; min/max over the node's servers' averages. */
  readonly responseTimeSum: number;
  readonly responseTimeMin?: number;
  readonly responseTimeMax?: number;
}

/** One target group's report with what the control plane knows of it. */
export interface GroupFigures {
  /** `app/<name>/<id>`. */
  readonly loadBalancer: string;
  /** `targetgroup/<name>/<id>`. */
  readonly targetGroup: string;
  readonly traffic: GroupTraffic;
  readonly healthy: number;
  readonly unhealthy: number;
  /** Registered targets not draining (RequestCountPerTarget's divisor when none is healthy). */
  readonly registered: number;
}

/** The `LoadBalancer` dimension of a load balancer ARN (undefined: not an application load balancer's). */
export function loadBalancerDimension(loadBalancerArn: string): string | undefined {
  return /:loadbalancer\/(app\/[^/]+\/[^/]+)$/.exec(loadBalancerArn)?.[1];
}

/** The `TargetGroup` dimension of a target group ARN. */
export function targetGroupDimension(targetGroupArn: string): string | undefined {
  return /:(targetgroup\/[^/]+\/[^/]+)$/.exec(targetGroupArn)?.[1];
}

const CODES = [
  ['HTTPCode_Target_2XX_Count', 'http2xx'],
  ['HTTPCode_Target_3XX_Count', 'http3xx'],
  ['HTTPCode_Target_4XX_Count', 'http4xx'],
  ['HTTPCode_Target_5XX_Count', 'http5xx'],
] as const;

interface StatSet {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

const one = (v: number): StatSet => ({ count: 1, sum: v, min: v, max: v });

/**
 * Every datapoint of one report received at `t` (epoch seconds). `highRes`: kept per second too (3 hours), which
 * alarms with periods under a minute need (`berth server --target-tracking-period 10`); ALB's own are per minute.
 */
export function albSamples(groups: readonly GroupFigures[], t: number, highRes = false): Sample[] {
  const out: Sample[] = [];
  const add = (name: string, unit: string, dims: Record<string, string>, set: StatSet) => {
    const dimensions = Object.entries(dims).map(([Name, Value]) => ({ Name, Value }));
    out.push({ series: seriesRef(ALB_NAMESPACE, name, dimensions), unit, t, highRes, ...set });
  };
  const byLoadBalancer = new Map<string, GroupTraffic[]>();
  for (const g of groups) {
    const pair = { LoadBalancer: g.loadBalancer, TargetGroup: g.targetGroup };
    const tr = g.traffic;
    add('HealthyHostCount', 'Count', pair, one(g.healthy));
    add('UnHealthyHostCount', 'Count', pair, one(g.unhealthy));
    byLoadBalancer.set(g.loadBalancer, [...(byLoadBalancer.get(g.loadBalancer) ?? []), tr]);
    if (tr.requests <= 0) continue;
    add('RequestCount', 'Count', pair, one(tr.requests));
    const divisor = g.healthy > 0 ? g.healthy : g.registered;
    if (divisor > 0) {
      add('RequestCountPerTarget', 'Count', { TargetGroup: g.targetGroup }, one(tr.requests / divisor));
      add('RequestCountPerTarget', 'Count', pair, one(tr.requests / divisor));
    }
    for (const [name, key] of CODES) if (tr[key] > 0) add(name, 'Count', pair, one(tr[key]));
    add('TargetResponseTime', 'Seconds', pair, responseTime([tr]));
  }
  for (const [loadBalancer, traffic] of byLoadBalancer) {
    const lb = { LoadBalancer: loadBalancer };
    const requests = traffic.reduce((s, tr) => s + tr.requests, 0);
    if (requests <= 0) continue;
    add('RequestCount', 'Count', lb, one(requests));
    for (const [name, key] of CODES) {
      const n = traffic.reduce((s, tr) => s + tr[key], 0);
      if (n > 0) add(name, 'Count', lb, one(n));
    }
    add('TargetResponseTime', 'Seconds', lb, responseTime(traffic));
  }
  return out;
}

/** TargetResponseTime as a statistic set over the requests of `traffic` (each request one sample). */
function responseTime(traffic: readonly GroupTraffic[]): StatSet {
  const served = traffic.filter((tr) => tr.requests > 0);
  const count = served.reduce((s, tr) => s + tr.requests, 0);
  const sum = served.reduce((s, tr) => s + tr.responseTimeSum, 0);
  const mean = sum / count;
  const min = Math.min(...served.map((tr) => tr.responseTimeMin ?? mean));
  const max = Math.max(...served.map((tr) => tr.responseTimeMax ?? mean));
  return { count, sum, min, max };
}
