import type { TaskSet } from '@aws-sdk/client-ecs';
import { happened, serviceMessages, type NewEvent } from '../../model/service/events.js';
import { computedDesiredCount, stabilityOf, type TaskSetCounts } from '../../model/service/task-sets.js';
import type { Wire } from '../../model/wire.js';
import type { ServiceRecord } from '../../state/records/services.js';
import { launchBackoffMs, tallyFailures } from './deployments.js';
import { chooseStops, strategiesOf } from './placement.js';
import { launchKindOf, planLaunches, tasksByProvider } from './launch-plan.js';
import { graceRequeue, mayStop, protectionHold, Stops, unplaceable } from './plan.js';
import { UNPLACED_RETRY_MS } from './replica.js';
import { viewTasks, type PlannedStop, type ProviderLaunchPlan, type ServicePlan, type ServiceState } from './state.js';

/**
 * One pass over a service whose deployments are task sets (the EXTERNAL and CODE_DEPLOY controllers), pure.
 *
 * The deployment tool decides how many tasks each set runs (its scale); berth keeps each set at that count:
 * - a set's target is computedDesiredCount (service desiredCount × scale %, rounded up; 0 when DRAINING or
 *   the service is draining);
 * - its tasks on lost or deregistered instances, and those past their grace period UNHEALTHY, are stopped at
 *   once (and replaced);
 * - beyond the target, tasks are stopped (not yet healthy ones first, then by the service's placement
 *   strategies), except tasks under scale-in protection;
 * - tasks on DRAINING instances are stopped once the set has its target of healthy tasks elsewhere;
 * - below the target, tasks are started: one set's launches per pass (placement sees one set's choices at
 *   a time; the next pass, ≥ 100 ms later, starts the next set's), with the rolling controller's back-off
 *   after failures in a row.
 * There are no rolling bounds across sets: which set serves traffic is the deployment tool's business.
 * A DRAINING set whose tasks have all stopped is removed from the service.
 */
export function reconcileTaskSets(state: ServiceState): ServicePlan {
  const { record, now } = state;
  const name = record.serviceName!;
  const active = record.status === 'ACTIVE';
  const desired = active ? (record.desiredCount ?? 0) : 0;
  const views = viewTasks(state);
  const sets = record.taskSets ?? [];

  // Failed launches in a row back launches off, as for rolling deployments; a healthy task started after
  // the last failure (in any set) ends the run.
  const pseudo = { ...record, deployments: sets.map((s) => ({ id: s.id!, status: 'ACTIVE', failedTasks: 0 })) };
  const tally = tallyFailures(pseudo, views, (t) => state.taskDefinitions.get(t.task.taskDefinitionArn ?? '')?.healthChecked ?? false);
  let failures = tally.launchFailures;
  if (failures && views.some((v) => v.healthy && (v.record.task.startedAt ?? 0) * 1000 > failures!.lastAt)) failures = undefined;
  const backoff = failures ? launchBackoffMs(failures.consecutive) : 0;
  const backoffUntil = failures && backoff > 0 ? failures.lastAt + backoff : 0;
  const throttled = now < backoffUntil;

  const stops: PlannedStop[] = [];
  const events: NewEvent[] = [];
  const requeues: (number | undefined)[] = [graceRequeue(views, now), throttled ? backoffUntil - now : undefined];
  let launches: readonly string[] = [];
  let providerLaunches: readonly ProviderLaunchPlan[] = [];
  let launchSetId: string | undefined;
  const nextSets: Wire<TaskSet>[] = [];
  let steadyAll = active && sets.length > 0;

  for (const set of sets) {
    const id = set.id!;
    const target = active ? computedDesiredCount(desired, set.scale, set.status) : 0;
    const mine = views.filter((v) => v.deploymentId === id);
    const setStops = new Stops(id);
    for (const v of mine) if ((v.lost && !v.stopped && !v.stopping) || v.orphaned || v.failedHealthChecks) setStops.add(v);
    const live = mine.filter((v) => v.live && !setStops.has(v));
    const placed = live.filter((v) => !v.leaving);
    const leaving = live.filter((v) => v.leaving);

    // Beyond the target: tasks not yet healthy first, then healthy ones by the strategies; protected ones stay.
    const excess = Math.max(0, placed.length - target);
    const starting = placed.filter((v) => !v.healthy && mayStop(v)).slice(0, excess);
    for (const v of starting) setStops.add(v);
    const healthyOpen = placed.filter((v) => v.healthy && mayStop(v));
    for (const v of chooseStops(state.instances, healthyOpen, excess - starting.length, strategiesOf(record), state.seed)) setStops.add(v);
    // Tasks on DRAINING instances go once the set has its healthy target elsewhere.
    const healthyPlaced = placed.filter((v) => v.healthy && !setStops.has(v)).length;
    if (healthyPlaced >= target) for (const v of leaving) if (mayStop(v)) setStops.add(v);

    const kept = placed.filter((v) => !setStops.has(v));
    const heldBack = [...kept.filter((v) => v.protectedUntil !== undefined).slice(0, Math.max(0, kept.length - target))];
    if (healthyPlaced >= target) heldBack.push(...leaving.filter((v) => !setStops.has(v)));
    const hold = protectionHold(name, heldBack, now);
    events.push(...setStops.events(name), ...hold.events);
    requeues.push(hold.requeueAfterMs);
    stops.push(...setStops.list);

    const facts = state.taskDefinitions.get(set.taskDefinition ?? '');
    const wanted = Math.min(target - kept.length, state.settings.maxLaunchesPerPass);
    if (wanted > 0 && active && set.status !== 'DRAINING' && !throttled && facts && launchSetId === undefined) {
      // The set's own launch type or strategy, else the service's.
      const own = set.launchType || set.capacityProviderStrategy?.length ? set : record;
      const planned = planLaunches(state, record, facts, launchKindOf(own), wanted, tasksByProvider(kept));
      if (planned.launches.length > 0 || planned.providerLaunches.length > 0) {
        launches = planned.launches;
        providerLaunches = planned.providerLaunches;
        launchSetId = id;
      }
      if (planned.failure !== undefined) {
        events.push(unplaceable(name, planned.failure));
        requeues.push(UNPLACED_RETRY_MS);
      }
    } else if (wanted > 0 && launchSetId !== undefined) {
      requeues.push(0);
    }

    const occupying = mine.filter((v) => v.occupies && !setStops.has(v));
    const counted = mine.filter((v) => !v.lost);
    const counts: TaskSetCounts = {
      computed: target,
      running: counted.filter((v) => v.running).length,
      pending: counted.filter((v) => v.pending).length,
      occupying: occupying.length + (launchSetId === id ? launches.length + providerLaunches.reduce((n, l) => n + l.instanceIds.length + l.waiting, 0) : 0),
      onLeavingInstance: occupying.some((v) => v.leaving),
      allHealthy: counted.filter((v) => v.running && !v.stopping).every((v) => v.healthy),
    };
    // Drained: nothing of the set holds a place any more, so the set goes.
    if (set.status === 'DRAINING' && !mine.some((v) => v.occupies)) continue;
    const stability = stabilityOf(counts);
    if (stability !== 'STEADY_STATE' || set.status === 'DRAINING') steadyAll = false;
    const changed =
      set.computedDesiredCount !== target || set.runningCount !== counts.running || set.pendingCount !== counts.pending || set.stabilityStatus !== stability;
    nextSets.push(
      changed
        ? {
            ...set,
            computedDesiredCount: target,
            runningCount: counts.running,
            pendingCount: counts.pending,
            stabilityStatus: stability,
            ...(set.stabilityStatus !== stability ? { stabilityStatusAt: now / 1000 } : {}),
            updatedAt: now / 1000,
          }
        : set,
    );
  }

  const idle = launches.length === 0 && providerLaunches.length === 0 && stops.length === 0;
  const inactive = record.status === 'DRAINING' && idle && !views.some((v) => v.occupies);
  const steady = steadyAll && idle && !throttled;
  if (steady && !record.berth.steady) events.push(happened(serviceMessages.steadyState(name)));
  const primary = nextSets.find((s) => s.status === 'PRIMARY');
  const next: ServiceRecord = {
    ...record,
    status: inactive ? 'INACTIVE' : record.status,
    desiredCount: desired,
    runningCount: nextSets.reduce((n, s) => n + (s.runningCount ?? 0), 0),
    pendingCount: nextSets.reduce((n, s) => n + (s.pendingCount ?? 0), 0),
    ...(primary?.taskDefinition ? { taskDefinition: primary.taskDefinition } : {}),
    taskSets: nextSets,
    berth: {
      ...record.berth,
      steady,
      progress: Object.fromEntries(Object.entries(tally.progress).filter(([id]) => nextSets.some((s) => s.id === id))),
      launchFailures: failures,
      ...(inactive ? { inactiveAt: now } : {}),
    },
  };
  if (!failures) delete (next.berth as { launchFailures?: unknown }).launchFailures;
  const defined = requeues.filter((x): x is number => x !== undefined);
  return {
    launches,
    ...(providerLaunches.length > 0 ? { providerLaunches } : {}),
    ...(launchSetId ? { launchDeploymentId: launchSetId } : {}),
    stops,
    record: next,
    events,
    reliesOn: [],
    ...(defined.length ? { requeueAfterMs: Math.max(0, Math.min(...defined)) } : {}),
    forget: false,
  };
}
