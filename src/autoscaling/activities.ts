import { randomUUID } from 'node:crypto';
import type { Tx } from '../store/transact.js';
import type { ScalingActivityRecord } from '../state/records/autoscaling.js';
import { scalingKeys } from '../state/scaling-keys.js';
import { ECS_DESIRED_COUNT } from './env.js';

/** Records a finished scaling activity in `tx`, beside the change it made. */
export function recordActivity(tx: Tx, resourceId: string, now: number, what: { description: string; cause: string; statusMessage: string; statusCode?: ScalingActivityRecord['StatusCode'] }): ScalingActivityRecord {
  const activity: ScalingActivityRecord = {
    ActivityId: randomUUID(),
    ServiceNamespace: 'ecs',
    ResourceId: resourceId,
    ScalableDimension: ECS_DESIRED_COUNT,
    Description: what.description,
    Cause: what.cause,
    StartTime: now,
    EndTime: now,
    StatusCode: what.statusCode ?? 'Successful',
    StatusMessage: what.statusMessage,
  };
  tx.putJson(scalingKeys.activity('ecs', ECS_DESIRED_COUNT, resourceId, now, activity.ActivityId), activity);
  return activity;
}

/** A desired-count change in AWS's words. */
export function desiredCountActivity(tx: Tx, resourceId: string, now: number, to: number, cause: string): ScalingActivityRecord {
  return recordActivity(tx, resourceId, now, {
    description: `Setting desired count to ${to}.`,
    cause,
    statusMessage: `Successfully set desired count to ${to}. Change successfully fulfilled by ecs.`,
  });
}
