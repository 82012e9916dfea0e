import type { EngineDeps } from './deps.js';
import { taskIdOf, type TaskState } from './task-state.js';

/**
 * Undoing what a task was given, in two steps as ECS does. Each step carries on past a failure (logged),
 * so one stuck part never keeps the rest.
 */

/** When the task stops: its networks (its containers' and its own) and host ports go back at once. */
export async function releaseTaskNetworks(deps: EngineDeps, task: TaskState): Promise<void> {
  const warn = (what: string) => (err: unknown) => deps.log.warn({ err, task: task.arn }, `${what} failed`);
  for (const c of task.containers) {
    if (c.networkId) {
      await deps.network.detach(c.networkId).catch(warn('network detach'));
      c.networkId = undefined;
    }
    if (c.runtimeId) deps.ports.release(c.runtimeId);
  }
  if (task.taskNetwork) {
    await deps.network.detach(task.taskNetwork.id).catch(warn('task network detach'));
    task.taskNetwork = undefined;
  }
}

/**
 * When the task stops: its ephemeral storage (agent/ephemeral-storage.ts) goes, as on Fargate, after its
 * containers' root filesystems, which write to it, are unmounted. Again at cleanup, idempotently.
 */
export async function releaseTaskStorage(deps: EngineDeps, task: TaskState): Promise<void> {
  if (!deps.taskStorage || task.spec.ephemeralStorageGiB === undefined) return;
  const warn = (what: string) => (err: unknown) => deps.log.warn({ err, task: task.arn }, `${what} failed`);
  for (const c of task.containers) if (c.runtimeId) await deps.images.unmountRootfs(c.runtimeId).catch(warn('rootfs unmount'));
  await deps.taskStorage.release(taskIdOf(task.arn)).catch(warn('ephemeral storage release'));
}

/** After the cleanup wait: the last logs, containers, root filesystems, /etc files and task-scoped volumes. */
export async function removeTaskRemains(deps: EngineDeps, task: TaskState): Promise<void> {
  const warn = (what: string) => (err: unknown) => deps.log.warn({ err, task: task.arn }, `${what} failed`);
  for (const c of task.containers) {
    if (!c.runtimeId) continue;
    await deps.logs?.finish(c.runtimeId).catch(warn('shipping the last logs'));
    await deps.runtime.delete(c.runtimeId).catch(warn('runtime delete'));
    await deps.images.removeRootfs(c.runtimeId).catch(warn('rootfs removal'));
    await deps.containerFiles.remove(c.runtimeId).catch(warn('container file removal'));
  }
  await deps.volumes.removeTaskVolumes(taskIdOf(task.arn)).catch(warn('task volume removal'));
  await releaseTaskStorage(deps, task);
}
