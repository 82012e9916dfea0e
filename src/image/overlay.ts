/**
 * Overlay mounts through mount(8) and umount(8). Layer directories are passed as short paths relative to
 * the mount's working directory, because the kernel takes at most one page (4096 bytes) of mount options
 * and absolute layer paths would run out after a few dozen layers.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { SpawnFn } from '../process/spawn-helper.js';
import { MAX_MOUNT_OPTIONS, overlayOptionString } from '../runtime/overlay-options.js';
import { CommandError, runCommand } from './command.js';
import { decodeMountPath } from '../files/mountinfo.js';

export { MAX_MOUNT_OPTIONS };

export interface OverlaySpec {
  /** Directory the relative paths below are resolved from. */
  readonly cwd: string;
  /** Lower directories, top layer first, relative to `cwd`. */
  readonly lowerdirs: readonly string[];
  readonly upperdir: string;
  readonly workdir: string;
  /** Absolute mount point. */
  readonly target: string;
}

/** The `-o` string for `spec`; throws when it cannot fit in the kernel's limit. Pure. */
export function overlayOptions(spec: OverlaySpec): string {
  return overlayOptionString(spec.lowerdirs, spec.upperdir, spec.workdir);
}

/**
 * The program that mounts a container's root filesystem on every task start: BusyBox's mount applet when
 * BusyBox is installed (Debian's busybox-static, scripts/install.sh), else util-linux's mount(8). Both make
 * the same mount(2) call with the same options; mount(8) first loads libmount, libblkid and libselinux,
 * ~7 ms of CPU per run here against ~2.3 ms for the static BusyBox (measured with `perf stat`), and one
 * mount is on the critical path of every container start. Looked up once.
 */
let mounter: [string, ...string[]] | undefined;
export function overlayMounter(): [string, ...string[]] {
  mounter ??= ['/bin/busybox', '/usr/bin/busybox'].flatMap((path): [string, ...string[]][] => (existsSync(path) ? [[path, 'mount']] : []))[0] ?? ['mount'];
  return mounter;
}

/** Mount the overlay described by `spec`. */
export async function mountOverlay(spec: OverlaySpec, spawn?: SpawnFn): Promise<void> {
  const [file, ...first] = overlayMounter();
  await runCommand(file, [...first, '-t', 'overlay', 'overlay', '-o', overlayOptions(spec), spec.target], { cwd: spec.cwd, ...(spawn ? { spawn } : {}) });
}

/** Unmount `target` if it is mounted; detach lazily when something still uses it. Idempotent. */
export async function unmount(target: string, spawn?: SpawnFn): Promise<void> {
  if (!(await isMountPoint(target))) return;
  const how = spawn ? { spawn } : {};
  try {
    await runCommand('umount', [target], how);
  } catch (e) {
    if (!(e instanceof CommandError) || !/busy/i.test(e.stderr)) throw e;
    // A process still has a file open or its cwd inside: detach now, the kernel frees it when they let go.
    await runCommand('umount', ['-l', target], how);
  }
}

/**
 * True when `path` is a mount point in this process's mount namespace. Read asynchronously: with a
 * container per task the mount table grows to tens of kilobytes, read at every mount and unmount.
 */
export async function isMountPoint(path: string): Promise<boolean> {
  return mountPoints(await readFile('/proc/self/mountinfo', 'utf8')).includes(path);
}

/** Mount points listed in a /proc/<pid>/mountinfo text, octal escapes decoded. Pure. */
export function mountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field) points.push(decodeMountPath(field));
  }
  return points;
}
