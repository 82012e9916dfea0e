import { addNeeds, capacityOf, remainingCapacity, shortfall } from '../model/container-instance.js';
import type { Tx } from '../store/transact.js';
import { capacityProviderKeys } from './capacity-provider-keys.js';
import { keys } from './keys.js';
import { parseInstanceRecord, type InstanceRecord } from './records/instances.js';
import { parseTaskRecord, type TaskRecord } from './records/tasks.js';
import type { TaskWriteContext } from './task-launch.js';
import { saveTaskInTx, stopTaskInTx } from './task-stop.js';

/**
 * Tasks waiting for capacity: a task of a capacity provider of an Auto Scaling group that found no room on its
 * group's instances is recorded PROVISIONING with no instance (`waiting` set, an index key under
 * capacityProviderKeys.waitingTasks), and the leader's pass (controllers/capacity-waits.ts) places it as soon as an
 * instance of the group has room — or stops it once it has waited as long as ECS waits.
 *
 *   RunTask / service launch ──no room──▶ PROVISIONING, waiting ──room on an instance of the group──▶ PENDING (or
 *        PROVISIONING for awsvpc) on that instance, as any placed task
 *                                             │
 *                                             ├──StopTask / service scale-in──▶ STOPPED (index entry dropped by the pass)
 *                                             ├──waited CAPACITY_WAIT_MS──▶ STOPPED, stopCode TaskFailedToStart
 *                                             └──provider deleted / group gone or being deleted──▶ STOPPED at once,
 *                                                stopCode TaskFailedToStart (EMPTY CAPACITY PROVIDER)
 */

/** How long ECS leaves a task in PROVISIONING for capacity before it stops it. */
export const CAPACITY_WAIT_MS = 30 * 60_000;

export type PlaceOutcome = 'placed' | 'not-waiting' | 'no-room';

/**
 * In the caller's transaction: put the waiting task `taskId` on instance `instanceId`, re-checking that the task
 * still waits and the instance is ACTIVE with room; reserves its needs there and drops the index entry.
 */
export async function placeWaitingInTx(ctx: TaskWriteContext, tx: Tx, cluster: string, taskId: string, instanceId: string): Promise<PlaceOutcome> {
  const record = await tx.getRecord(parseTaskRecord, keys.task(cluster, taskId));
  if (!record || !isWaiting(record)) {
    tx.delete(capacityProviderKeys.waitingTask(cluster, taskId));
    return 'not-waiting';
  }
  const key = keys.containerInstance(cluster, instanceId);
  const instance = await tx.getRecord(parseInstanceRecord, key);
  if (!instance || instance.instance.status !== 'ACTIVE') return 'no-room';
  if (shortfall(remainingCapacity(capacityOf(instance.instance.registeredResources), instance.reserved), record.needs)) return 'no-room';
  tx.putJson(key, { ...instance, reserved: addNeeds(instance.reserved, record.needs) } satisfies InstanceRecord);
  saveTaskInTx(tx, placedOn(record, instance), ctx.now());
  tx.delete(capacityProviderKeys.waitingTask(cluster, taskId));
  return 'placed';
}

/** A waiting task as placed on `instance`: what newTaskRecord gives a task launched there. */
function placedOn(record: TaskRecord, instance: InstanceRecord): TaskRecord {
  const { waiting: _waiting, ...rest } = record;
  const zone = instance.instance.attributes?.find((a) => a.name === 'ecs.availability-zone')?.value;
  const awsvpc = (record.task.attachments ?? []).some((a) => a.type === 'ElasticNetworkInterface');
  return {
    ...rest,
    instanceId: instance.id,
    task: {
      ...record.task,
      containerInstanceArn: instance.instance.containerInstanceArn!,
      ...(zone ? { availabilityZone: zone } : {}),
      lastStatus: awsvpc ? 'PROVISIONING' : 'PENDING',
      version: (record.task.version ?? 0) + 1,
    },
  };
}

/** Still waiting: not asked to stop, not stopped, no instance. */
export const isWaiting = (r: TaskRecord) => r.waiting !== undefined && !r.instanceId && r.task.desiredStatus !== 'STOPPED' && r.task.lastStatus !== 'STOPPED';

/**
 * In the caller's transaction: stop a task that waited too long, as ECS does (stop code TaskFailedToStart), and drop
 * its index entry. `reason` says what placement lacked: `EMPTY CAPACITY PROVIDER` when the group had no instance.
 */
export async function giveUpWaitingInTx(ctx: TaskWriteContext, tx: Tx, cluster: string, taskId: string, reason: string): Promise<boolean> {
  tx.delete(capacityProviderKeys.waitingTask(cluster, taskId));
  const record = await tx.getRecord(parseTaskRecord, keys.task(cluster, taskId));
  if (!record || !isWaiting(record)) return false;
  await stopTaskInTx(ctx, tx, record, { reason: `TaskFailedToStart: ${reason}`, stopCode: 'TaskFailedToStart' });
  return true;
}
