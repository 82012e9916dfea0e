import { healthBounds } from '../../model/service/service.js';
import { launchKindOf, planLaunches, tasksByProvider } from './launch-plan.js';
import type { ProviderLaunchPlan } from './state.js';
import { graceRequeue, mayStop, protectionHold, reliance, Stops, stopWithinBudget, unplaceable, type PlanContext, type Planned } from './plan.js';

/** Look again this soon when tasks could not be placed (capacity may have come back). */
export const UNPLACED_RETRY_MS = 5_000;

/**
 * The REPLICA service's pass, Kubernetes' rolling-update arithmetic with ECS's bounds:
 *
 * - keep: the PRIMARY deployment's live tasks on ACTIVE instances that have not failed their health checks;
 *   everything else live is old (older deployments, DRAINING instances, unhealthy past the grace period).
 * - start up to desired − keep, but never beyond the ceiling: tasks that have not stopped (stopping ones
 *   included) ≤ floor(desired × maximumPercent / 100).
 * - stop old tasks that are not healthy (pending, unhealthy) at once, and tasks on lost instances; stop healthy
 *   old tasks, then keep tasks beyond desired, only as far as the floor allows: healthy tasks left ≥
 *   ceil(desired × minimumHealthyPercent / 100). A FAILED PRIMARY deployment stalls: no old healthy task goes.
 */
export function planReplica(ctx: PlanContext, desired: number): Planned {
  const { views, primary, state } = ctx;
  const { floor, ceiling } = healthBounds(desired, ctx.limits);
  const stops = new Stops(primary?.id ?? '');
  const keep = views.filter((v) => v.live && primary !== undefined && v.deploymentId === primary.id && !v.leaving && !v.failedHealthChecks);
  const old = views.filter((v) => v.live && !keep.includes(v));

  for (const v of views) if ((v.lost && !v.stopped && !v.stopping) || v.orphaned) stops.add(v);
  for (const v of old) if (!v.healthy && mayStop(v)) stops.add(v);
  // Keep tasks beyond desired: the ones not yet healthy go first, at no cost to the floor.
  const excess = Math.max(0, keep.length - desired);
  const pendingKeep = keep.filter((v) => !v.healthy);
  const freeExcess = stopWithinBudget(ctx, stops, pendingKeep, excess, Infinity);

  let budget = Math.max(0, views.filter((v) => v.healthy).length - floor);
  const primaryFailed = primary?.rolloutState === 'FAILED';
  budget -= stopWithinBudget(ctx, stops, old.filter((v) => v.healthy), old.length, primaryFailed || ctx.holdOld ? 0 : budget);
  stopWithinBudget(ctx, stops, keep.filter((v) => v.healthy), excess - freeExcess, budget);

  // Protected tasks the plan would otherwise stop: old ones, and kept ones beyond desired.
  const keptLeft = keep.filter((v) => !stops.has(v));
  const protectedKept = keptLeft.filter((v) => v.protectedUntil !== undefined);
  const heldBack = [
    ...old.filter((v) => !stops.has(v) && v.protectedUntil !== undefined),
    ...protectedKept.slice(0, Math.max(0, keptLeft.length - desired)),
  ];
  const hold = protectionHold(ctx.name, heldBack, state.now);
  const events = [...stops.events(ctx.name), ...hold.events];
  const occupying = views.filter((v) => v.occupies).length;
  let requeueAfterMs = minDefined(graceRequeue(views, state.now), hold.requeueAfterMs);
  const launches: string[] = [];
  const providerLaunches: ProviderLaunchPlan[] = [];
  const wanted = ctx.canLaunch ? Math.min(desired - keep.length, ceiling - occupying, state.settings.maxLaunchesPerPass) : 0;
  if (wanted > 0 && ctx.primaryFacts) {
    // The PRIMARY deployment's launch: EC2 instances, the Fargate pool, or host groups' providers — whose tasks
    // that find no room wait for it (state/capacity-waits.ts), never an unplaced event.
    // (The deployment's own launch; the service's for a deployment recorded with the EC2 default only.)
    const own = primary && (primary.capacityProviderStrategy?.length || primary.launchType === 'FARGATE') ? primary : state.record;
    const launch = launchKindOf(own);
    const planned = planLaunches(state, state.record, ctx.primaryFacts, launch, wanted, tasksByProvider(keep));
    launches.push(...planned.launches);
    providerLaunches.push(...planned.providerLaunches);
    if (planned.failure !== undefined) {
      events.push(unplaceable(ctx.name, planned.failure));
      requeueAfterMs = Math.min(requeueAfterMs ?? Infinity, UNPLACED_RETRY_MS);
    }
  }
  return {
    desired,
    launches,
    ...(providerLaunches.length > 0 ? { providerLaunches } : {}),
    stops: stops.list,
    events,
    reliesOn: reliance(views, stops),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
    keep: keptLeft,
  };
}

const minDefined = (...xs: (number | undefined)[]): number | undefined => {
  const defined = xs.filter((x): x is number => x !== undefined);
  return defined.length ? Math.min(...defined) : undefined;
};
