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
import { addTraffic, parseCounterReading, trafficSince, type CounterReading, type TargetGroupTraffic } from './traffic-counters.js';

/** The write the reporter makes (BerthLoadBalancerNode.ReportTraffic), with at most {@link TRAFFIC_PER_CALL} groups. */
export interface TrafficReports {
  reportTraffic(node: string, traffic: readonly TargetGroupTraffic[]): Promise<void>;
}

/** ReportTraffic's list limit (the service model's). */
export const TRAFFIC_PER_CALL = 100;

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

/**
 *   reading ──fold (trafficSince the baseline)──▶ pending (per target group) ──report──▶ acknowledged: cleared
 *      ▲ every period, and just before a reload or a `del server`        └─ failed: kept, sent with the next
 *
 * Readings and reports run one at a time (in order), so two readings never fold against each other's baseline.
 */
export class TrafficReporter {
  private baseline: CounterReading | undefined;
  /** Traffic read but not yet acknowledged, by target group ARN. */
  private pending = new Map<string, TargetGroupTraffic>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: TrafficReporterOptions) {}

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Read the counters and fold what changed since the last reading into what is pending. */
  private async fold(): Promise<void> {
    const groups = this.o.groups();
    const reading = parseCounterReading(await this.o.read());
    for (const t of trafficSince(this.baseline, reading, (backend) => groups.get(backend))) {
      const before = this.pending.get(t.TargetGroupArn);
      this.pending.set(t.TargetGroupArn, before ? addTraffic(before, t) : t);
    }
    this.baseline = reading;
  }

  /**
   * Take a reading now, before HAProxy's counters restart (the driver calls it before a reload or a `del server`):
   * what they held since the last reading is kept for the next report.
   */
  beforeCountersReset(): Promise<void> {
    return this.serial(() => this.fold());
  }

  /**
   * Read, then report everything pending (each served group, with zeros if it had no traffic); acknowledged, it is
   * cleared. A failed read or report throws; what was pending stays for the next. Resolves with what was reported
   * (nothing while no group is served and nothing is pending). The call to the control plane is made outside the
   * queue: a reload waiting for its reading never waits for the network.
   */
  async reportOnce(): Promise<readonly TargetGroupTraffic[]> {
    const sending = await this.serial(async () => {
      await this.fold();
      const taken = this.pending;
      this.pending = new Map();
      return taken;
    });
    for (const arn of this.o.groups().values()) if (!sending.has(arn)) sending.set(arn, zero(arn));
    const traffic = [...sending.values()].sort((a, b) => a.TargetGroupArn.localeCompare(b.TargetGroupArn));
    // One call per 100 groups, in order; what a failed call (and those after it) carried is kept for the next report.
    for (let i = 0; i < traffic.length; i += TRAFFIC_PER_CALL) {
      try {
        await this.o.reports.reportTraffic(this.o.nodeId, traffic.slice(i, i + TRAFFIC_PER_CALL));
      } catch (error) {
        for (const t of traffic.slice(i)) {
          const since = this.pending.get(t.TargetGroupArn);
          this.pending.set(t.TargetGroupArn, since ? addTraffic(t, since) : t);
        }
        throw error;
      }
    }
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

const zero = (arn: string): TargetGroupTraffic => ({ TargetGroupArn: arn, Requests: 0, Http2xx: 0, Http3xx: 0, Http4xx: 0, Http5xx: 0, ResponseTimeSum: 0 });
