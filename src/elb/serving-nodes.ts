/**
 * Several `berth lb` nodes, as the control plane sees them (pure). Every node serves every load balancer on its own
 * address and checks every target itself, as each ELB node does in its zone. Two things follow:
 *
 * - **Where a load balancer is served** is a set: node → address, each entry refreshed by its node while it serves
 *   (at least every `NODE_REPORT_REFRESH_MS`); DescribeLoadBalancers shows the addresses of nodes heard from within
 *   `NODE_STALE_MS`, so a dead node's address leaves on its own.
 * - **A target's health** is the sum of the nodes' verdicts: healthy while any live node's checks pass (a node
 *   that cannot reach a target takes it out of its own rotation, and the target still serves through the others,
 *   so ECS must not replace it), unhealthy when every live node says so (the reason of the latest). A node's
 *   verdict goes stale like its address; when no live verdict is left, the target keeps the last state it had.
 */
import type { ElbServingNode, LoadBalancerRecord, NodeVerdict, TargetRecord } from '../state/records/elb.js';

/** How often a live node re-sends what it reports (the follower's heartbeat), at most. */
export const NODE_REPORT_REFRESH_MS = 10_000;
/** A node not heard from for this long is gone: its address and its verdicts no longer count. */
export const NODE_STALE_MS = 30_000;

/** The nodes serving `lb`, reading the older single-node form too. */
export function servingNodes(lb: Pick<LoadBalancerRecord, 'servedBy'>): Record<string, ElbServingNode> {
  const s = lb.servedBy;
  if (!s) return {};
  if (typeof s.node === 'string' && typeof s.address === 'string') return { [s.node]: { address: s.address, reportedAt: Number(s.reportedAt) } };
  return { ...(s as Record<string, ElbServingNode>) };
}

/** The addresses of the nodes heard from within {@link NODE_STALE_MS}, sorted, without repeats. */
export function liveAddresses(lb: Pick<LoadBalancerRecord, 'servedBy'>, now: number): string[] {
  const live = Object.values(servingNodes(lb)).filter((n) => now - n.reportedAt <= NODE_STALE_MS);
  return [...new Set(live.map((n) => n.address))].sort();
}

/**
 * The serving set after `node` reported `address`, or undefined when nothing needs writing (same address,
 * refreshed recently): a heartbeat costs a read, not a write. Stale entries of other nodes are dropped.
 */
export function withServingNode(lb: Pick<LoadBalancerRecord, 'servedBy'>, node: string, address: string, now: number): Record<string, ElbServingNode> | undefined {
  const nodes = servingNodes(lb);
  const prior = nodes[node];
  if (prior && prior.address === address && now - prior.reportedAt < NODE_REPORT_REFRESH_MS / 2) return undefined;
  const out: Record<string, ElbServingNode> = {};
  for (const [id, n] of Object.entries(nodes)) if (id !== node && now - n.reportedAt <= NODE_STALE_MS) out[id] = n;
  out[node] = { address, reportedAt: now };
  return out;
}

/** The verdicts heard from within {@link NODE_STALE_MS}. */
function live(verdicts: Readonly<Record<string, NodeVerdict>>, now: number): [string, NodeVerdict][] {
  return Object.entries(verdicts).filter(([, v]) => now - v.at <= NODE_STALE_MS);
}

/**
 * A target after recomputing its health from `verdicts` (stale ones dropped). Draining targets are left alone:
 * a deregistration wins over any report.
 */
export function summed(t: TargetRecord, verdicts: Readonly<Record<string, NodeVerdict>>, now: number): TargetRecord {
  if (t.state === 'draining') return t;
  const fresh = live(verdicts, now);
  const { reason: _r, description: _d, reportedBy: _b, reportedAt: _a, verdicts: _v, ...rest } = t;
  const kept = Object.fromEntries(fresh);
  if (fresh.length === 0) {
    // Nobody checks it any more: the last verdict stands (a restarted node reports again within a tick).
    const { verdicts: _old, ...unchanged } = t;
    return unchanged;
  }
  const healthy = fresh.filter(([, v]) => v.state === 'healthy').sort((a, b) => b[1].at - a[1].at);
  const decided = healthy[0] ?? fresh.sort((a, b) => b[1].at - a[1].at)[0]!;
  const [node, v] = decided;
  return {
    ...rest,
    state: v.state,
    ...(v.state === 'unhealthy' ? { reason: v.reason ?? 'Target.FailedHealthChecks', ...(v.description !== undefined ? { description: v.description } : {}) } : {}),
    reportedBy: node,
    reportedAt: v.at,
    verdicts: kept,
  };
}

/** Whether two target records say the same (order of verdict keys aside). */
export function sameTargetRecord(a: TargetRecord, b: TargetRecord): boolean {
  const norm = (t: TargetRecord) => JSON.stringify({ ...t, verdicts: t.verdicts ? Object.fromEntries(Object.entries(t.verdicts).sort(([x], [y]) => x.localeCompare(y))) : undefined });
  return norm(a) === norm(b);
}

/** Whether a target holds a verdict that went stale (the leader's pass then recomputes it). */
export function hasStaleVerdict(t: TargetRecord, now: number): boolean {
  return Object.values(t.verdicts ?? {}).some((v) => now - v.at > NODE_STALE_MS);
}
