import { randomUUID } from 'node:crypto';
import type { Tx } from '../store/transact.js';
import { parseScalingActivityRecord, type NotScaledReason, type ScalingActivityRecord } from '../state/records/autoscaling.js';
import { scalingKeys } from '../state/scaling-keys.js';
import { ECS_DESIRED_COUNT } from './env.js';

/** Records a finished scaling activity in `tx`, beside the change it made. */
export function recordActivity(
  tx: Tx,
  resourceId: string,
  now: number,
  what: { description: string; cause: string; statusMessage?: string; statusCode?: ScalingActivityRecord['StatusCode']; notScaled?: readonly NotScaledReason[] },
): ScalingActivityRecord {
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
    ...(what.statusMessage !== undefined ? { StatusMessage: what.statusMessage } : {}),
    ...(what.notScaled ? { NotScaledReasons: what.notScaled } : {}),
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

/**
 * A not scaled activity, in AWS's words ("Scaling activities for Application Auto Scaling", "Including not scaled
 * activities"): an alarm invoked the policy and the capacity is held at a bound — Description "Attempting to scale
 * due to alarm triggered", StatusCode Failed, NotScaledReasons AlreadyAtMaxCapacity (with MaxCapacity) or
 * AlreadyAtMinCapacity (with MinCapacity). Listed only with IncludeNotScaledActivities. An alarm staying in ALARM
 * invokes its policy every period: a run of identical not scaled activities is recorded once (the newest activity
 * of the resource already says so), so the record shows when the bound started to hold, not every period after.
 */
export async function notScaledActivity(tx: Tx, resourceId: string, now: number, cause: string, reason: NotScaledReason): Promise<ScalingActivityRecord | undefined> {
  const newest = (await tx.range(scalingKeys.activitiesOf('ecs', ECS_DESIRED_COUNT, resourceId), { limit: 1 })).entries[0];
  if (newest) {
    const last = parseScalingActivityRecord(newest.value, newest.key);
    if (last.Cause === cause && last.NotScaledReasons?.[0]?.Code === reason.Code) return undefined;
  }
  return recordActivity(tx, resourceId, now, { description: 'Attempting to scale due to alarm triggered', cause, statusCode: 'Failed', notScaled: [reason] });
}
