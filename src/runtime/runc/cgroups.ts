/**
 * The host's cgroup hierarchies, as runc's cgroupfs manager uses them: a container with cgroupsPath
 * `/berth/<id>` has a directory `<mount>/berth/<id>` in every v1 hierarchy (cpu, memory, pids, …,
 * name=systemd) and, on a hybrid host, in the cgroup2 one too.
 */
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerStats, TaskCgroup } from '../runtime.js';
import { ensureTaskCgroup, removeTaskCgroupIfEmpty } from './task-cgroup.js';
import { readCgroupDetails } from './cgroup-stats.js';
import { decodeMountPath } from '../../files/mountinfo.js';

/** One mounted cgroup hierarchy. */
export interface CgroupMount {
  readonly mountPoint: string;
  readonly version: 1 | 2;
  /** v1: the controllers (and `name=…`) the hierarchy holds; v2: empty. */
  readonly controllers: readonly string[];
}


/** The cgroup mounts listed in /proc/self/mountinfo text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4];
    const [fstype, , superOptions = ''] = right.split(' ');
    if (!mountPoint) continue;
    if (fstype === 'cgroup2') mounts.push({ mountPoint: decodeMountPath(mountPoint), version: 2, controllers: [] });
    else if (fstype === 'cgroup') {
      const known = superOptions.split(',').filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'xattr', 'clone_children'].includes(o));
      mounts.push({ mountPoint: decodeMountPath(mountPoint), version: 1, controllers: known });
    }
  }
  return mounts;
}

const UNLIMITED_V1 = 2 ** 62;

async function readNumber(path: string): Promise<number | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return text === 'max' ? Number.POSITIVE_INFINITY : Number(text);
  } catch {
    return undefined;
  }
}

/** The cgroup hierarchies of this host and what berth reads from or removes in them. */
export class HostCgroups {
  private constructor(readonly mounts: readonly CgroupMount[]) {}

  static async discover(): Promise<HostCgroups> {
    return new HostCgroups(parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8')));
  }

  /** The directory of `cgroupsPath` in every hierarchy. */
  paths(cgroupsPath: string): string[] {
    return this.mounts.map((m) => join(m.mountPoint, cgroupsPath));
  }

  /** The directory of `cgroupsPath` in the v1 hierarchy holding `controller`, else in the v2 one. */
  private path(controller: string, cgroupsPath: string): { dir: string; version: 1 | 2 } | undefined {
    const v1 = this.mounts.find((m) => m.version === 1 && m.controllers.includes(controller));
    if (v1) return { dir: join(v1.mountPoint, cgroupsPath), version: 1 };
    const v2 = this.mounts.find((m) => m.version === 2);
    return v2 ? { dir: join(v2.mountPoint, cgroupsPath), version: 2 } : undefined;
  }

  /**
   * The hierarchies a service manager tracks processes in: cgroup2, and v1 named ones (name=systemd).
   * Holding a process there outside the agent's own cgroup keeps `systemctl restart` (KillMode=control-group)
   * from killing it with the agent; no resource controller lives there, so nothing needs setting up.
   */
  private trackingMounts(): CgroupMount[] {
    return this.mounts.filter((m) => m.version === 2 || m.controllers.some((c) => c.startsWith('name=')));
  }

  /** Move process `pid` into `cgroupsPath` in the tracking hierarchies, creating it where it is missing. */
  async adopt(cgroupsPath: string, pid: number): Promise<void> {
    await Promise.all(
      this.trackingMounts().map(async (m) => {
        const dir = join(m.mountPoint, cgroupsPath);
        try {
          await writeFile(join(dir, 'cgroup.procs'), String(pid));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          await mkdir(dir, { recursive: true });
          await writeFile(join(dir, 'cgroup.procs'), String(pid));
        }
      }),
    );
  }

  /** Make a task-level cgroup with its limits (task-cgroup.ts). */
  async ensureTaskCgroup(path: string, group: TaskCgroup): Promise<void> {
    await ensureTaskCgroup(this.mounts, path, group, await this.swapAccounting());
  }

  /** Remove a task-level cgroup once none of its containers' cgroups is left. */
  removeTaskCgroupIfEmpty(path: string): Promise<void> {
    return removeTaskCgroupIfEmpty(this.mounts, path);
  }

  /** Whether memory cgroups account swap (memory.memsw.* exists), so a swap limit can be set. */
  async swapAccounting(): Promise<boolean> {
    const memory = this.mounts.find((m) => m.version === 1 && m.controllers.includes('memory'));
    if (!memory) return false;
    return (await readNumber(join(memory.mountPoint, 'memory.memsw.limit_in_bytes'))) !== undefined;
  }

  /** Whether the kernel's OOM killer has killed a process of the cgroup (v1 memory.oom_control, v2 memory.events). */
  async oomKilled(cgroupsPath: string): Promise<boolean> {
    const memory = this.path('memory', cgroupsPath);
    if (!memory) return false;
    const file = memory.version === 1 ? 'memory.oom_control' : 'memory.events';
    try {
      const text = await readFile(join(memory.dir, file), 'utf8');
      const count = /^oom_kill (\d+)$/m.exec(text)?.[1];
      return count !== undefined && Number(count) > 0;
    } catch {
      return false;
    }
  }

  /** CPU and memory use, or undefined when the cgroup is gone. */
  async stats(cgroupsPath: string): Promise<ContainerStats | undefined> {
    const cpu = this.path('cpuacct', cgroupsPath);
    const memory = this.path('memory', cgroupsPath);
    if (!cpu || !memory) return undefined;
    let cpuUsageNanos: number | undefined;
    if (cpu.version === 1) cpuUsageNanos = await readNumber(join(cpu.dir, 'cpuacct.usage'));
    else {
      const stat = await readFile(join(cpu.dir, 'cpu.stat'), 'utf8').catch(() => undefined);
      const usec = stat && /^usage_usec (\d+)$/m.exec(stat)?.[1];
      cpuUsageNanos = usec ? Number(usec) * 1000 : undefined;
    }
    const [usage, limit] =
      memory.version === 1
        ? await Promise.all([readNumber(join(memory.dir, 'memory.usage_in_bytes')), readNumber(join(memory.dir, 'memory.limit_in_bytes'))])
        : await Promise.all([readNumber(join(memory.dir, 'memory.current')), readNumber(join(memory.dir, 'memory.max'))]);
    if (cpuUsageNanos === undefined || usage === undefined) return undefined;
    const v1 = (controller: string) => (cpu.version === 1 ? this.path(controller, cgroupsPath)?.dir : undefined);
    const details = await readCgroupDetails(
      cpu.version === 1
        ? { version: 1, cpu: v1('cpu'), cpuacct: cpu.dir, memory: memory.dir, pids: v1('pids'), blkio: v1('blkio') }
        : { version: 2, memory: memory.dir },
    );
    return {
      ...details,
      cpuUsageNanos,
      memoryUsageBytes: usage,
      ...(limit !== undefined && limit < UNLIMITED_V1 ? { memoryLimitBytes: limit } : {}),
      readAt: Date.now(),
    };
  }

  /**
   * Remove `cgroupsPath` (and anything below it) from every hierarchy. A cgroup whose last processes are
   * still exiting is busy for a moment: retried until `deadline` (epoch ms). Missing ones are fine.
   */
  async remove(cgroupsPath: string, deadline: number): Promise<void> {
    await Promise.all(this.paths(cgroupsPath).map((dir) => removeTree(dir, deadline)));
  }
}

async function removeTree(dir: string, deadline: number): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const e of entries) if (e.isDirectory()) await removeTree(join(dir, e.name), deadline);
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
