import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { lstat, open, readFile, readdir, readlink, realpath, unlink } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { RuntimeCommandError } from '../errors.js';
import type { ExecUser } from './container-files.js';
import { RUNC, type OciRuntimeFlavour } from './oci-runtime.js';

/** What `runc state` reports. */
export interface RuncState {
  readonly id: string;
  readonly status: 'creating' | 'created' | 'running' | 'paused' | 'stopped';
  readonly pid: number;
  readonly bundle: string;
}

/** runc's reasons worth telling apart from other failures. */
const NOT_FOUND = /container does not exist|container ".*" does not exist/;
const NOT_RUNNING = /container not running|process already finished|no such process|sandbox is not running/i;
/** runsc signals only started containers (runc also signals a created one's waiting init). */
const CREATED_UNSIGNALLABLE = /cannot signal container .* in state created/;

/**
 * The runc commands berth issues (one process each), against one state root. Errors carry runc's own
 * message, taken from its logrus line (`msg="…"`) when it prints one.
 */
export class RuncCli {
  constructor(
    readonly runcPath: string,
    readonly root: string,
    private readonly flavour: Pick<OciRuntimeFlavour, 'globalArgs' | 'execFifo' | 'rootPerContainer' | 'execPid' | 'execNeedsUser' | 'startCommand'> = RUNC,
  ) {}

  /** The `--root` of container `id`'s commands. */
  rootOf(id: string): string {
    return this.flavour.rootPerContainer ? join(this.root, id) : this.root;
  }

  /** The global flags of container `id`'s commands: its root, and the flavour's. */
  globalArgs(id: string): string[] {
    return [`--root=${this.rootOf(id)}`, ...this.flavour.globalArgs];
  }

  /** The binary's name, for messages. */
  private get name(): string {
    return this.runcPath.slice(this.runcPath.lastIndexOf('/') + 1);
  }

  /** The container's state, or undefined when runc holds no such container. */
  async state(id: string): Promise<RuncState | undefined> {
    const result = await this.run(id, ['state', id], { allowFailure: true });
    if (result.code !== 0) {
      if (NOT_FOUND.test(result.stderr)) return undefined;
      throw this.failure(['state', id], result);
    }
    return JSON.parse(result.stdout) as RuncState;
  }

  /**
   * Start a created container. `runc start` does nothing but open the container's exec FIFO
   * (`<root>/<id>/exec.fifo`), which releases the waiting init, read its one byte and remove the FIFO;
   * doing the same here saves starting a runc process (~10 ms) on every task's critical path. The FIFO is
   * opened non-blocking, so a dead init can never hang us: when no byte comes within a short while, or the
   * FIFO is not there as expected (another runc version, a started container), `runc start` decides.
   */
  async start(id: string): Promise<void> {
    if (this.flavour.execFifo && (await this.releaseInit(this.execFifo(id)))) return;
    // No byte came: the init may have been released already by a start cut short (see settleStart), and
    // `runc start` would then wait for it for ever.
    if (this.flavour.execFifo && (await this.settleStart(id))) return;
    await this.run(id, ['start', id], { command: this.flavour.startCommand });
  }

  /** Where runc keeps the FIFO a created container's init waits on. */
  private execFifo(id: string): string {
    return join(this.root, id, 'exec.fifo');
  }

  /**
   * A start cut short: true when runc calls the container created although its init has already run the
   * container's process, after which runc's state says so too.
   *
   * Why: runc calls a container "created" for as long as its exec FIFO exists. A start that read the init's
   * byte (the init then execs the container's process) but died before removing the FIFO — an agent killed
   * in that moment — leaves a running container that runc still calls created, and `runc start` on it
   * blocks for ever opening a FIFO nobody will write again. A created init holds the FIFO open (runc hands
   * it an O_PATH descriptor, closed on exec); once no process of the container's init pid holds it, the
   * init has exec'd, and the leftover FIFO is removed.
   */
  async settleStart(id: string, knownPid?: number): Promise<boolean> {
    const fifo = this.execFifo(id);
    if (!(await lstat(fifo).catch(() => undefined))?.isFIFO()) return false;
    let pid = knownPid;
    if (pid === undefined) {
      const state = await this.state(id).catch(() => undefined);
      if (state?.status !== 'created') return false;
      pid = state.pid;
    }
    if (!(pid > 0)) return false;
    // The kernel names an open file by its resolved path.
    const held = await initHolds(pid, await realpath(fifo).catch(() => fifo));
    if (held !== false) return false;
    await unlink(fifo).catch(() => {});
    return true;
  }

  private async releaseInit(fifo: string): Promise<boolean> {
    const stats = await lstat(fifo).catch(() => undefined);
    if (!stats?.isFIFO()) return false;
    let handle;
    try {
      handle = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      const buffer = Buffer.alloc(16);
      for (const deadline = Date.now() + 2_000; Date.now() < deadline; ) {
        // 0 bytes: the init has not opened its end yet; EAGAIN: it has, and is about to write.
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, null).catch((e: NodeJS.ErrnoException) => {
          if (e.code === 'EAGAIN') return { bytesRead: 0 };
          throw e;
        });
        if (bytesRead > 0) {
          await unlink(fifo).catch(() => {});
          return true;
        }
        await new Promise((r) => setTimeout(r, 1));
      }
      return false;
    } catch {
      return false;
    } finally {
      await handle.close();
    }
  }

  /** `exec`'s arguments (after the runtime's path): in the foreground, with a terminal of its own when `tty`. */
  execArgs(id: string, args: readonly string[], pidFile: string, user: ExecUser | undefined, tty: boolean): string[] {
    // runsc's command runs in the Sentry, which has no host pid for it: its pid there is what `runsc kill --pid` takes.
    const inSandbox = this.flavour.execPid === 'sandbox';
    const as =
      this.flavour.execNeedsUser && user
        ? ['--user', `${user.uid}:${user.gid}`, ...(user.additionalGids ?? []).flatMap((g) => ['--additional-gids', String(g)])]
        : [];
    return [...this.globalArgs(id), 'exec', ...(tty ? ['--tty'] : []), inSandbox ? '--internal-pid-file' : '--pid-file', pidFile, ...as, id, ...args];
  }

  /**
   * Run `args` inside the running container (its namespaces, environment, user and cgroups), as a health
   * check does; resolves with the exit code. Past `timeoutMs` the process is killed and `timedOut` is true.
   */
  async exec(
    id: string,
    args: readonly string[],
    timeoutMs: number,
    pidFile: string,
    user?: ExecUser,
  ): Promise<{ exitCode: number; timedOut: boolean }> {
    const inSandbox = this.flavour.execPid === 'sandbox';
    const argv = this.execArgs(id, args, pidFile, user, false);
    return new Promise((resolve, reject) => {
      const child = spawn(this.runcPath, argv, { stdio: 'ignore' });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        // The command itself (not runc, which would not pass SIGKILL on): its pid is in the pid file.
        void readFile(pidFile, 'utf8')
          .then(async (text) => {
            const pid = Number(text.trim());
            if (!inSandbox) return process.kill(pid, 'SIGKILL');
            const result = await this.run(id, ['kill', '--pid', String(pid), id, 'KILL'], { allowFailure: true });
            if (result.code !== 0) throw new Error(result.stderr);
          })
          .catch(() => child.kill('SIGKILL'));
      }, timeoutMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(new RuntimeCommandError([this.runcPath, ...argv], null, '', `cannot run ${this.runcPath}: ${error.message}`));
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        void unlink(pidFile).catch(() => {});
        resolve({ exitCode: code ?? (signal ? 128 + (osConstants.signals[signal] ?? 9) : 255), timedOut });
      });
    });
  }

  /**
   * Signal the container's init; false when it has already stopped (or is unknown). A created container that the
   * runtime will not signal (runsc: its sandbox runs, its init does not yet) is ended by SIGKILL to the process
   * runc's state names (runsc: the sandbox), which its monitor reports as a SIGKILL (137), as under runc.
   */
  async kill(id: string, signal: string): Promise<boolean> {
    const result = await this.run(id, ['kill', id, signal], { allowFailure: true });
    if (result.code === 0) return true;
    if (NOT_RUNNING.test(result.stderr) || NOT_FOUND.test(result.stderr)) return false;
    if (signal === 'SIGKILL' && CREATED_UNSIGNALLABLE.test(result.stderr)) {
      const state = await this.state(id);
      if (state?.status === 'created' && state.pid > 0) {
        try {
          process.kill(state.pid, 'SIGKILL');
          return true;
        } catch {
          return false;
        }
      }
    }
    throw this.failure(['kill', id, signal], result);
  }

  /** Remove runc's state and cgroups for the container, killing it first. No error if it is unknown. */
  async deleteForce(id: string): Promise<void> {
    await this.run(id, ['delete', '--force', id]);
  }

  private failure(args: readonly string[], result: CommandResult): RuntimeCommandError {
    return new RuntimeCommandError([this.runcPath, ...args], result.code, result.stderr, `${this.name} ${args[0]} failed: ${runcMessage(result.stderr) || `exit code ${result.code}`}`);
  }

  private run(
    id: string,
    args: readonly string[],
    options: { allowFailure?: boolean; command?: OciRuntimeFlavour['startCommand'] } = {},
  ): Promise<CommandResult> {
    const argv = [...this.globalArgs(id), ...args];
    const [file, fileArgs] = options.command ? options.command(this.runcPath, argv) : [this.runcPath, argv];
    return new Promise((resolve, reject) => {
      execFile(file, fileArgs, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (error && code === null) {
          reject(new RuntimeCommandError([this.runcPath, ...argv], null, stderr, `cannot run ${this.runcPath}: ${error.message}`));
          return;
        }
        const result = { code, stdout, stderr };
        if (code !== 0 && !options.allowFailure) reject(this.failure(args, result));
        else resolve(result);
      });
    });
  }
}

/**
 * Whether process `pid` has `path` open; undefined when its descriptors cannot be read (it is gone, or
 * they are not ours to read), which decides nothing.
 */
async function initHolds(pid: number, path: string): Promise<boolean | undefined> {
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = await readdir(dir);
  } catch {
    return undefined;
  }
  const targets = await Promise.all(fds.map((fd) => readlink(join(dir, fd)).catch(() => undefined)));
  return targets.includes(path);
}

interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The message of runc's last error line (`time=… level=error msg="…"`), or its stderr trimmed. */
export function runcMessage(stderr: string): string {
  const lines = stderr.trim().split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(lines[i]!);
    if (m) return m[1]!.replace(/\\(.)/g, '$1');
  }
  return lines.join('; ');
}
