import type { Container, NetworkBinding, SubmitTaskStateChangeRequest, Task } from '@aws-sdk/client-ecs';
import type { TaskAttachmentChange } from '../model/acs.js';
import { isContainerForward, isForward } from '../model/task.js';
import { withEniAttached } from '../model/task-eni.js';
import type { Wire } from '../model/wire.js';
import type { TaskRecord } from './records/tasks.js';
import { releaseInTx, saveTaskInTx } from './task-stop.js';
import type { Tx } from '../store/transact.js';
import type { TaskWriteContext } from './task-launch.js';

export interface ContainerChange {
  readonly containerName?: string;
  readonly runtimeId?: string;
  readonly status?: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly networkBindings?: NetworkBinding[];
  readonly imageDigest?: string;
}

/** Apply a container's reported state, forward-only. */
function applyContainer(c: Wire<Container>, change: ContainerChange): Wire<Container> {
  if (change.status && !isContainerForward(c.lastStatus ?? 'PENDING', change.status)) return c;
  return {
    ...c,
    ...(change.status ? { lastStatus: change.status } : {}),
    ...(change.runtimeId ? { runtimeId: change.runtimeId } : {}),
    ...(change.exitCode !== undefined ? { exitCode: change.exitCode } : {}),
    ...(change.reason ? { reason: change.reason } : {}),
    ...(change.networkBindings ? { networkBindings: change.networkBindings } : {}),
    ...(change.imageDigest ? { imageDigest: change.imageDigest } : {}),
  };
}

/**
 * Apply what an agent reports about a task (SubmitTaskStateChange) or one container
 * (SubmitContainerStateChange). Statuses only move forward; a report that would move one back is
 * ignored for that field. When the task reaches STOPPED its resources go back to the instance.
 */
export async function applyStateChange(
  ctx: Pick<TaskWriteContext, 'now'>,
  tx: Tx,
  record: TaskRecord,
  change: Omit<Wire<SubmitTaskStateChangeRequest>, 'containers'> & { containers?: readonly ContainerChange[] },
): Promise<Wire<Task>> {
  const t = record.task;
  const now = ctx.now() / 1000;
  const status = change.status && isForward(t.lastStatus ?? 'PROVISIONING', change.status) ? change.status : t.lastStatus!;
  const containers = (t.containers ?? []).map((c) => {
    const reported = change.containers?.find((x) => x.containerName === c.name);
    return reported ? applyContainer(c, reported) : c;
  });
  const stopping = status === 'STOPPED' || status === 'STOPPING' || status === 'DEACTIVATING' || status === 'DEPROVISIONING';
  const wasRunning = t.lastStatus === 'RUNNING' || t.startedAt !== undefined;
  let next: TaskRecord = {
    ...record,
    task: {
      ...t,
      lastStatus: status,
      containers,
      version: (t.version ?? 0) + 1,
      ...(change.pullStartedAt !== undefined && t.pullStartedAt === undefined ? { pullStartedAt: change.pullStartedAt } : {}),
      ...(change.pullStoppedAt !== undefined ? { pullStoppedAt: change.pullStoppedAt } : {}),
      ...(change.executionStoppedAt !== undefined ? { executionStoppedAt: change.executionStoppedAt } : {}),
      ...(status === 'RUNNING' && t.startedAt === undefined ? { startedAt: now } : {}),
      ...(stopping && t.desiredStatus !== 'STOPPED'
        ? {
            desiredStatus: 'STOPPED',
            stoppingAt: t.stoppingAt ?? now,
            stoppedReason: t.stoppedReason ?? change.reason ?? 'Task stopped',
            stopCode: t.stopCode ?? (wasRunning ? 'EssentialContainerExited' : 'TaskFailedToStart'),
          }
        : {}),
      ...(status === 'STOPPED' ? { stoppedAt: t.stoppedAt ?? now, executionStoppedAt: change.executionStoppedAt ?? t.executionStoppedAt ?? now } : {}),
    },
  };
  if (status === 'STOPPED') next = await releaseInTx(tx, next);
  return saveTaskInTx(tx, next, ctx.now());
}

/**
 * Record the health the agent reports for a task's containers, and the task's health derived from them as
 * ECS derives it: HEALTHY when every essential container is HEALTHY, UNHEALTHY when one is UNHEALTHY,
 * UNKNOWN otherwise (an essential container without a health check stays UNKNOWN).
 */
export async function applyHealthChange(
  tx: Tx,
  record: TaskRecord,
  reported: readonly { readonly containerName: string; readonly healthStatus: string }[],
  essential: (containerName: string) => boolean,
  nowMs: number,
): Promise<void> {
  if (record.task.lastStatus === 'STOPPED') return;
  const containers = (record.task.containers ?? []).map((c) => {
    const r = reported.find((x) => x.containerName === c.name);
    return r ? { ...c, healthStatus: r.healthStatus as 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN' } : c;
  });
  const essentials = containers.filter((c) => essential(c.name!));
  const healthStatus = essentials.some((c) => c.healthStatus === 'UNHEALTHY')
    ? 'UNHEALTHY'
    : essentials.length > 0 && essentials.every((c) => c.healthStatus === 'HEALTHY')
      ? 'HEALTHY'
      : 'UNKNOWN';
  if (JSON.stringify(containers) === JSON.stringify(record.task.containers) && healthStatus === record.task.healthStatus) return;
  saveTaskInTx(tx, { ...record, task: { ...record.task, containers, healthStatus, version: (record.task.version ?? 0) + 1 } }, nowMs);
}

/** Record the address an agent gave an awsvpc task (its interface is ATTACHED). */
export function applyAttachmentChange(tx: Tx, record: TaskRecord, change: TaskAttachmentChange, nowMs: number): void {
  const task = withEniAttached(record.task, change);
  if (task === record.task) return;
  saveTaskInTx(tx, { ...record, task: { ...task, version: (task.version ?? 0) + 1 } }, nowMs);
}
