/**
 * Task sets: the units an EXTERNAL (or CODE_DEPLOY) deployment controller deploys with, pure.
 *
 * A task set's status:
 *
 *   CreateTaskSet ──▶ ACTIVE ──UpdateServicePrimaryTaskSet──▶ PRIMARY ──another set made primary──▶ ACTIVE
 *   ACTIVE | PRIMARY ──DeleteTaskSet (or DeleteService)──▶ DRAINING ──its last task stopped──▶ (gone)
 *
 * Its stability: STEADY_STATE when runningCount = computedDesiredCount, nothing pending, none of its tasks on
 * a DRAINING instance and every task healthy; STABILIZING otherwise. computedDesiredCount is the service's
 * desiredCount × scale %, rounded up (a DRAINING set's is 0).
 */
import type { Scale, TaskSet } from '@aws-sdk/client-ecs';
import { ecsArn, type ArnScope } from '../arn.js';
import { invalidParameter } from '../errors.js';
import type { Wire } from '../wire.js';

export const taskSetStatuses = ['PRIMARY', 'ACTIVE', 'DRAINING'] as const;
export type TaskSetStatus = (typeof taskSetStatuses)[number];

export const stabilityStatuses = ['STEADY_STATE', 'STABILIZING'] as const;
export type StabilityStatus = (typeof stabilityStatuses)[number];

/** Deployment controllers that deploy with task sets rather than ECS's rolling deployments. */
export const usesTaskSets = (controller: string | undefined) => controller === 'EXTERNAL' || controller === 'CODE_DEPLOY';

/** ECS's default scale: the whole desired count. */
export const FULL_SCALE = { value: 100, unit: 'PERCENT' } as const;

/** `arn:aws:ecs:<region>:<account>:task-set/<cluster>/<service>/<id>` (the id keeps its `ecs-svc/` prefix). */
export const taskSetArn = (scope: ArnScope, cluster: string, service: string, id: string) => ecsArn(scope, 'task-set', `${cluster}/${service}/${id}`);

/** A request's scale, checked: a percentage from 0 to 100 (ECS's default is 100 %). */
export function scaleOf(scale: Wire<Scale> | undefined): { value: number; unit: 'PERCENT' } {
  if (!scale) return { ...FULL_SCALE };
  const value = scale.value ?? 0;
  if (!Number.isFinite(value) || value < 0 || value > 100) throw invalidParameter(`scale.value: a percentage between 0 and 100, not ${value}.`);
  if (scale.unit !== undefined && scale.unit !== 'PERCENT') throw invalidParameter(`scale.unit: only PERCENT is supported, not ${scale.unit}.`);
  return { value, unit: 'PERCENT' };
}

/** The service's desired count × the scale's percentage, rounded up (ECS: 1.2 tasks is 2). */
export function computedDesiredCount(desired: number, scale: { value?: number } | undefined, status: string | undefined): number {
  if (status === 'DRAINING') return 0;
  const percent = scale?.value ?? 100;
  // A hair below the next whole number absorbs floating-point noise (10 × 30 % is 3, never 4).
  return Math.max(0, Math.ceil((desired * percent) / 100 - 1e-9));
}

/** What stability is judged on, per task set. */
export interface TaskSetCounts {
  readonly computed: number;
  readonly running: number;
  readonly pending: number;
  /** Tasks that hold a place (not stopped), stopping ones included. */
  readonly occupying: number;
  /** Some task is on an instance that is not ACTIVE. */
  readonly onLeavingInstance: boolean;
  /** Every running task passes its health checks. */
  readonly allHealthy: boolean;
}

export function stabilityOf(c: TaskSetCounts): StabilityStatus {
  const steady = c.running === c.computed && c.pending === 0 && c.occupying === c.computed && !c.onLeavingInstance && c.allHealthy;
  return steady ? 'STEADY_STATE' : 'STABILIZING';
}

/** What a new task set is made of (checked by the caller). */
export interface NewTaskSet {
  readonly id: string;
  readonly arn: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly taskDefinition: string;
  readonly desiredCount: number;
  readonly scale: { value: number; unit: 'PERCENT' };
  readonly nowMs: number;
  readonly externalId?: string;
  readonly startedBy?: string;
  readonly launchType?: string;
  readonly capacityProviderStrategy?: readonly unknown[];
  /** Fargate sets: the platform (resolved, 1.4.0) and its family. */
  readonly platformVersion?: string;
  readonly platformFamily?: string;
  readonly networkConfiguration?: unknown;
  readonly loadBalancers?: readonly unknown[];
  readonly serviceRegistries?: readonly unknown[];
  readonly tags?: readonly { key: string; value: string }[];
}

/**
 * A task set as ECS shows it when created: ACTIVE, nothing running yet, STABILIZING unless it is to run no task.
 * Load balancers and service registries are kept as given (berth does not act on them yet); its launch type or
 * capacity-provider strategy decides where its tasks run (controllers/services/launch-plan.ts); neither: EC2.
 */
export function newTaskSet(n: NewTaskSet): Wire<TaskSet> {
  const computed = computedDesiredCount(n.desiredCount, n.scale, 'ACTIVE');
  const now = n.nowMs / 1000;
  const set = {
    id: n.id,
    taskSetArn: n.arn,
    serviceArn: n.serviceArn,
    clusterArn: n.clusterArn,
    ...(n.startedBy !== undefined ? { startedBy: n.startedBy } : {}),
    ...(n.externalId !== undefined ? { externalId: n.externalId } : {}),
    status: 'ACTIVE',
    taskDefinition: n.taskDefinition,
    computedDesiredCount: computed,
    pendingCount: 0,
    runningCount: 0,
    createdAt: now,
    updatedAt: now,
    ...(n.capacityProviderStrategy?.length ? { capacityProviderStrategy: n.capacityProviderStrategy } : { launchType: n.launchType ?? 'EC2' }),
    ...(n.platformVersion !== undefined ? { platformVersion: n.platformVersion, platformFamily: n.platformFamily ?? 'Linux' } : {}),
    ...(n.networkConfiguration !== undefined ? { networkConfiguration: n.networkConfiguration } : {}),
    loadBalancers: n.loadBalancers ?? [],
    serviceRegistries: n.serviceRegistries ?? [],
    scale: n.scale,
    stabilityStatus: computed === 0 ? 'STEADY_STATE' : 'STABILIZING',
    stabilityStatusAt: now,
    tags: n.tags ?? [],
  };
  return set as Wire<TaskSet>;
}

/** The service's task sets with computedDesiredCount brought up to a new desired count (the controller does the rest). */
export function rescaled(sets: readonly Wire<TaskSet>[] | undefined, desired: number, nowMs: number): Wire<TaskSet>[] {
  return (sets ?? []).map((s) => {
    const computed = computedDesiredCount(desired, s.scale, s.status);
    return computed === s.computedDesiredCount ? s : { ...s, computedDesiredCount: computed, updatedAt: nowMs / 1000 };
  });
}
