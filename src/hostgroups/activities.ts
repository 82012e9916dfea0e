import { randomBytes } from 'node:crypto';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { isTerminating, parseScalingActivity, type ActivityStatus, type HostGroupRecord, type HostInstanceRecord, type ScalingActivityRecord } from '../state/records/host-groups.js';
import type { Tx } from '../store/transact.js';

/**
 * Scaling activities: what a group did and why, as DescribeScalingActivities shows them. Each launch and each
 * termination is one, started in the transaction that decides it and finished in the one that sees it done.
 */

/** A UUIDv7: its first 48 bits are `ms`, so ids (and the keys holding them) sort by start time. */
export function activityId(ms: number): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(ms, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `2026-12-06T21:00:00Z`, as Auto Scaling writes times in causes. */
export const causeTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function startActivity(
  tx: Tx,
  group: Pick<HostGroupRecord, 'name' | 'arn'>,
  now: number,
  fields: { description: string; cause: string; instanceId?: string; statusCode?: ActivityStatus; statusMessage?: string },
): ScalingActivityRecord {
  const done = fields.statusCode !== undefined && fields.statusCode !== 'InProgress';
  const record: ScalingActivityRecord = {
    id: activityId(now),
    groupName: group.name,
    groupArn: group.arn,
    description: fields.description,
    cause: fields.cause,
    startTime: now,
    statusCode: fields.statusCode ?? 'InProgress',
    progress: done ? 100 : 0,
    ...(done ? { endTime: now } : {}),
    ...(fields.statusMessage !== undefined ? { statusMessage: fields.statusMessage } : {}),
    ...(fields.instanceId !== undefined ? { instanceId: fields.instanceId } : {}),
  };
  tx.putJson(hostGroupKeys.activity(group.name, record.id), record);
  return record;
}

/** Finish an activity (if it is still recorded and in progress). */
export async function finishActivity(tx: Tx, groupName: string, id: string, now: number, statusCode: ActivityStatus, statusMessage?: string): Promise<void> {
  const key = hostGroupKeys.activity(groupName, id);
  const activity = await tx.getRecord(parseScalingActivity, key);
  if (!activity || activity.statusCode !== 'InProgress') return;
  tx.putJson(key, {
    ...activity,
    statusCode,
    endTime: now,
    progress: 100,
    ...(statusMessage !== undefined ? { statusMessage } : {}),
  } satisfies ScalingActivityRecord);
}

/** The activity as the API's `Activity` shows it (times in epoch seconds). */
export function activityShape(a: ScalingActivityRecord): object {
  return {
    ActivityId: a.id,
    AutoScalingGroupName: a.groupName,
    AutoScalingGroupARN: a.groupArn,
    Description: a.description,
    Cause: a.cause,
    StartTime: a.startTime / 1000,
    ...(a.endTime !== undefined ? { EndTime: a.endTime / 1000 } : {}),
    StatusCode: a.statusCode,
    ...(a.statusMessage !== undefined ? { StatusMessage: a.statusMessage } : {}),
    Progress: a.progress,
    Details: a.instanceId !== undefined ? JSON.stringify({ InstanceId: a.instanceId }) : '{}',
  };
}

/**
 * The instance taken out of service: a launch still in progress ends (`Cancelled`, or `Failed` with `failure`), and
 * the termination's own activity starts. An InService instance of a group with a termination hook waits in
 * Terminating:Wait (unless `skipHook`: a forced delete, which also lets a waiting one go); otherwise the controller
 * calls the provisioner for it afterwards.
 */
export async function beginTermination(
  tx: Tx,
  group: Pick<HostGroupRecord, 'name' | 'arn' | 'terminationHook'>,
  instance: HostInstanceRecord,
  now: number,
  cause: string,
  failure?: string,
  skipHook = false,
): Promise<HostInstanceRecord> {
  if (instance.lifecycleState === 'Terminating:Wait' && skipHook) return continueTermination(instance);
  if (isTerminating(instance.lifecycleState)) return instance;
  if (instance.lifecycleState === 'Pending') await finishActivity(tx, group.name, instance.activityId, now, failure !== undefined ? 'Failed' : 'Cancelled', failure);
  const activity = startActivity(tx, group, now, { description: `Terminating EC2 instance: ${instance.instanceId}`, cause, instanceId: instance.instanceId });
  const wait = group.terminationHook !== undefined && instance.lifecycleState === 'InService' && !skipHook && failure === undefined;
  return {
    ...instance,
    lifecycleState: wait ? 'Terminating:Wait' : 'Terminating',
    activityId: activity.id,
    ...(wait ? { waitingSince: now } : {}),
    ...(failure !== undefined ? { healthStatus: 'Unhealthy' as const } : {}),
  };
}

/** The termination hook's wait is over (CompleteLifecycleAction CONTINUE, or its timeout): the instance is terminated. */
export function continueTermination(instance: HostInstanceRecord): HostInstanceRecord {
  if (instance.lifecycleState !== 'Terminating:Wait') return instance;
  const { waitingSince: _, ...rest } = instance;
  return { ...rest, lifecycleState: 'Terminating' };
}
