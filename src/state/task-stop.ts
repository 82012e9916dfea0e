import type { Task } from '@aws-sdk/client-ecs';
import { subtractNeeds } from '../model/container-instance.js';
import type { StopCode } from '../model/task.js';
import { withEniDeleted } from '../model/task-eni.js';
import type { Wire } from '../model/wire.js';
import { keys } from './keys.js';
import type { InstanceRecord } from './records/instances.js';
import type { TaskRecord } from './records/tasks.js';
import type { TaskWriteContext } from './task-launch.js';
import type { Tx } from '../store/transact.js';
import { parseInstanceRecord } from '../state/records/instances.js';

/**
 * Stopping tasks and giving their resources back, shared by StopTask and agent reports
 * (`api/ecs/task-state.ts`) and the service controller.
 */

/** Give a stopped task's resources back to its instance (and mark its awsvpc interface DELETED), in the caller's transaction. */
export async function releaseInTx(tx: Tx, record: TaskRecord): Promise<TaskRecord> {
  record = { ...record, task: withEniDeleted(record.task) };
  if (record.released || !record.instanceId) return { ...record, released: true };
  const key = keys.containerInstance(record.cluster, record.instanceId);
  const instance = await tx.getRecord(parseInstanceRecord, key);
  if (instance) tx.putJson(key, { ...instance, reserved: subtractNeeds(instance.reserved, record.needs) } satisfies InstanceRecord);
  return { ...record, released: true };
}

/** Write a task record in the caller's transaction and return its ECS shape. */
export function saveTaskInTx(tx: Tx, record: TaskRecord): Wire<Task> {
  tx.putJson(keys.task(record.cluster, record.id), record);
  return record.task;
}

/**
 * Ask for a task to stop (StopTask, a service scaling in). The agent does the stopping and reports back;
 * a task whose instance is gone or deregistered is stopped here and now — also one asked to stop earlier
 * whose instance went away before its agent could report (no agent ever will). A task already stopped, or
 * already stopping on an instance that is still there, is left as it is.
 */
export async function stopTaskInTx(
  ctx: TaskWriteContext,
  tx: Tx,
  record: TaskRecord,
  why: { reason: string; stopCode: StopCode },
): Promise<Wire<Task>> {
  const t = record.task;
  if (t.lastStatus === 'STOPPED') return t;
  const instance = record.instanceId ? await tx.getRecord(parseInstanceRecord, keys.containerInstance(record.cluster, record.instanceId)) : undefined;
  const orphaned = !instance || instance.instance.status === 'INACTIVE';
  if (t.desiredStatus === 'STOPPED' && !orphaned) return t;
  const now = ctx.now() / 1000;
  let next: TaskRecord =
    t.desiredStatus === 'STOPPED'
      ? record
      : {
          ...record,
          task: { ...t, desiredStatus: 'STOPPED', stoppedReason: why.reason, stopCode: why.stopCode, stoppingAt: now, version: (t.version ?? 0) + 1 },
        };
  if (orphaned) {
    next = await releaseInTx(tx, {
      ...next,
      task: {
        ...next.task,
        lastStatus: 'STOPPED',
        stoppedAt: now,
        executionStoppedAt: now,
        containers: next.task.containers?.map((c) => ({ ...c, lastStatus: 'STOPPED' })),
        version: (next.task.version ?? 0) + (next === record ? 1 : 0),
      },
    });
  }
  return saveTaskInTx(tx, next);
}
