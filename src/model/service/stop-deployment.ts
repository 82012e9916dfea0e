import type { Deployment } from '@aws-sdk/client-ecs';
import type { Wire } from '../wire.js';

export type StopType = 'ROLLBACK' | 'ABORT';

export interface StopOutcome {
  readonly deployments: Wire<Deployment>[];
  /** The task definition the service runs from now on. */
  readonly taskDefinition: string;
  readonly networkConfiguration: Wire<Deployment>['networkConfiguration'];
}

/**
 * StopServiceDeployment on the service's PRIMARY deployment, as a change to its deployments.
 *
 * - ROLLBACK: the deployment that last completed (`target`) becomes PRIMARY again, IN_PROGRESS, and the stopped
 *   one FAILED and ACTIVE, so the service controller drains it — the same shape the circuit breaker's rollback
 *   gives, so the controller needs nothing new.
 * - ABORT: the stopped deployment stays PRIMARY but FAILED: it starts no more tasks, and the service stays as it
 *   is until it is updated (as after the circuit breaker without rollback).
 */
export function stopDeployment(
  deployments: readonly Wire<Deployment>[],
  stoppedId: string,
  type: StopType,
  target: Wire<Deployment> | undefined,
  desiredCount: number,
  nowMs: number,
): StopOutcome {
  const now = nowMs / 1000;
  const stopped = deployments.find((d) => d.id === stoppedId)!;
  if (type === 'ABORT' || !target) {
    const failed = { ...stopped, rolloutState: 'FAILED' as const, rolloutStateReason: `ECS deployment ${stoppedId} stopped.`, updatedAt: now };
    return {
      deployments: deployments.map((d) => (d.id === stoppedId ? failed : d)),
      taskDefinition: stopped.taskDefinition!,
      networkConfiguration: stopped.networkConfiguration,
    };
  }
  const restored: Wire<Deployment> = {
    ...(deployments.find((d) => d.id === target.id) ?? { ...target, pendingCount: 0, runningCount: 0, failedTasks: 0 }),
    status: 'PRIMARY',
    desiredCount,
    rolloutState: 'IN_PROGRESS',
    rolloutStateReason: `ECS deployment ${stoppedId} stopped: rolling back to deploymentId ${target.id}.`,
    updatedAt: now,
  };
  const failed: Wire<Deployment> = {
    ...stopped,
    status: 'ACTIVE',
    rolloutState: 'FAILED',
    rolloutStateReason: `ECS deployment ${stoppedId} stopped: rolled back to deploymentId ${target.id}.`,
    updatedAt: now,
  };
  const rest = deployments.filter((d) => d.id !== stoppedId && d.id !== target.id);
  return { deployments: [restored, failed, ...rest], taskDefinition: target.taskDefinition!, networkConfiguration: target.networkConfiguration };
}
