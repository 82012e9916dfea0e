/**
 * A service's tasks behind its load balancers, as a pure step after the plan (ECS's behaviour):
 *
 *   task RUNNING ──register──▶ target initial ──data plane──▶ healthy (counts toward the floor)
 *                                   │                          │
 *                                   └────────▶ unhealthy ◀─────┘  (past the grace period: replaced)
 *   planned stop of a registered task ──deregister──▶ draining ──deregistration delay──▶ the agent stops it
 *     (task: RUNNING ──▶ DEACTIVATING, desired STOPPED ─────────────────────────────▶ STOPPING ──▶ STOPPED)
 *   StopTask of a registered task (DEACTIVATING, desired STOPPED) ──deregister──▶ the same drain, then STOPPING
 *   task stopped or stopping on its own ──deregister (no wait)
 *
 * A DEACTIVATING task is held by the control plane: its agent is told to keep it running (api/acs/session.ts)
 * until the drain is over and the stop (`stopTaskInTx` with `drained`) makes it STOPPING.
 *
 * The target of a task for one `loadBalancers` entry: an `instance` group gets its container instance's EC2 id and
 * the host port bound to the container port (bridge: dynamic); an `ip` group gets the task's awsvpc address and the
 * container port itself.
 */
import { happened, serviceMessages, type NewEvent } from '../../model/service/events.js';
import type { DeferredStop } from '../../state/records/services.js';
import type { PlannedStop, ServiceState, TaskView } from './state.js';
import { ec2Of, entriesFor, taskTarget, type TargetChange } from './target-of.js';

/** A target group as the service's state holds it. */
type Group = NonNullable<ServiceState['targetGroups']> extends ReadonlyMap<string, infer G> ? G : never;

/** What {@link planTargets} decided on top of the plan. */
export interface TargetPlan {
  /** The stops to make now (the plan's, less those that wait for their targets to drain, plus drained ones). */
  readonly stops: PlannedStop[];
  /** Planned stops that wait for their targets to drain, new this pass: the task becomes DEACTIVATING, desired STOPPED. */
  readonly deactivations: PlannedStop[];
  readonly registrations: TargetChange[];
  readonly deregistrations: TargetChange[];
  /** The deferred stops after this pass. */
  readonly deregistering: Record<string, DeferredStop>;
  readonly requeueAfterMs?: number;
}

/**
 * Register RUNNING tasks, deregister the ones that stop, and hold a planned stop of a registered task back until its
 * targets have drained (the stop is then made with the reason it was planned with). Tasks on lost or gone instances
 * are stopped at once (deregistered all the same).
 */
export function planTargets(state: ServiceState, views: readonly TaskView[], stops: readonly PlannedStop[]): TargetPlan {
  const prior = state.record.berth.deregistering ?? {};
  const byId = new Map(views.map((v) => [v.id, v]));
  const register = new Map<string, { id: string; port: number }[]>();
  const deregister = new Map<string, { id: string; port: number }[]>();
  const add = (m: Map<string, { id: string; port: number }[]>, arn: string, t: { id: string; port: number }) => {
    const list = m.get(arn) ?? [];
    if (!list.some((x) => x.id === t.id && x.port === t.port)) list.push(t);
    m.set(arn, list);
  };
  /** The task's targets as stored, not yet draining, with their groups' drain time. */
  const registered = (v: TaskView) =>
    entriesFor(state.record, v.deploymentId).flatMap((e) => {
      const group = state.targetGroups?.get(e.targetGroupArn);
      const target = group && taskTarget(e, group, v.record, ec2Of(state, v.record));
      const stored = target && group.targets.some((t) => t.id === target.id && t.port === target.port && t.state !== 'draining');
      return stored ? [{ arn: e.targetGroupArn, target, drainMs: group.drainMs }] : [];
    });

  /** The targets running tasks map to, by task id (what the register loop below registers when not stored). */
  const runningTargets = new Map<string, { arn: string; group: Group; target: { id: string; port: number } }[]>();
  for (const v of views) {
    if (!v.live || !v.running) continue;
    runningTargets.set(
      v.id,
      entriesFor(state.record, v.deploymentId).flatMap((e) => {
        const group = state.targetGroups?.get(e.targetGroupArn);
        const target = group && taskTarget(e, group, v.record, ec2Of(state, v.record));
        return target ? [{ arn: e.targetGroupArn, group, target }] : [];
      }),
    );
  }
  /** Whether a running task other than `except` maps to `target` in group `arn`. */
  const claimedByRunning = (arn: string, target: { id: string; port: number }, except: string) =>
    [...runningTargets].some(([id, ts]) => id !== except && ts.some((t) => t.arn === arn && t.target.id === target.id && t.target.port === target.port));

  const out: PlannedStop[] = [];
  const deactivations: PlannedStop[] = [];
  const deregistering: Record<string, DeferredStop> = {};
  let requeue: number | undefined;
  for (const [id, d] of Object.entries(prior)) {
    const v = byId.get(id);
    if (!v || v.stopped) continue;
    for (const r of registered(v)) add(deregister, r.arn, r.target);
    if (d.stopAt <= state.now || v.lost || v.orphaned) out.push({ taskId: id, reason: d.reason });
    else {
      deregistering[id] = d;
      requeue = Math.min(requeue ?? Infinity, d.stopAt - state.now);
    }
  }
  for (const s of stops) {
    const v = byId.get(s.taskId);
    const targets = v ? registered(v) : [];
    for (const r of targets) add(deregister, r.arn, r.target);
    const drainMs = Math.max(0, ...targets.map((r) => r.drainMs));
    if (!v || drainMs === 0 || v.lost || v.orphaned || !v.running) out.push(s);
    else {
      deregistering[s.taskId] = { reason: s.reason, stopAt: state.now + drainMs };
      deactivations.push(s);
      requeue = Math.min(requeue ?? Infinity, drainMs);
    }
  }
  for (const v of views) {
    if (deregistering[v.id] || out.some((s) => s.taskId === v.id) || prior[v.id]) continue;
    if (v.live && v.running) {
      for (const { arn, group, target } of runningTargets.get(v.id) ?? []) {
        if (!group.targets.some((t) => t.id === target.id && t.port === target.port && t.state !== 'draining')) add(register, arn, target);
      }
    } else if (v.record.task.lastStatus === 'DEACTIVATING' && !v.lost && !v.orphaned) {
      // Stopped by StopTask while registered: deregistered, and held until its targets drained, as a planned stop.
      const targets = registered(v);
      for (const r of targets) add(deregister, r.arn, r.target);
      const drainMs = Math.max(0, ...targets.map((r) => r.drainMs));
      const reason = v.record.task.stoppedReason ?? 'Task stopped by user';
      if (drainMs === 0) out.push({ taskId: v.id, reason });
      else {
        deregistering[v.id] = { reason, stopAt: state.now + drainMs };
        requeue = Math.min(requeue ?? Infinity, drainMs);
      }
    } else if (v.stopped || v.stopping) {
      // Stopped on its own or by someone else (StopTask): its targets go, with nothing left to wait for — unless a
      // running task of the service now has the same target (its host port reused on the same instance): a target
      // is an instance and a port, and deregistering it would take the new task out, then register it again, each pass.
      for (const r of registered(v)) if (!claimedByRunning(r.arn, r.target, v.id)) add(deregister, r.arn, r.target);
    }
  }
  const change = (m: Map<string, { id: string; port: number }[]>) => [...m].map(([targetGroupArn, targets]) => ({ targetGroupArn, targets }));
  return {
    stops: out,
    deactivations,
    registrations: change(register),
    deregistrations: change(deregister),
    deregistering,
    ...(requeue !== undefined ? { requeueAfterMs: Math.max(0, requeue) } : {}),
  };
}

/** ECS's events for what the shell registered and deregistered (counted from what the store actually changed). */
export function targetEvents(service: string, registered: readonly [string, number][], deregistered: readonly [string, number][]): NewEvent[] {
  return [
    ...deregistered.filter(([, n]) => n > 0).map(([arn, n]) => happened(serviceMessages.deregisteredTargets(service, n, arn))),
    ...registered.filter(([, n]) => n > 0).map(([arn, n]) => happened(serviceMessages.registeredTargets(service, n, arn))),
  ];
}
