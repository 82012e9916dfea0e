import { subtractNeeds } from '../model/container-instance.js';
import { SPOT_INTERRUPTION_REASON, type PoolHost } from '../model/spot-interruption.js';
import type { InstanceSnapshot } from '../scheduler/index.js';
import type { Tx } from '../store/transact.js';
import { keys } from './keys.js';
import { parseInstanceRecord, type InstanceRecord } from './records/instances.js';
import { parseTaskRecord, type TaskRecord } from './records/tasks.js';
import type { TaskWriteContext } from './task-launch.js';
import { stopTaskInTx } from './task-stop.js';

/**
 * Interrupt FARGATE_SPOT tasks of one pool host, in the caller's transaction: each is asked to stop with ECS's
 * stopCode SpotInterruption and reason (its agent sends SIGTERM, then SIGKILL after the container's
 * stopTimeout, at most Fargate's 120 s: the task's warning), and its resources are given back to the host now,
 * so the on-demand task that needs them can be placed at once. The host is briefly overcommitted, by at most
 * the interrupted tasks' reservations, until they have stopped. Returns the tasks interrupted.
 */
export async function interruptSpotTasksInTx(ctx: TaskWriteContext, tx: Tx, cluster: string, instanceId: string, taskIds: readonly string[]): Promise<string[]> {
  const instanceKey = keys.containerInstance(cluster, instanceId);
  const instance = await tx.getRecord(parseInstanceRecord, instanceKey);
  if (!instance) return [];
  let reserved = instance.reserved;
  const interrupted: string[] = [];
  for (const id of taskIds) {
    const record = await tx.getRecord(parseTaskRecord, keys.task(cluster, id));
    if (!record || !isRunningSpot(record) || record.instanceId !== instanceId) continue;
    if (!record.released) reserved = subtractNeeds(reserved, record.needs);
    // Already released here: the agent's STOPPED report later gives nothing back twice (releaseInTx).
    await stopTaskInTx(ctx, tx, { ...record, released: true }, { reason: SPOT_INTERRUPTION_REASON, stopCode: 'SpotInterruption' });
    interrupted.push(id);
  }
  if (interrupted.length > 0) tx.putJson(instanceKey, { ...instance, reserved } satisfies InstanceRecord);
  return interrupted;
}

/** A FARGATE_SPOT task still meant to run. */
export function isRunningSpot(record: TaskRecord): boolean {
  return record.task.capacityProviderName === 'FARGATE_SPOT' && record.task.desiredStatus === 'RUNNING' && record.task.lastStatus !== 'STOPPED';
}

/**
 * The Fargate pool's hosts as the interruption chooser sees them: each ACTIVE host with a connected agent, what is
 * left on it and its running FARGATE_SPOT tasks (`taskOf` reads a task of the cluster, from the cache).
 */
export function poolHostsOf(pool: readonly InstanceSnapshot[], taskOf: (taskId: string) => TaskRecord | undefined): PoolHost[] {
  return pool
    .filter((s) => s.status === 'ACTIVE' && s.agentConnected)
    .map((s) => ({
      instanceId: s.id,
      remaining: s.remaining,
      spotTasks: s.tasks.flatMap((t) => {
        const r = taskOf(t.taskId);
        return r && isRunningSpot(r) ? [{ taskId: r.id, needs: r.needs }] : [];
      }),
    }));
}
