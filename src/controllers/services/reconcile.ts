import type { Deployment } from '@aws-sdk/client-ecs';
import { condition, happened, serviceMessages, type NewEvent } from '../../model/service/events.js';
import { limitsOf, rolloutReasons, type SchedulingStrategy } from '../../model/service/service.js';
import type { Wire } from '../../model/wire.js';
import type { ServiceRecord } from '../../state/records/services.js';
import { planDaemon } from './daemon.js';
import { applyCircuitBreaker, launchBackoffMs, tallyFailures } from './deployments.js';
import type { Planned, PlanContext } from './plan.js';
import { strategiesOf } from './placement.js';
import { planReplica } from './replica.js';
import { reconcileTaskSets } from './task-sets.js';
import { planRegistries } from './registries.js';
import { planTargets } from './targets.js';
import { allTargetGroupArns } from './target-of.js';
import { planShift, swapRoles, type ShiftPlan } from './traffic-shift.js';
import { isShifting } from '../../model/service/shift-config.js';
import { usesTaskSets } from '../../model/service/task-sets.js';
import { isLost, viewTasks, type ServicePlan, type ServiceState, type TaskView } from './state.js';

/** An INACTIVE service stays describable this long, then its record is forgotten. */
export const INACTIVE_RETENTION_MS = 60 * 60_000;

/**
 * One pass over one service, pure: from everything the pass read (the service, its tasks, the cluster's
 * instances, the task definitions, the time) to what to start and stop and the service record to write.
 *
 * In order: count failed tasks into their deployments; let the circuit breaker fail (and maybe roll back) the
 * PRIMARY deployment; plan starts and stops (REPLICA: rolling arithmetic between floor and ceiling; DAEMON: one
 * task per qualifying instance); then bring the deployments' counts up to date, drop drained deployments,
 * complete the PRIMARY one when it is all that runs and is healthy, and say when the service is steady.
 */
export function reconcileService(state: ServiceState): ServicePlan {
  const { record, now } = state;
  const s = record;
  const name = record.serviceName!;
  if (s.status === 'INACTIVE') {
    const since = record.berth.inactiveAt ?? now;
    const left = since + INACTIVE_RETENTION_MS - now;
    return { launches: [], stops: [], record, events: [], reliesOn: [], forget: left <= 0, ...(left > 0 ? { requeueAfterMs: left } : {}) };
  }
  if (usesTaskSets(s.deploymentController?.type)) return reconcileTaskSets(state);
  const strategy = (s.schedulingStrategy ?? 'REPLICA') as SchedulingStrategy;
  // Load balancers with alternate groups (or a shift, or swapped roles) need the shift step even under ROLLING:
  // it says which group is production and keeps the rules forwarding there.
  const shifting =
    isShifting(s.deploymentConfiguration?.strategy) ||
    record.berth.shift !== undefined ||
    record.berth.productionTargetGroups !== undefined ||
    (s.loadBalancers ?? []).some((lb) => lb.advancedConfiguration?.alternateTargetGroupArn);
  // A traffic shift runs the new revision at full size beside the old one, whatever maximumPercent says.
  const baseLimits = limitsOf(strategy, s.deploymentConfiguration);
  const limits = isShifting(s.deploymentConfiguration?.strategy) ? { ...baseLimits, maximumPercent: Math.max(200, baseLimits.maximumPercent) } : baseLimits;
  const views = viewTasks(state);
  const factsOf = (arn: string | undefined) => state.taskDefinitions.get(arn ?? '');
  const tally = tallyFailures(record, views, (t) => factsOf(t.task.taskDefinitionArn)?.healthChecked ?? false);
  const active = s.status === 'ACTIVE';
  const desired = active ? (s.desiredCount ?? 0) : 0;
  const breaker = applyCircuitBreaker({ name, desiredCount: desired, taskDefinition: s.taskDefinition! }, tally.deployments, limits, record.berth.lastCompleted, now);
  const primary = breaker.deployments.find((d) => d.status === 'PRIMARY');
  const shift: ShiftPlan | undefined = shifting
    ? planShift({ ...record, deployments: breaker.deployments }, views, desired, now)
    : undefined;

  const backoff = tally.launchFailures ? launchBackoffMs(tally.launchFailures.consecutive) : 0;
  const backoffUntil = backoff > 0 && tally.launchFailures ? tally.launchFailures.lastAt + backoff : 0;
  const throttled = now < backoffUntil;
  const ctx: PlanContext = {
    state,
    views,
    name,
    primary,
    primaryFacts: factsOf(primary?.taskDefinition),
    limits,
    canLaunch: active && primary !== undefined && primary.rolloutState !== 'FAILED' && !throttled,
    strategies: strategiesOf(s),
    ...(shift?.holdOld ? { holdOld: true } : {}),
  };
  const planned = strategy === 'DAEMON' ? planDaemon(ctx) : planReplica(ctx, desired);

  const events: NewEvent[] = [...breaker.events, ...planned.events];
  if (throttled && planned.desired > planned.keep.length) events.push(condition(serviceMessages.unableToStartConsistently(name)));
  const settled = settle(breaker.deployments, planned, views, now);
  if (settled.completed) events.push(happened(serviceMessages.deploymentCompleted(name, settled.completed.id!)));

  const idle = planned.launches.length === 0 && !planned.providerLaunches?.length && planned.stops.length === 0;
  const drained = !views.some((v) => v.occupies);
  const steady =
    active && idle && !throttled && settled.deployments.length === 1 && settled.deployments[0]!.rolloutState === 'COMPLETED' && settled.allHealthy;
  if (steady && !record.berth.steady) events.push(happened(serviceMessages.steadyState(name)));
  const inactive = s.status === 'DRAINING' && idle && drained;

  let next: ServiceRecord = {
    ...s,
    status: inactive ? 'INACTIVE' : s.status,
    desiredCount: strategy === 'DAEMON' ? planned.desired : desired,
    runningCount: settled.running,
    pendingCount: settled.pending,
    taskDefinition: breaker.taskDefinition,
    deployments: settled.deployments,
    berth: {
      cluster: record.berth.cluster,
      ...(record.berth.clientToken !== undefined ? { clientToken: record.berth.clientToken } : {}),
      steady,
      progress: Object.fromEntries(Object.entries(tally.progress).filter(([id]) => settled.deployments.some((d) => d.id === id))),
      ...(settled.completed ? { lastCompleted: settled.completed } : breaker.lastCompleted ? { lastCompleted: breaker.lastCompleted } : {}),
      ...(tally.launchFailures ? { launchFailures: tally.launchFailures } : {}),
      ...(inactive ? { inactiveAt: now } : {}),
      ...(record.berth.productionTargetGroups ? { productionTargetGroups: record.berth.productionTargetGroups } : {}),
    },
  };
  if (shift) {
    const done = settled.completed && shift.shift?.deploymentId === settled.completed.id;
    next = {
      ...next,
      berth: {
        ...next.berth,
        ...(shift.shift && !done ? { shift: shift.shift } : {}),
        ...(done ? { productionTargetGroups: swapRoles(s, shift.deploymentLoadBalancers, settled.completed!.id!) } : {}),
      },
    };
  }
  // Behind load balancers: register RUNNING tasks, and stop a registered task only once its targets drained.
  // (A traffic shift says which groups each deployment's tasks go to.)
  const lbState = shift ? { ...state, record: { ...s, berth: { ...s.berth, deploymentLoadBalancers: shift.deploymentLoadBalancers } } } : state;
  // A DEACTIVATING task is released here even when the service has no target group left (nothing to drain).
  const deactivating = views.some((v) => v.record.task.lastStatus === 'DEACTIVATING');
  const targets = allTargetGroupArns(lbState.record).length > 0 || deactivating ? planTargets(lbState, views, planned.stops) : undefined;
  if (targets) {
    // "has stopped" is said of the tasks actually asked to stop now (a deregistered one once it has drained).
    const stopped = serviceMessages.stopped(name, planned.stops.map((x) => x.taskId));
    const kept = events.filter((e) => !stopped.includes(e.message));
    // A task stopped by StopTask (held while it drained) is not the scheduler's stop.
    const userStopped = new Set(views.filter((v) => v.record.task.stopCode === 'UserInitiated').map((v) => v.id));
    const ours = targets.stops.filter((x) => !userStopped.has(x.taskId)).map((x) => x.taskId);
    events.splice(0, events.length, ...kept, ...serviceMessages.stopped(name, ours).map(happened));
    // Older deployments' load balancers are kept while the deployment is.
    const lbsKept = Object.entries(lbState.record.berth.deploymentLoadBalancers ?? {}).filter(([id]) => settled.deployments.some((d) => d.id === id));
    next = {
      ...next,
      berth: {
        ...next.berth,
        ...(Object.keys(targets.deregistering).length > 0 ? { deregistering: targets.deregistering } : {}),
        ...(lbsKept.length > 0 ? { deploymentLoadBalancers: Object.fromEntries(lbsKept) } : {}),
      },
    };
  }
  // Service discovery: RUNNING (and healthy) tasks in their Cloud Map services; a task leaves as it starts stopping.
  const leaving = new Set([...(targets?.stops ?? planned.stops).map((x) => x.taskId), ...Object.keys(targets?.deregistering ?? {})]);
  const registryChanges = state.registries && state.registries.size > 0 ? planRegistries(state, views, leaving) : [];
  const former = (record.berth.formerRegistries ?? []).filter((arn) => state.registries?.has(arn) && !(s.serviceRegistries ?? []).some((r) => r.registryArn === arn));
  // A former registry is forgotten once nothing of the service is left in it (after this pass's deregistrations).
  const formerLeft = former.filter((arn) => registryChanges.some((c) => c.registryArn === arn));
  if (formerLeft.length > 0) next = { ...next, berth: { ...next.berth, formerRegistries: formerLeft } };
  const requeue = [
    planned.requeueAfterMs,
    targets?.requeueAfterMs,
    shift?.requeueAfterMs,
    throttled ? backoffUntil - now : undefined,
    lostRequeue(state),
    inactive ? INACTIVE_RETENTION_MS : undefined,
  ];
  const requeueAfterMs = Math.min(...requeue.filter((x): x is number => x !== undefined));
  return {
    launches: planned.launches,
    ...(planned.providerLaunches ? { providerLaunches: planned.providerLaunches } : {}),
    ...(primary?.id ? { launchDeploymentId: primary.id } : {}),
    stops: targets?.stops ?? planned.stops,
    ...(targets ? { registrations: targets.registrations, deregistrations: targets.deregistrations, deactivations: targets.deactivations } : {}),
    ...(registryChanges.length > 0 ? { registryChanges } : {}),
    ...(shift && shift.forwards.length > 0 ? { forwards: shift.forwards } : {}),
    record: next,
    events,
    reliesOn: planned.reliesOn,
    ...(Number.isFinite(requeueAfterMs) ? { requeueAfterMs: Math.max(0, requeueAfterMs) } : {}),
    forget: false,
  };
}

interface Settled {
  readonly deployments: Wire<Deployment>[];
  readonly running: number;
  readonly pending: number;
  /** The PRIMARY deployment reached COMPLETED in this pass. */
  readonly completed?: Wire<Deployment>;
  /** The PRIMARY deployment's kept tasks are all there and healthy, and nothing else runs. */
  readonly allHealthy: boolean;
}

/**
 * Deployments brought up to date: running and pending counts from the tasks (tasks on lost instances do not
 * count), an older deployment's desired count is what it still runs, deployments with nothing left are dropped
 * (INACTIVE), and an IN_PROGRESS PRIMARY deployment that is all that runs, at its desired count and healthy,
 * is COMPLETED.
 */
function settle(deployments: readonly Wire<Deployment>[], planned: Planned, views: readonly TaskView[], nowMs: number): Settled {
  const stopping = new Set(planned.stops.map((s) => s.taskId));
  const of = (d: Wire<Deployment>) => views.filter((v) => v.deploymentId === d.id && !v.lost);
  let running = 0;
  let pending = 0;
  const kept: Wire<Deployment>[] = [];
  for (const d of deployments) {
    const mine = of(d);
    const counts = {
      runningCount: mine.filter((v) => v.running).length,
      pendingCount: mine.filter((v) => v.pending).length,
      desiredCount: d.status === 'PRIMARY' ? planned.desired : mine.filter((v) => v.live && !stopping.has(v.id)).length,
    };
    // A drained older deployment goes (INACTIVE); a FAILED one stays in sight until the PRIMARY completes.
    if (d.status !== 'PRIMARY' && !mine.some((v) => v.occupies) && d.rolloutState !== 'FAILED') continue;
    running += counts.runningCount;
    pending += counts.pendingCount;
    const changed = counts.runningCount !== d.runningCount || counts.pendingCount !== d.pendingCount || counts.desiredCount !== d.desiredCount;
    kept.push(changed ? { ...d, ...counts, updatedAt: nowMs / 1000 } : d);
  }
  const idle = planned.launches.length === 0 && !planned.providerLaunches?.length && planned.stops.length === 0;
  const occupying = views.filter((v) => v.occupies).length;
  const allHealthy = planned.keep.length === planned.desired && planned.keep.every((v) => v.healthy) && occupying === planned.keep.length;
  const primary = kept.find((d) => d.status === 'PRIMARY');
  const others = kept.filter((d) => d !== primary && views.some((v) => v.deploymentId === d.id && v.occupies));
  if (idle && allHealthy && others.length === 0 && primary && primary.rolloutState === 'IN_PROGRESS') {
    const completed: Wire<Deployment> = { ...primary, rolloutState: 'COMPLETED', rolloutStateReason: rolloutReasons.completed(primary.id!), updatedAt: nowMs / 1000 };
    return { deployments: [completed], running, pending, completed, allHealthy };
  }
  return { deployments: kept, running, pending, allHealthy };
}

/** When the next disconnected instance becomes lost (its tasks are then replaced). */
function lostRequeue(state: ServiceState): number | undefined {
  let soonest: number | undefined;
  for (const i of [...state.instances, ...(state.fargatePool ?? [])]) {
    const since = state.disconnectedAt.get(i.id);
    if (i.agentConnected || since === undefined || isLost(state, i)) continue;
    const left = since + state.settings.instanceLostAfterMs - state.now;
    soonest = Math.min(soonest ?? Infinity, left);
  }
  return soonest;
}
