import type { Deployment } from '@aws-sdk/client-ecs';
import { happened, serviceMessages, type NewEvent } from '../../model/service/events.js';
import { ELB_UNHEALTHY, circuitBreakerThreshold, rolloutReasons, stopReasons, type DeploymentLimits } from '../../model/service/service.js';
import type { Wire } from '../../model/wire.js';
import type { DeploymentProgress, ServiceRecord } from '../../state/records/services.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import type { TaskView } from './state.js';

/**
 * A task that stops on its own (its essential container exited, or it never started) within this long of
 * reaching RUNNING has failed to start, as far as the circuit breaker is concerned: a container that exits at
 * once may be reported RUNNING for a moment first.
 */
export const FAILED_START_WINDOW_MS = 10_000;

/** Launches are throttled after this many failed tasks in a row (circuit breaker or not). */
export const THROTTLE_AFTER_FAILURES = 10;

type Deployments = Wire<Deployment>[];

/**
 * Whether a stopped task counts as failed for its deployment: it failed its health checks, or it stopped on its
 * own before it was established — never RUNNING, RUNNING for less than {@link FAILED_START_WINDOW_MS}, or (with
 * health checks) never HEALTHY. Tasks the scheduler or a user stopped are not failures.
 */
export function failedToStart(task: TaskRecord, healthChecked: boolean): boolean {
  const t = task.task;
  if (t.lastStatus !== 'STOPPED') return false;
  if (t.stoppedReason === stopReasons.unhealthy() || t.stoppedReason?.startsWith(ELB_UNHEALTHY)) return true;
  if (t.stopCode !== 'TaskFailedToStart' && t.stopCode !== 'EssentialContainerExited') return false;
  if (t.startedAt === undefined) return true;
  if (healthChecked && t.healthStatus !== 'HEALTHY') return true;
  const stoppedAt = t.executionStoppedAt ?? t.stoppedAt ?? t.startedAt;
  return (stoppedAt - t.startedAt) * 1000 < FAILED_START_WINDOW_MS;
}

/** How long launches wait after the last failure once failures come in a row; 0 when they need not. */
export function launchBackoffMs(consecutiveFailures: number): number {
  if (consecutiveFailures < THROTTLE_AFTER_FAILURES) return 0;
  return Math.min(300_000, 10_000 * 2 ** Math.floor(consecutiveFailures / THROTTLE_AFTER_FAILURES - 1));
}

export interface FailureTally {
  readonly deployments: Deployments;
  readonly progress: Record<string, DeploymentProgress>;
  readonly launchFailures: { consecutive: number; lastAt: number } | undefined;
}

/**
 * Count each failed task once into its deployment's failedTasks (remembering the ids counted while their
 * records last), and keep the run of consecutive failures: it ends when a task of the PRIMARY deployment is
 * healthy having started after the last failure.
 */
export function tallyFailures(record: ServiceRecord, views: readonly TaskView[], healthChecked: (t: TaskRecord) => boolean): FailureTally {
  const present = new Set(views.map((v) => v.id));
  const progress: Record<string, DeploymentProgress> = {};
  let failures = record.berth.launchFailures ? { ...record.berth.launchFailures } : undefined;
  const deployments = (record.deployments ?? []).map((d) => {
    const counted = new Set((record.berth.progress?.[d.id!]?.countedFailures ?? []).filter((id) => present.has(id)));
    let fresh = 0;
    for (const v of views) {
      if (v.deploymentId !== d.id || counted.has(v.id) || !failedToStart(v.record, healthChecked(v.record))) continue;
      counted.add(v.id);
      fresh++;
      const at = (v.record.task.stoppedAt ?? 0) * 1000;
      failures = { consecutive: (failures?.consecutive ?? 0) + 1, lastAt: Math.max(failures?.lastAt ?? 0, at) };
    }
    progress[d.id!] = { countedFailures: [...counted] };
    return fresh > 0 ? { ...d, failedTasks: (d.failedTasks ?? 0) + fresh } : d;
  });
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (failures && primary) {
    const lastAt = failures.lastAt;
    const recovered = views.some((v) => v.deploymentId === primary.id && v.healthy && (v.record.task.startedAt ?? 0) * 1000 > lastAt);
    if (recovered) failures = undefined;
  }
  return { deployments, progress, launchFailures: failures };
}

export interface BreakerOutcome {
  readonly deployments: Deployments;
  readonly taskDefinition: string;
  readonly lastCompleted: Wire<Deployment> | undefined;
  readonly events: NewEvent[];
}

/**
 * The deployment circuit breaker: an IN_PROGRESS PRIMARY deployment whose failed tasks reached the threshold
 * becomes FAILED. With rollback, the last COMPLETED deployment becomes PRIMARY again (IN_PROGRESS; no longer
 * a rollback target until it completes) and the failed one ACTIVE, to be drained; without a COMPLETED
 * deployment to go back to, or without rollback, the service stalls (a FAILED deployment starts no tasks).
 */
export function applyCircuitBreaker(
  service: { name: string; desiredCount: number; taskDefinition: string },
  deployments: Deployments,
  limits: DeploymentLimits,
  lastCompleted: Wire<Deployment> | undefined,
  nowMs: number,
): BreakerOutcome {
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  const unchanged = { deployments, taskDefinition: service.taskDefinition, lastCompleted, events: [] };
  if (!limits.circuitBreaker.enable || !primary || primary.rolloutState !== 'IN_PROGRESS') return unchanged;
  if ((primary.failedTasks ?? 0) < circuitBreakerThreshold(service.desiredCount)) return unchanged;
  const now = nowMs / 1000;
  const failed: Wire<Deployment> = { ...primary, rolloutState: 'FAILED', rolloutStateReason: rolloutReasons.failed(), updatedAt: now };
  const events = [happened(serviceMessages.deploymentFailed(service.name, primary.id!))];
  const target = limits.circuitBreaker.rollback && lastCompleted && lastCompleted.id !== primary.id ? lastCompleted : undefined;
  if (!target) {
    return { ...unchanged, deployments: deployments.map((d) => (d === primary ? failed : d)), events };
  }
  const restored: Wire<Deployment> = {
    ...(deployments.find((d) => d.id === target.id) ?? { ...target, pendingCount: 0, runningCount: 0 }),
    status: 'PRIMARY',
    desiredCount: service.desiredCount,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: rolloutReasons.rollingBack(target.id!),
    updatedAt: now,
  };
  const rest = deployments.filter((d) => d !== primary && d.id !== target.id);
  events.push(happened(serviceMessages.rollingBack(service.name, target.id!)));
  return {
    deployments: [restored, { ...failed, status: 'ACTIVE' }, ...rest],
    taskDefinition: target.taskDefinition!,
    lastCompleted: undefined,
    events,
  };
}
