/**
 * `berth lb`'s loop: every `intervalMs`, read the region's load balancing through the ELBv2 API (the SDK client,
 * as any tool would), translate it (`elbv2-translation.ts`), hand it to the HAProxy driver, and send back what
 * the API does not show yet — the driver's health verdicts and this node's address — through the
 * BerthLoadBalancerNode reports (`NodeReports`). Instance targets are served on their container instance's host
 * address, read through the ECS API and cached (`instance-addresses.ts`). A host role: it never sees the control
 * plane's store or code.
 *
 *   starting ──first snapshot──▶ driver.start ──▶ following (tick: snapshot → apply → reports)
 *      ▲  └─ snapshot/start fails: retried next tick            │
 *      └────────────────────────────────────────────────────────┘ stop(): driver stopped
 *
 * A tick that fails (the API unreachable, a resource deleted between two Describe calls, a state the driver
 * refuses) changes nothing and is logged; the next one starts over, so the node converges on its own.
 */
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type Listener,
  type LoadBalancer,
  type Rule,
  type TargetGroup,
  type TargetGroupAttribute,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { background } from '../process/background.js';
import type { DesiredState, Target } from './desired.js';
import { provenHealthy, reportsToSend, servedByToSend, translate, type Elbv2Snapshot, type TargetReport, type Verdict } from './elbv2-translation.js';
import type { LbLog } from './haproxy-process.js';
import type { InstanceAddresses } from './instance-addresses.js';
import { albTargetGroups } from './traffic-reporter.js';

/** The two writes a node makes (BerthLoadBalancerNode). */
export interface NodeReports {
  reportTargetHealth(targetGroupArn: string, node: string, targets: readonly TargetReport[]): Promise<void>;
  reportServedBy(loadBalancerArn: string, node: string, address: string): Promise<void>;
}

/** What the follower needs of the driver (LbDriver). */
export interface Driver {
  start(initial: DesiredState, proven?: readonly { readonly targetGroupId: string; readonly target: Target }[]): Promise<void>;
  apply(next: DesiredState): Promise<unknown>;
  health(): readonly Verdict[];
  stop(): Promise<void>;
}

export interface FollowerOptions {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly reports: NodeReports;
  readonly driver: Driver;
  /** The address the listeners are served on (what DescribeLoadBalancers shows). */
  readonly address: string;
  readonly nodeId: string;
  readonly log: LbLog;
  readonly intervalMs?: number;
  /**
   * Where instance targets are (their container instances' `berth.host-address`, read through the ECS API);
   * without it, instance targets are not served.
   */
  readonly instances?: Pick<InstanceAddresses, 'ensure' | 'lookup'>;
  /**
   * How often every verdict and address is sent again even when the API shows it (default 10 s): the control plane
   * forgets a node silent for 30 s, which is how a dead node's address and verdicts stop counting.
   */
  readonly heartbeatMs?: number;
  readonly now?: () => number;
}

/** The control plane's refresh period for node reports (elb/serving-nodes.ts NODE_REPORT_REFRESH_MS). */
export const HEARTBEAT_MS = 10_000;

/** Read everything one tick needs; rules only for HTTP listeners, attributes and health per target group. */
export async function readSnapshot(elb: ElasticLoadBalancingV2Client): Promise<Elbv2Snapshot> {
  const loadBalancers: LoadBalancer[] = [];
  let marker: string | undefined;
  do {
    const page = await elb.send(new DescribeLoadBalancersCommand({ ...(marker ? { Marker: marker } : {}), PageSize: 400 }));
    loadBalancers.push(...(page.LoadBalancers ?? []));
    marker = page.NextMarker;
  } while (marker);
  const targetGroups: TargetGroup[] = [];
  do {
    const page = await elb.send(new DescribeTargetGroupsCommand({ ...(marker ? { Marker: marker } : {}), PageSize: 400 }));
    targetGroups.push(...(page.TargetGroups ?? []));
    marker = page.NextMarker;
  } while (marker);
  const listeners = new Map<string, Listener[]>();
  const rules = new Map<string, Rule[]>();
  await Promise.all(
    loadBalancers.map(async (lb) => {
      const arn = lb.LoadBalancerArn!;
      const out: Listener[] = [];
      let m: string | undefined;
      do {
        const page = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: arn, ...(m ? { Marker: m } : {}) }));
        out.push(...(page.Listeners ?? []));
        m = page.NextMarker;
      } while (m);
      listeners.set(arn, out);
      for (const l of out) {
        if (l.Protocol !== 'HTTP') continue;
        const rs: Rule[] = [];
        let rm: string | undefined;
        do {
          const page = await elb.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn!, ...(rm ? { Marker: rm } : {}) }));
          rs.push(...(page.Rules ?? []));
          rm = page.NextMarker;
        } while (rm);
        rules.set(l.ListenerArn!, rs);
      }
    }),
  );
  const attributes = new Map<string, TargetGroupAttribute[]>();
  const targets = new Map<string, TargetHealthDescription[]>();
  await Promise.all(
    targetGroups.map(async (tg) => {
      const arn = tg.TargetGroupArn!;
      const [a, h] = await Promise.all([
        elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn })),
        elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
      ]);
      attributes.set(arn, a.Attributes ?? []);
      targets.set(arn, h.TargetHealthDescriptions ?? []);
    }),
  );
  return { loadBalancers, listeners, rules, targetGroups, attributes, targets };
}

/** The ids of every instance target in the snapshot (the container instances whose address a tick needs). */
export function instanceTargetIds(snapshot: Elbv2Snapshot): Set<string> {
  const ids = new Set<string>();
  for (const tg of snapshot.targetGroups) {
    if (tg.TargetType !== 'instance') continue;
    for (const d of snapshot.targets.get(tg.TargetGroupArn ?? '') ?? []) if (d.Target?.Id) ids.add(d.Target.Id);
  }
  return ids;
}

export class LbFollower {
  private started = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastSkipped = '';
  /** When every report was last sent and acknowledged (epoch ms). */
  private lastBeat = Number.NEGATIVE_INFINITY;
  /** The application load balancers' target groups served since the last tick that reached the driver. */
  private albGroups: ReadonlyMap<string, string> = new Map();

  constructor(private readonly options: FollowerOptions) {}

  /** Run the first tick now (resolves once it has run, served or not) and the others every interval. */
  async start(): Promise<void> {
    await this.tickOnce();
    this.timer = setInterval(() => {
      this.running ??= background(this.options.log, 'lb follow', () => this.tickOnce()).finally(() => (this.running = undefined));
    }, this.options.intervalMs ?? 1_000);
  }

  /** The HTTP target groups application load balancers forward to, by HAProxy backend name → ARN (traffic-reporter.ts). */
  servedAlbGroups(): ReadonlyMap<string, string> {
    return this.albGroups;
  }

  /** Whether HAProxy has been started (the first snapshot was read and served). */
  get serving(): boolean {
    return this.started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    if (this.started) await this.options.driver.stop();
  }

  /** One tick: snapshot → driver → reports. Failures are logged, never thrown. */
  async tickOnce(): Promise<void> {
    if (this.stopped) return;
    const { log, driver } = this.options;
    try {
      const snapshot = await readSnapshot(this.options.elb);
      const { instances } = this.options;
      if (instances) {
        // A failed read leaves the instances where the last one put them: ip targets and the rest are served still.
        await instances.ensure(instanceTargetIds(snapshot)).catch((err: unknown) => log.warn({ err }, 'lb follow: reading container instances failed'));
      }
      const t = translate(snapshot, instances?.lookup);
      const skipped = t.skipped.join('\n');
      if (skipped !== this.lastSkipped) {
        this.lastSkipped = skipped;
        if (skipped) log.warn({ skipped: t.skipped }, 'not served');
      }
      if (this.stopped) return;
      if (!this.started) {
        // A restarted node keeps serving what the API shows healthy instead of holding it back for `rise` checks.
        await driver.start(t.desired, provenHealthy(t, snapshot.targets));
        this.started = true;
      } else await driver.apply(t.desired);
      this.albGroups = albTargetGroups(t.desired, (id) => t.targetGroupArns.get(id));
      const now = (this.options.now ?? Date.now)();
      const beat = now - this.lastBeat >= (this.options.heartbeatMs ?? HEARTBEAT_MS);
      const reports = reportsToSend(t, driver.health(), snapshot.targets, beat);
      const { reports: api, nodeId, address } = this.options;
      await Promise.all([
        ...[...reports].map(([arn, targets]) => api.reportTargetHealth(arn, nodeId, targets)),
        ...servedByToSend(t, snapshot, address, beat).map((arn) => api.reportServedBy(arn, nodeId, address)),
      ]);
      if (beat) this.lastBeat = now;
    } catch (err) {
      log.warn({ err }, 'lb follow: tick failed; trying again');
    }
  }
}
