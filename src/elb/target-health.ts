/**
 * A registered target's health, as stored in its target group's target set (state/records/elb.ts):
 *
 *   RegisterTargets ──▶ initial ──data plane: passed──▶ healthy
 *                          │  ▲                           │  ▲
 *                          │  └──────(re-registered)      ▼  │
 *                          └──data plane: failed──▶ unhealthy
 *   DeregisterTargets (from any) ──▶ draining ──drainUntil passed (leader, startTargetDrain)──▶ removed
 *   DeregisterTargets when the group is unused or the delay is 0 ──▶ removed at once
 *   RegisterTargets of a draining target ──▶ initial
 *
 * `unused` is never stored: an `initial` target of a group no listener or rule forwards to is shown
 * unused/Target.NotInUse, one of a used group initial/Elb.RegistrationInProgress, until the data plane
 * (`berth lb`) reports through {@link setTargetHealth}. Health reports for a draining or unknown target are
 * dropped: a report can race a deregistration, and the deregistration wins.
 */
import type { Logger } from 'pino';
import { startPeriodic } from '../process/periodic.js';
import { elbKeys } from '../state/elb-keys.js';
import { parseTargetSet, type NodeVerdict, type TargetRecord, type TargetSetRecord } from '../state/records/elb.js';
import { rangePages } from '../store/range-pages.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { parseTargetGroupArn } from './arns.js';
import { hasStaleVerdict, NODE_REPORT_REFRESH_MS, sameTargetRecord, summed } from './serving-nodes.js';

/** AWS's reason codes a data plane may report with healthy/unhealthy. */
export const HEALTH_REASONS = ['Target.ResponseCodeMismatch', 'Target.Timeout', 'Target.FailedHealthChecks', 'Elb.InitialHealthChecking', 'Elb.InternalError'] as const;
export type HealthReason = (typeof HEALTH_REASONS)[number];

/** What a data plane reports about one target. */
export interface HealthReport {
  readonly id: string;
  readonly port: number;
  readonly state: 'healthy' | 'unhealthy';
  readonly reason?: HealthReason;
  readonly description?: string;
}

const sameTarget = (a: { id: string; port: number }, b: { id: string; port: number }) => a.id === b.id && a.port === b.port;

/** The targets after registering `added` (a target already there keeps its record unless draining). */
export function registerInto(targets: readonly TargetRecord[], added: readonly { id: string; port: number; availabilityZone?: string }[], now: number): TargetRecord[] {
  const out = [...targets];
  for (const t of added) {
    const at = out.findIndex((x) => sameTarget(x, t));
    if (at !== -1 && out[at]!.state !== 'draining') continue;
    const fresh: TargetRecord = { id: t.id, port: t.port, registeredAt: now, state: 'initial', ...(t.availabilityZone !== undefined ? { availabilityZone: t.availabilityZone } : {}) };
    if (at === -1) out.push(fresh);
    else out[at] = fresh;
  }
  return out;
}

/**
 * The targets after deregistering `removed`: draining until `now + delayMs`, or gone at once when the group is
 * unused (no traffic to drain) or the delay is 0. Targets not registered are ignored, as AWS does.
 */
export function deregisterFrom(targets: readonly TargetRecord[], removed: readonly { id: string; port: number }[], now: number, delayMs: number, used: boolean): TargetRecord[] {
  const out: TargetRecord[] = [];
  for (const t of targets) {
    if (!removed.some((r) => sameTarget(r, t))) out.push(t);
    else if (used && delayMs > 0) {
      out.push(t.state === 'draining' ? t : { ...t, state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress', drainUntil: now + delayMs });
    }
  }
  return out;
}

/** How DescribeTargetHealth shows a stored target. */
export function shownHealth(t: TargetRecord, used: boolean): { State: string; Reason?: string; Description?: string } {
  switch (t.state) {
    case 'draining':
      return { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' };
    case 'initial':
      return used
        ? { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' }
        : { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' };
    case 'healthy':
      return used ? { State: 'healthy' } : { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' };
    case 'unhealthy':
      return used
        ? { State: 'unhealthy', Reason: t.reason ?? 'Target.FailedHealthChecks', Description: t.description ?? 'Health checks failed' }
        : { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' };
  }
}

/**
 * The targets after `reports` from `node`: its verdicts recorded (refreshed at most every half
 * NODE_REPORT_REFRESH_MS when unchanged, so a heartbeat is mostly a read) and each target's health summed over the
 * live nodes' verdicts (serving-nodes.ts). Reports for draining or unregistered targets are dropped.
 */
export function applyReports(targets: readonly TargetRecord[], reports: readonly HealthReport[], node: string, now: number): { targets: TargetRecord[]; changed: boolean } {
  let changed = false;
  const out = targets.map((t) => {
    const report = reports.find((r) => sameTarget(r, t));
    if (!report || t.state === 'draining') return t;
    const prior = t.verdicts?.[node];
    const same = prior && prior.state === report.state && prior.reason === (report.state === 'unhealthy' ? (report.reason ?? 'Target.FailedHealthChecks') : undefined) && prior.description === (report.state === 'unhealthy' ? report.description : undefined);
    if (same && now - prior.at < NODE_REPORT_REFRESH_MS / 2 && t.reportedBy !== undefined) return t;
    const verdict: NodeVerdict = {
      state: report.state,
      at: now,
      ...(report.state === 'unhealthy' ? { reason: report.reason ?? 'Target.FailedHealthChecks', ...(report.description !== undefined ? { description: report.description } : {}) } : {}),
    };
    const next = summed(t, { ...t.verdicts, [node]: verdict }, now);
    if (sameTargetRecord(next, t)) return t;
    changed = true;
    return next;
  });
  return { targets: out, changed };
}

/**
 * The data plane's path for health: `node` (a `berth lb`) reports its verdicts on targets of the group at
 * `targetGroupArn`, in one compare-and-swap transaction over the group's target set (safe against a concurrent
 * RegisterTargets/DeregisterTargets on any replica, which retries or makes this one retry). Returns whether
 * anything changed; a group deleted meanwhile is no error (nothing to report on).
 */
export async function setTargetHealth(store: Store, targetGroupArn: string, reports: readonly HealthReport[], node: string, now = Date.now()): Promise<boolean> {
  const { id } = parseTargetGroupArn(targetGroupArn);
  return transact(store, async (tx) => {
    const set = await tx.getRecord(parseTargetSet, elbKeys.targets(id));
    if (!set) return false;
    const { targets, changed } = applyReports(set.targets, reports, node, now);
    if (changed) tx.putJson(elbKeys.targets(id), { ...set, targets } satisfies TargetSetRecord);
    return changed;
  });
}

/** A target set after its drained targets left and stale verdicts were dropped (health summed again). */
function maintained(targets: readonly TargetRecord[], now: number): TargetRecord[] {
  return targets.filter((t) => !(t.state === 'draining' && (t.drainUntil ?? 0) <= now)).map((t) => (hasStaleVerdict(t, now) ? summed(t, t.verdicts ?? {}, now) : t));
}

const needsUpkeep = (t: TargetRecord, now: number) => (t.state === 'draining' && (t.drainUntil ?? 0) <= now) || hasStaleVerdict(t, now);

/**
 * Remove every draining target whose deregistration delay has passed, and drop verdicts of nodes gone silent (so a
 * dead node's "healthy" stops counting); returns how many targets were removed.
 */
export async function removeDrainedTargets(store: Store, now: number): Promise<number> {
  const due: string[] = [];
  for await (const page of rangePages(store, elbKeys.allTargets(), 200)) {
    for (const e of page) {
      if (parseTargetSet(e.value, e.key).targets.some((t) => needsUpkeep(t, now))) due.push(e.key);
    }
  }
  let removed = 0;
  for (const key of due) {
    removed += await transact(store, async (tx) => {
      const set = await tx.getRecord(parseTargetSet, key);
      if (!set) return 0;
      const kept = maintained(set.targets, now);
      if (kept.length === set.targets.length && kept.every((t, i) => sameTargetRecord(t, set.targets[i]!))) return 0;
      tx.putJson(key, { ...set, targets: kept } satisfies TargetSetRecord);
      return set.targets.length - kept.length;
    });
  }
  return removed;
}

export interface TargetDrainOptions {
  /** The leader term's fenced store. */
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** Between passes (default 1 s: draining ends within a second of its delay). */
  readonly intervalMs?: number;
  readonly setInterval?: typeof setInterval;
  readonly clearInterval?: typeof clearInterval;
}

/** The leader's periodic removal of targets whose deregistration delay is over (leader-duties.ts). */
export function startTargetDrain(options: TargetDrainOptions): { stop(): Promise<void>; runOnce(): Promise<number> } {
  const now = options.now ?? Date.now;
  const runOnce = async () => {
    const removed = await removeDrainedTargets(options.store, now());
    if (removed) options.log.info({ removed }, 'removed targets whose deregistration delay is over');
    return removed;
  };
  const periodic = startPeriodic({ ...options, what: 'target drain', intervalMs: options.intervalMs ?? 1_000, run: runOnce });
  return { stop: () => periodic.stop(), runOnce };
}
