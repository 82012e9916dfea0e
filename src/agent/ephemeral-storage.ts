/**
 * A Fargate task's ephemeral storage (`ephemeralStorage.sizeInGiB`, 20 GiB by default) as a real limit: each task
 * gets a filesystem of its own of that size, an ext4 made in a sparse file under `<root>/<task id>.img` and
 * loop-mounted at `<root>/<task id>/`. The writable layers of the task's containers (their overlays' upper and
 * work directories) and its task-scoped volumes are made on it, so whatever the task writes to disk counts against
 * its size, and a write past it fails with ENOSPC inside the task (under gVisor too: the gofer writes to the host
 * file system on the task's behalf). The sparse file takes only what is written; the filesystem is made with lazy
 * inode tables, in tens of milliseconds whatever its size.
 *
 *   prepare ──▶ mounted (<root>/<id>/, loop device) ──release──▶ gone (unmounted, loop device freed, file removed)
 *
 * Released when the task has stopped (task-manager's finish), again idempotently at its cleanup, and, for
 * storage no live task holds, when the agent starts (a crash between stopping and releasing).
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from '../image/command.js';
import { isMountPoint, unmount } from '../image/overlay.js';
import { SingleFlight } from '../image/single-flight.js';

/** What the task engine needs of it (a fake in unit tests). */
export interface TaskStorage {
  /** The mounted filesystem of `taskId`, `sizeGiB` large, made if it is not there yet. Idempotent. */
  prepare(taskId: string, sizeGiB: number): Promise<string>;
  /** Unmount it, free its loop device and remove its file. Idempotent. */
  release(taskId: string): Promise<void>;
  /** The tasks holding storage (a file or a mount) on this host. */
  list(): Promise<string[]>;
}

const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The mkfs.ext4 arguments for a task's filesystem image. Pure. */
export function mkfsArgs(image: string): string[] {
  // -F: it is a file, not a block device; -m 0: nothing kept back for root, the task gets its whole size;
  // lazy inode tables and journal: made in tens of milliseconds, initialised as used; nodiscard: the file is new.
  return ['-q', '-F', '-m', '0', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', image];
}

/** Task filesystems under `root` (e.g. `<agent data dir>/ephemeral`). */
export class LoopTaskStorage implements TaskStorage {
  private readonly flights = new SingleFlight<string>();

  constructor(private readonly root: string) {}

  prepare(taskId: string, sizeGiB: number): Promise<string> {
    checkTaskId(taskId);
    if (!Number.isInteger(sizeGiB) || sizeGiB < 1) throw new Error(`ephemeral storage of ${sizeGiB} GiB: expected a whole number of GiB`);
    // The task's containers are made together: one of them makes the filesystem, the others wait for it.
    return this.flights.run(taskId, () => this.make(taskId, sizeGiB));
  }

  private async make(taskId: string, sizeGiB: number): Promise<string> {
    const { image, mountPoint } = this.paths(taskId);
    if (await isMountPoint(mountPoint)) return mountPoint;
    await mkdir(mountPoint, { recursive: true });
    try {
      // A file left by a crash before its mount is made again: it holds nothing a task wrote.
      await rm(image, { force: true });
      await runCommand('truncate', ['-s', `${sizeGiB}G`, image]);
      await runCommand('mkfs.ext4', mkfsArgs(image), { timeoutMs: 120_000 });
      // autoclear (mount's loop option sets it): the loop device is freed with the last unmount.
      await runCommand('mount', ['-t', 'ext4', '-o', 'loop,nodev,nosuid', image, mountPoint]);
      return mountPoint;
    } catch (error) {
      await this.release(taskId).catch(() => {});
      throw new Error(`cannot make the ${sizeGiB} GiB ephemeral storage of task ${taskId}: ${(error as Error).message}`, { cause: error });
    }
  }

  async release(taskId: string): Promise<void> {
    checkTaskId(taskId);
    const { image, mountPoint } = this.paths(taskId);
    // Lazily when something still has it open: the kernel frees it, and its loop device, when that lets go.
    await unmount(mountPoint);
    await rm(mountPoint, { recursive: true, force: true });
    await rm(image, { force: true });
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.root).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [] as string[];
      throw error;
    });
    return [...new Set(entries.map((e) => e.replace(/\.img$/, '')))].filter((id) => TASK_ID.test(id)).sort();
  }

  private paths(taskId: string): { image: string; mountPoint: string } {
    return { image: join(this.root, `${taskId}.img`), mountPoint: join(this.root, taskId) };
  }
}

function checkTaskId(taskId: string): void {
  if (!TASK_ID.test(taskId)) throw new Error(`invalid task id ${JSON.stringify(taskId)}`);
}
