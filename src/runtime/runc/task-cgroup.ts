/**
 * A task-level cgroup: one parent cgroup holding all of a task's containers (their cgroups `<parent>/<task>/<id>`),
 * with the task's CPU and memory as hard limits on the whole task, as Fargate holds a task to its task size. The
 * kernel enforces a parent's limits over everything below it: the containers' memory is charged to the task's
 * cgroup too (so the task's OOM kill takes a process of whichever container), and their CPU time is throttled
 * together by the task's CFS quota. Under gVisor each container is a sandbox whose Sentry, gofer and stubs
 * sit in the container's cgroup, so the task's limits cover its sandboxes as well.
 *
 * runc and runsc create the containers' cgroups below it (mkdir -p); it is made first, with its limits, and
 * removed when its last container's cgroup is gone.
 */
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CPU_PERIOD_MICROS, type TaskCgroup } from '../runtime.js';

/** A mounted cgroup hierarchy (cgroups.ts's CgroupMount, named here so that cgroups.ts can use this file). */
interface CgroupMount {
  readonly mountPoint: string;
  readonly version: 1 | 2;
  readonly controllers: readonly string[];
}

/** The files to write in the task's cgroup, by controller, in order. Pure. */
export function taskCgroupSettings(group: TaskCgroup, swapAccounting: boolean): { controller: 'cpu' | 'memory'; file: string; value: string }[] {
  const settings: { controller: 'cpu' | 'memory'; file: string; value: string }[] = [];
  if (group.memoryLimitBytes !== undefined) {
    settings.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(group.memoryLimitBytes) });
    // memory+swap held to the memory itself: a Fargate task has no swap.
    if (swapAccounting) settings.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(group.memoryLimitBytes) });
  }
  if (group.cpuQuotaMicros !== undefined) {
    settings.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_MICROS) });
    // The kernel takes at least 1 ms of quota per period.
    settings.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(Math.max(1000, Math.round(group.cpuQuotaMicros))) });
  }
  return settings;
}

/**
 * Make the task's cgroup `path` (e.g. `/berth/<task>`) in every v1 hierarchy and set its limits. Idempotent. In
 * the cpuset hierarchy every new level gets its parent's CPUs and memory nodes (a new cpuset cgroup has none,
 * and nothing could join it). cgroup v2 only (no v1 cpu/memory hierarchies) is not handled: the limits need v1.
 */
export async function ensureTaskCgroup(mounts: readonly CgroupMount[], path: string, group: TaskCgroup, swapAccounting: boolean): Promise<void> {
  const v1 = mounts.filter((m) => m.version === 1);
  for (const controller of ['cpu', 'memory'] as const) {
    if (!v1.some((m) => m.controllers.includes(controller))) throw new Error(`no cgroup v1 ${controller} hierarchy: a task-level cgroup cannot be limited`);
  }
  await Promise.all(
    v1.map(async (m) => {
      if (m.controllers.includes('cpuset')) await mkdirCpuset(m.mountPoint, path);
      else await mkdir(join(m.mountPoint, path), { recursive: true });
    }),
  );
  for (const s of taskCgroupSettings(group, swapAccounting)) {
    const mount = v1.find((m) => m.controllers.includes(s.controller))!;
    await writeFile(join(mount.mountPoint, path, s.file), s.value);
  }
}

/** mkdir -p in the cpuset hierarchy, each new level given its parent's cpus and mems. */
async function mkdirCpuset(mountPoint: string, path: string): Promise<void> {
  let dir = mountPoint;
  for (const part of path.split('/').filter(Boolean)) {
    const parent = dir;
    dir = join(dir, part);
    await mkdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const own = (await readFile(join(dir, file), 'utf8')).trim();
      // Read and written whole: cgroup files report no size, so copying them copies nothing.
      if (own === '') await writeFile(join(dir, file), await readFile(join(parent, file), 'utf8'));
    }
  }
}

/**
 * Remove the task's cgroup `path` where no container's cgroup is left below it (rmdir, never recursive: a
 * container of the task still there keeps it). Missing or still busy is fine.
 */
export async function removeTaskCgroupIfEmpty(mounts: readonly CgroupMount[], path: string): Promise<void> {
  await Promise.all(
    mounts.map((m) =>
      rmdir(join(m.mountPoint, path)).catch((error: NodeJS.ErrnoException) => {
        if (!['ENOENT', 'EBUSY', 'ENOTEMPTY'].includes(error.code ?? '')) throw error;
      }),
    ),
  );
}

/** The task cgroup a container's cgroupsPath is in, if it is below `parent/<task>/` (else undefined). Pure. */
export function taskCgroupOf(cgroupsPath: string, parent: string): string | undefined {
  const dir = dirname(cgroupsPath);
  return dir !== parent && dirname(dir) === parent ? dir : undefined;
}
