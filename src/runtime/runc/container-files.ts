/**
 * Where the runc runtime keeps its state, and reading what runc and conmon leave there. Everything a
 * restarted agent needs is on disk under one state directory:
 *
 * ```
 * <stateDir>/runc/                 runc --root: runc's own state per container
 * <stateDir>/exits/<id>            conmon --exit-dir: the exit code, written when the container exits
 * <stateDir>/containers/<id>/      the bundle (config.json, labels as annotations) and conmon's
 *     config.json                    --persist-dir (exit, oom), pid files, attach socket and fifos
 *     pid  conmon.pid  exit  oom
 * ```
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** The shared directories under the state directory. */
export interface StateLayout {
  readonly runcRoot: string;
  readonly exitDir: string;
  readonly containersDir: string;
}

/** The layout under `stateDir`. */
export function stateLayout(stateDir: string): StateLayout {
  return { runcRoot: join(stateDir, 'runc'), exitDir: join(stateDir, 'exits'), containersDir: join(stateDir, 'containers') };
}

/** The files of one container. */
export interface ContainerFiles {
  readonly dir: string;
  readonly config: string;
  readonly pidFile: string;
  readonly conmonPidFile: string;
  /** The pid of conmon's first process while it is held on its start pipe (createEarly), before it forks. */
  readonly heldConmonPidFile: string;
  readonly oomFile: string;
  readonly exitFile: string;
}

/** Container `id`'s files in `layout`. */
export function containerFiles(layout: StateLayout, id: string): ContainerFiles {
  const dir = join(layout.containersDir, id);
  return {
    dir,
    config: join(dir, 'config.json'),
    pidFile: join(dir, 'pid'),
    conmonPidFile: join(dir, 'conmon.pid'),
    heldConmonPidFile: join(dir, 'conmon-held.pid'),
    oomFile: join(dir, 'oom'),
    exitFile: join(layout.exitDir, id),
  };
}

/** What the bundle records about a container: its labels, cgroup and user. */
export interface BundleInfo {
  readonly labels: Readonly<Record<string, string>>;
  readonly cgroupsPath: string;
  readonly user?: ExecUser;
}

/** The user a container's process runs as (and an exec'd command with it). */
export interface ExecUser {
  readonly uid: number;
  readonly gid: number;
  readonly additionalGids?: readonly number[];
}

const isMissing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** The labels and cgroup from the bundle's config.json, or undefined when there is no bundle. */
export async function readBundleInfo(files: ContainerFiles): Promise<BundleInfo | undefined> {
  let text: string;
  try {
    text = await readFile(files.config, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  const config = JSON.parse(text) as { annotations?: Record<string, string>; linux?: { cgroupsPath?: string }; process?: { user?: ExecUser } };
  return { labels: config.annotations ?? {}, cgroupsPath: config.linux?.cgroupsPath ?? '', ...(config.process?.user ? { user: config.process.user } : {}) };
}

/** conmon's exit file: the exit code (128+n for signal n, -1 when unknown) and when it was written. */
export async function readExitFile(files: ContainerFiles): Promise<{ code: number; writtenAt: number } | undefined> {
  try {
    // conmon writes it atomically (temp file + rename): if the name exists, the content is complete.
    const [text, info] = await Promise.all([readFile(files.exitFile, 'utf8'), stat(files.exitFile)]);
    const code = Number.parseInt(text.trim(), 10);
    return { code: Number.isNaN(code) ? -1 : code, writtenAt: info.mtimeMs };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/** Whether `path` exists (other errors than "missing" are thrown). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** A pid from a pid file, or undefined. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * Whether the conmon monitoring container `id` still runs: its pid from the pid file, alive and not a
 * zombie, and its command line naming this container (so a recycled pid does not count).
 */
export async function conmonAlive(files: ContainerFiles, id: string, pidFile = files.conmonPidFile): Promise<number | undefined> {
  return (await conmonIdentity(files, id, pidFile))?.pid;
}

/** A live process told apart from a later one with the same pid by its start time (clock ticks after boot). */
export interface ProcessIdentity {
  readonly pid: number;
  readonly startTicks: string;
}

/** The identity of the conmon monitoring container `id` while it is alive (see conmonAlive), or undefined. */
export async function conmonIdentity(files: ContainerFiles, id: string, pidFile = files.conmonPidFile): Promise<ProcessIdentity | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return undefined;
  try {
    const [cmdline, statText] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    const stat = liveStat(statText);
    const args = cmdline.split('\0');
    const cid = args.indexOf('--cid');
    return stat && cid >= 0 && args[cid + 1] === id ? { pid, startTicks: stat.startTicks } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the process `identity` names is still alive, read through a descriptor of its /proc stat kept open
 * between checks (one read each, where a fresh readFile is four file-system calls): a descriptor opened on a
 * process keeps naming it, so once it is gone the read fails (ESRCH) even if its pid is used again.
 */
export class ProcessProbe {
  private handle: FileHandle | undefined;
  private readonly buffer = Buffer.allocUnsafe(512);

  constructor(readonly identity: ProcessIdentity) {}

  async alive(): Promise<boolean> {
    try {
      this.handle ??= await open(`/proc/${this.identity.pid}/stat`, 'r');
      const { bytesRead } = await this.handle.read(this.buffer, 0, this.buffer.length, 0);
      if (liveStat(this.buffer.toString('latin1', 0, bytesRead))?.startTicks === this.identity.startTicks) return true;
    } catch {
      // gone (ESRCH), or never there
    }
    await this.close();
    return false;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }
}

/** State and start time from a /proc/<pid>/stat line; undefined for a zombie or dead process. */
function liveStat(statText: string): { startTicks: string } | undefined {
  // Fields after the command name (which may hold spaces and parentheses): state is the 3rd field, starttime the 22nd.
  const rest = statText.slice(statText.lastIndexOf(')') + 2).split(' ');
  const state = rest[0];
  return state === 'Z' || state === 'X' || state === undefined ? undefined : { startTicks: rest[19] ?? '' };
}
