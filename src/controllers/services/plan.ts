import type { Deployment } from '@aws-sdk/client-ecs';
import { condition, happened, serviceMessages, type NewEvent } from '../../model/service/events.js';
import { stopReasons, type DeploymentLimits } from '../../model/service/service.js';
import type { Wire } from '../../model/wire.js';
import type { PlacementStrategy } from '../../scheduler/index.js';
import { chooseStops } from './placement.js';
import type { PlannedStop, ProviderLaunchPlan, ServiceState, TaskDefinitionFacts, TaskView } from './state.js';

/** What the REPLICA and DAEMON planners share. */
export interface PlanContext {
  readonly state: ServiceState;
  readonly views: readonly TaskView[];
  readonly name: string;
  /** The PRIMARY deployment, after the circuit breaker had its say. */
  readonly primary: Wire<Deployment> | undefined;
  readonly primaryFacts: TaskDefinitionFacts | undefined;
  readonly limits: DeploymentLimits;
  /** The service is ACTIVE, its PRIMARY deployment has not FAILED and launches are not backing off. */
  readonly canLaunch: boolean;
  readonly strategies: readonly PlacementStrategy[];
  /** A traffic shift holds older deployments' healthy tasks until its clean-up (controllers/services/traffic-shift.ts). */
  readonly holdOld?: boolean;
}

/** What a planner decided. */
export interface Planned {
  /** The desired count the plan worked towards (for DAEMON: the instances that should run a task). */
  readonly desired: number;
  readonly launches: string[];
  /** A service with a capacity provider strategy launches by provider instead (replica.ts). */
  readonly providerLaunches?: ProviderLaunchPlan[];
  readonly stops: PlannedStop[];
  readonly events: NewEvent[];
  readonly reliesOn: string[];
  readonly requeueAfterMs?: number;
  /** Tasks of the PRIMARY deployment that stay: what completion and steadiness are judged on. */
  readonly keep: readonly TaskView[];
}

/** A plan's stops, built up with the events they warrant. */
export class Stops {
  readonly list: PlannedStop[] = [];
  private readonly chosen = new Set<string>();
  readonly healthyStopped: TaskView[] = [];
  readonly unhealthyIds: string[] = [];
  readonly elbUnhealthy: [string, string][] = [];

  constructor(private readonly primaryId: string) {}

  has(v: TaskView): boolean {
    return this.chosen.has(v.id);
  }

  /** Stop `v` with the reason its state calls for (lost instance, failed health checks, scaling). */
  add(v: TaskView): void {
    if (this.chosen.has(v.id)) return;
    this.chosen.add(v.id);
    if (v.healthy) this.healthyStopped.push(v);
    const reason = v.orphaned
      ? stopReasons.instanceGone(v.instanceId ?? '')
      : v.lost
        ? stopReasons.instanceLost(v.instanceId ?? '')
        : v.failedElbIn !== undefined
          ? stopReasons.elbUnhealthy(v.failedElbIn)
          : v.failedHealthChecks
            ? stopReasons.unhealthy()
            : stopReasons.scaling(this.primaryId);
    if (v.failedElbIn !== undefined) this.elbUnhealthy.push([v.id, v.failedElbIn]);
    else if (v.failedHealthChecks) this.unhealthyIds.push(v.id);
    this.list.push({ taskId: v.id, reason });
  }

  events(name: string): NewEvent[] {
    return [
      ...this.unhealthyIds.map((id) => happened(serviceMessages.failedHealthChecks(name, id))),
      ...this.elbUnhealthy.map(([id, tg]) => happened(serviceMessages.failedElbHealthChecks(name, id, tg))),
      ...serviceMessages.stopped(name, this.list.map((s) => s.taskId)).map(happened),
    ];
  }
}

/**
 * Stop healthy tasks as far as the floor allows: `budget` of them, `candidates` in the strategies' order.
 * Returns how many were stopped.
 */
export function stopWithinBudget(ctx: PlanContext, stops: Stops, candidates: readonly TaskView[], count: number, budget: number): number {
  const open = candidates.filter((c) => !stops.has(c) && mayStop(c));
  const n = Math.min(count, budget, open.length);
  for (const v of chooseStops(ctx.state.instances, open, n, ctx.strategies, ctx.state.seed)) stops.add(v);
  return n;
}

/**
 * Whether the scheduler may stop a task it no longer wants (scale-in, a deployment replacing it, an instance
 * draining): not while its scale-in protection holds. Tasks that failed their health checks, and tasks on lost
 * or deregistered instances, are replaced whatever their protection, as ECS does.
 */
export function mayStop(v: TaskView): boolean {
  return v.protectedUntil === undefined || v.failedHealthChecks || v.lost || v.orphaned;
}

/**
 * Scale-in that protection held back: the "unable to scale in" event (ECS's words) and when to look again
 * (the earliest protection among the tasks held back ends).
 */
export function protectionHold(name: string, heldBack: readonly TaskView[], now: number): { events: NewEvent[]; requeueAfterMs?: number } {
  if (heldBack.length === 0) return { events: [] };
  const ends = Math.min(...heldBack.map((v) => v.protectedUntil ?? now));
  return { events: [condition(serviceMessages.unableToScaleIn(name, heldBack.length))], requeueAfterMs: Math.max(0, ends - now) };
}

/** The tasks that must stay healthy for a plan that stops healthy tasks to remain within the floor. */
export function reliance(views: readonly TaskView[], stops: Stops): string[] {
  return stops.healthyStopped.length > 0 ? views.filter((v) => v.healthy).map((v) => v.id) : [];
}

/** The unable-to-place event for a placement failure. */
export const unplaceable = (name: string, message: string) => condition(serviceMessages.unableToPlace(name, message));

/** Seconds until the earliest grace period of an UNHEALTHY task ends, as a requeue delay. */
export function graceRequeue(views: readonly TaskView[], now: number): number | undefined {
  const ends = views.map((v) => v.graceEndsAt).filter((t): t is number => t !== undefined);
  return ends.length ? Math.max(0, Math.min(...ends) - now) : undefined;
}
