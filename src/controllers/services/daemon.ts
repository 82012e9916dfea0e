import { healthBounds } from '../../model/service/service.js';
import { place, type InstanceSnapshot } from '../../scheduler/index.js';
import { meetsConstraints, requestFor } from './placement.js';
import { graceRequeue, mayStop, reliance, Stops, stopWithinBudget, unplaceable, type PlanContext, type Planned } from './plan.js';
import { UNPLACED_RETRY_MS } from './replica.js';
import { isLost, type TaskView } from './state.js';

/**
 * The DAEMON service's pass: exactly one task on each ACTIVE instance that meets the service's constraints
 * (placement strategies do not apply). The desired count is the number of such instances that are not lost.
 *
 * - keep: one live task of the PRIMARY deployment per such instance (a healthy one if there are several);
 * - stop at once: tasks on instances that no longer qualify (DRAINING, constraints no longer met), duplicates,
 *   old tasks that are not healthy, tasks on lost instances; healthy old tasks only as far as the floor allows
 *   (minimumHealthyPercent defaults to 0 for DAEMON);
 * - start a task on each qualifying instance with a connected agent that holds none of the service's tasks
 *   (stopping ones included: maximumPercent is 100).
 */
export function planDaemon(ctx: PlanContext): Planned {
  const { views, primary, state } = ctx;
  const service = state.record;
  const facts = ctx.primaryFacts;
  const active = service.status === 'ACTIVE';
  const eligible = active && facts
    ? state.instances.filter((i) => i.status === 'ACTIVE' && !isLost(state, i) && meetsConstraints(i, service, facts, state.seed))
    : [];
  const eligibleIds = new Set(eligible.map((i) => i.id));
  const desired = eligible.length;
  const { floor } = healthBounds(desired, ctx.limits);
  const stops = new Stops(primary?.id ?? '');

  const keep: TaskView[] = [];
  const kept = new Set<string>();
  const primaryLive = views.filter((v) => v.live && primary !== undefined && v.deploymentId === primary.id && !v.failedHealthChecks);
  // Healthy ones first, so that a duplicate that is still starting is the one to go.
  for (const v of [...primaryLive.filter((x) => x.healthy), ...primaryLive.filter((x) => !x.healthy)]) {
    if (v.instanceId && eligibleIds.has(v.instanceId) && !kept.has(v.instanceId)) {
      kept.add(v.instanceId);
      keep.push(v);
    }
  }
  const old = views.filter((v) => v.live && !keep.includes(v));
  for (const v of views) if ((v.lost && !v.stopped && !v.stopping) || v.orphaned) stops.add(v);
  for (const v of old) {
    const duplicate = v.instanceId !== undefined && kept.has(v.instanceId) && v.deploymentId === primary?.id;
    if ((!v.healthy || !v.instanceId || !eligibleIds.has(v.instanceId) || duplicate) && mayStop(v)) stops.add(v);
  }
  const budget = Math.max(0, views.filter((v) => v.healthy).length - stops.healthyStopped.length - floor);
  const primaryFailed = primary?.rolloutState === 'FAILED';
  stopWithinBudget(ctx, stops, old.filter((v) => v.healthy), old.length, primaryFailed ? 0 : budget);

  const events = stops.events(ctx.name);
  let requeueAfterMs = graceRequeue(views, state.now);
  const occupied = new Set(views.filter((v) => v.occupies).map((v) => v.instanceId));
  const launches: string[] = [];
  if (ctx.canLaunch && facts) {
    const open = eligible.filter((i) => !occupied.has(i.id) && i.agentConnected).slice(0, state.settings.maxLaunchesPerPass);
    for (const instance of open) {
      const result = place([instance] as InstanceSnapshot[], requestFor(service, facts, 1), state.seed);
      if (result.placements.length === 1) launches.push(instance.id);
      else if (result.failures[0]) {
        events.push(unplaceable(ctx.name, result.failures[0].message));
        requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, UNPLACED_RETRY_MS);
      }
    }
  }
  return {
    desired,
    launches,
    stops: stops.list,
    events,
    reliesOn: reliance(views, stops),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    keep: keep.filter((v) => !stops.has(v)),
  };
}
