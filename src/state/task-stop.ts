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
import type { ServiceRecord } from './records/services.js';
import { usesTaskSets } from '../model/service/task-sets.js';
import { emitTaskStateChange } from './ecs-events.js';

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

/**
 * Write a task record in the caller's transaction and return its ECS shape, with its "ECS Task State Change" event
 * (state/ecs-events.ts) in the same commit. `nowMs`: the change's time.
 */
export function saveTaskInTx(tx: Tx, record: TaskRecord, nowMs: number): Wire<Task> {
  tx.putJson(keys.task(record.cluster, record.id), record);
  emitTaskStateChange(tx, record.task, nowMs);
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
  why: { reason: string; stopCode: StopCode; drained?: boolean },
): Promise<Wire<Task>> {
  const t = record.task;
  if (t.lastStatus === 'STOPPED') return t;
  const instance = record.instanceId ? await tx.getRecord(parseInstanceRecord, keys.containerInstance(record.cluster, record.instanceId)) : undefined;
  const orphaned = !instance || instance.instance.status === 'INACTIVE';
  // Its targets drained (the service controller says so): the agent is now told to stop it.
  if (t.lastStatus === 'DEACTIVATING' && why.drained && !orphaned) return saveTaskInTx(tx, { ...record, task: { ...t, lastStatus: 'STOPPING', version: (t.version ?? 0) + 1 } }, ctx.now());
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
  return saveTaskInTx(tx, next, ctx.now());
}

/**
 * Ask for a task behind load balancers to stop once its targets have drained (ECS's DEACTIVATING): desired STOPPED
 * now, with the reason and stop code, lastStatus DEACTIVATING. Its agent keeps it running meanwhile (the session
 * tells it RUNNING while the task is DEACTIVATING); `stopTaskInTx` with `drained` then makes it STOPPING. A task not
 * RUNNING or already asked to stop is left as it is.
 */
export function deactivateTaskInTx(tx: Tx, record: TaskRecord, why: { reason: string; stopCode: StopCode }, nowMs: number): Wire<Task> {
  const t = record.task;
  if (t.lastStatus !== 'RUNNING' || t.desiredStatus === 'STOPPED') return t;
  return saveTaskInTx(tx, {
    ...record,
    task: { ...t, lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', stoppedReason: why.reason, stopCode: why.stopCode, stoppingAt: nowMs / 1000, version: (t.version ?? 0) + 1 },
  }, nowMs);
}

/** The service registers tasks of deployment `deploymentId` in target groups (its older deployments keep theirs): StopTask drains them first. */
export function behindLoadBalancers(service: ServiceRecord, deploymentId: string | undefined): boolean {
  // Task sets' tasks are not registered by berth (and no controller would end their drain).
  if (usesTaskSets(service.deploymentController?.type)) return false;
  const lbs = service.berth.deploymentLoadBalancers?.[deploymentId ?? ''] ?? service.loadBalancers ?? [];
  return service.status !== 'INACTIVE' && lbs.some((lb) => lb.targetGroupArn !== undefined);
}

/**
 * What the agent is told to do with a task: its desired status, except that a DEACTIVATING task (stopping once its
 * load balancer targets drained, controllers/services/targets.ts) keeps running until it is made STOPPING.
 */
export function desiredForAgent(record: TaskRecord): 'RUNNING' | 'STOPPED' {
  return record.task.desiredStatus === 'STOPPED' && record.task.lastStatus !== 'DEACTIVATING' ? 'STOPPED' : 'RUNNING';
}
