import type { ArnScope } from '../model/arn.js';
import { ServiceError } from '../model/errors.js';
import type { Store } from '../store/store.js';

/** What Application Auto Scaling needs. */
export interface AutoScalingEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /**
   * The period of the alarms target tracking creates (AWS: 60 s). Tests set 10 s (a high-resolution alarm) to see
   * three periods pass in half a minute; documented in docs/autoscaling.md.
   */
  readonly targetTrackingPeriodS?: number;
}

/** The one scalable dimension berth serves. */
export const ECS_DESIRED_COUNT = 'ecs:service:DesiredCount';

export const validation = (message: string) => new ServiceError('ValidationException', message);
export const objectNotFound = (message: string) => new ServiceError('ObjectNotFoundException', message);

/** `service/<cluster>/<service>` → its parts, refused as Application Auto Scaling refuses another resource. */
export function ecsServiceOf(resourceId: string): { cluster: string; service: string } {
  const m = /^service\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})$/.exec(resourceId);
  if (!m) throw validation(`Unsupported resource ID ${resourceId}: expected service/<cluster name>/<service name>.`);
  return { cluster: m[1]!, service: m[2]! };
}

/** Checks the namespace and dimension berth serves (ECS services' desired count). */
export function checkTarget(input: { ServiceNamespace: string; ScalableDimension?: string; ResourceId?: string }): void {
  if (input.ServiceNamespace !== 'ecs') throw validation(`berth scales ECS services only; service namespace ${input.ServiceNamespace} is not supported.`);
  if (input.ScalableDimension !== undefined && input.ScalableDimension !== ECS_DESIRED_COUNT) {
    throw validation(`Unsupported scalable dimension ${input.ScalableDimension} for service namespace ecs: expected ${ECS_DESIRED_COUNT}.`);
  }
  if (input.ResourceId !== undefined) ecsServiceOf(input.ResourceId);
}

export const noTarget = (resourceId: string, dimension: string) =>
  objectNotFound(`No scalable target registered for service namespace: ecs, resource ID: ${resourceId}, scalable dimension: ${dimension}`);
