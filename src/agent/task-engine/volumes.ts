import type { Volume } from '@aws-sdk/client-ecs';
import type { AcsContainer, AcsTask } from '../../model/acs.js';
import type { Mount } from '../../runtime/runtime.js';

/**
 * Where a task's volumes live on the host. Kinds, as ECS defines them:
 *
 *   host.sourcePath                        that host directory, bind-mounted (created when missing)
 *   no configuration, or docker scope task an empty directory of the task's, removed with it
 *   docker scope shared                    a named directory kept on the instance across tasks
 *                                          (made on first use only with autoprovision)
 */
export interface VolumeStore {
  /**
   * The host directory behind `volume` for `taskId`, made as its kind requires; a task volume in
   * `options.taskVolumesDir` when given (a Fargate task's ephemeral storage); `taskArn` names the task to the
   * control plane (an EFS mount is authorized for the task's role).
   */
  resolve(taskId: string, volume: Volume, options?: { readonly taskVolumesDir?: string; readonly taskArn?: string }): Promise<string>;
  /** Remove the task's own volumes (not host paths, not shared volumes). */
  removeTaskVolumes(taskId: string): Promise<void>;
}

/** Why a volume cannot be used; becomes the task's CannotCreateContainerError. */
export class VolumeError extends Error {
  override readonly name = 'VolumeError';
}

/**
 * The bind mounts of one container, pure: its mountPoints onto the task's resolved volumes, then the
 * mounts of every container it takes volumesFrom (read-only when either says so).
 */
export function containerMounts(
  container: AcsContainer,
  task: AcsTask,
  resolved: ReadonlyMap<string, string>,
  seen: ReadonlySet<string> = new Set(),
): Mount[] {
  const own = (container.mountPoints ?? []).map((mp): Mount => {
    const source = resolved.get(mp.sourceVolume!);
    if (!source) throw new VolumeError(`mount point '${mp.containerPath}' names volume '${mp.sourceVolume}', which the task does not define`);
    return { destination: mp.containerPath!, source, type: 'bind', readOnly: mp.readOnly ?? false };
  });
  const inherited = (container.volumesFrom ?? []).flatMap((vf) => {
    const source = task.containers.find((c) => c.name === vf.sourceContainer);
    if (!source || seen.has(source.name!)) return [];
    return containerMounts(source, task, resolved, new Set([...seen, container.name!])).map((m) => ({ ...m, readOnly: m.readOnly || (vf.readOnly ?? false) }));
  });
  // A container's own mount point wins over an inherited one at the same path.
  const paths = new Set(own.map((m) => m.destination));
  return [...own, ...inherited.filter((m) => !paths.has(m.destination))];
}

/** Names of the task's volumes that `container` uses, directly or through volumesFrom. */
export function volumesUsed(container: AcsContainer, task: AcsTask, seen: ReadonlySet<string> = new Set()): Set<string> {
  const names = new Set((container.mountPoints ?? []).map((mp) => mp.sourceVolume!));
  for (const vf of container.volumesFrom ?? []) {
    const source = task.containers.find((c) => c.name === vf.sourceContainer);
    if (source && !seen.has(source.name!)) for (const n of volumesUsed(source, task, new Set([...seen, container.name!]))) names.add(n);
  }
  return names;
}
