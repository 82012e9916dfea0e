/**
 * `berth lb`'s traffic reports: every period (60 s by default, as ALB publishes its metrics each minute) it reads
 * HAProxy's counters, computes what each served HTTP target group got since the last acknowledged report
 * (`traffic-counters.ts`) and sends it with BerthLoadBalancerNode.ReportTraffic; the control plane turns that into
 * `AWS/ApplicationELB` datapoints timestamped at the report. Several nodes each report their own traffic, so the
 * control plane's sums add up across nodes.
 */
import { startPeriodic } from '../process/periodic.js';
import type { Action, DesiredState } from './desired.js';
import { backendName } from './haproxy-config.js';
import type { LbLog } from './haproxy-process.js';
import { parseCounterReading, trafficSince, type CounterReading, type TargetGroupTraffic } from './traffic-counters.js';

/** The write the reporter makes (BerthLoadBalancerNode.ReportTraffic). */
export interface TrafficReports {
  reportTraffic(node: string, traffic: readonly TargetGroupTraffic[]): Promise<void>;
}

/** The HTTP target groups being served: backend name → target group ARN. */
export type ServedGroups = () => ReadonlyMap<string, string>;

export interface TrafficReporterOptions {
  /** The answer to `show info;show stat` from the current HAProxy worker. */
  readonly read: () => Promise<string>;
  readonly groups: ServedGroups;
  readonly reports: TrafficReports;
  readonly nodeId: string;
  readonly log: LbLog;
}

/**
 * The target groups an application load balancer's HTTP listener forwards to (by a default action or a rule), by
 * their HAProxy backend: the groups `AWS/ApplicationELB` has metrics for. `arnOf` maps a group id to its ARN.
 */
export function albTargetGroups(desired: DesiredState, arnOf: (targetGroupId: string) => string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  const add = (a: Action) => {
    if (a.type !== 'forward') return;
    for (const w of a.targetGroups) {
      const arn = arnOf(w.targetGroupId);
      if (arn !== undefined) out.set(backendName(w.targetGroupId), arn);
    }
  };
  for (const lb of desired.loadBalancers) {
    if (lb.type !== 'application') continue;
    for (const l of lb.listeners) {
      if (l.protocol !== 'HTTP') continue;
      add(l.defaultAction);
      for (const r of l.rules) add(r.action);
    }
  }
  return out;
}

/** ALB's metric period. */
export const TRAFFIC_REPORT_MS = 60_000;

export class TrafficReporter {
  private baseline: CounterReading | undefined;

  constructor(private readonly o: TrafficReporterOptions) {}

  /**
   * Read, report, and on success make this reading the baseline. A failed read or report throws and keeps the
   * baseline (the traffic goes out next time). Resolves with what was reported (nothing while no group is served).
   */
  async reportOnce(): Promise<readonly TargetGroupTraffic[]> {
    const groups = this.o.groups();
    const reading = parseCounterReading(await this.o.read());
    const traffic = trafficSince(this.baseline, reading, (backend) => groups.get(backend), groups.values());
    if (traffic.length > 0) await this.o.reports.reportTraffic(this.o.nodeId, traffic);
    this.baseline = reading;
    return traffic;
  }

  /**
   * A report every `intervalMs`. The first counts from zero: the HAProxy is this node's own (started with it), so what
   * it served before then is this node's traffic not yet reported.
   */
  start(intervalMs = TRAFFIC_REPORT_MS): { stop(): Promise<void> } {
    return startPeriodic({ log: this.o.log, what: 'lb traffic report', intervalMs, run: () => this.reportOnce() });
  }
}
