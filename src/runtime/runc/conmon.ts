/**
 * Starting a container under conmon (containers/conmon 2.x), the monitor that outlives the agent: it runs
 * `runc create`, reaps the container, writes its output to a CRI log file and, when it exits, its exit
 * code to `<exitDir>/<id>` and `<persistDir>/exit` (and `<persistDir>/oom` after an OOM kill).
 *
 * The handshake: conmon is started with `_OCI_SYNCPIPE=3` and fd 3 a pipe to us. Without `--sync` it
 * forks, the first process exits at once (writing `--conmon-pidfile`) and the daemon carries on in its
 * own session. Once `runc create` has finished the daemon writes one JSON line on the pipe:
 * `{"data": <container pid>}`, or `{"data": -1, "message": "<runc's stderr>"}` when create failed (with
 * nothing on runc's stderr it just exits: end of file). Before all that, conmon blocks reading
 * `_OCI_STARTPIPE` (fd 4) until we write a byte: the moment to move it into a cgroup of its own, so that it
 * and its daemon are not in the agent's (podman does the same).
 */
import { directSpawn, type SpawnFn } from '../../process/spawn-helper.js';
import { ContainerCreateError } from '../errors.js';
import { runcMessage } from './runc-cli.js';

/** Where conmon finds and puts everything for one container. */
export interface ConmonLaunch {
  readonly conmonPath: string;
  readonly runcPath: string;
  /** runc's --root. */
  readonly runcRoot: string;
  /** More global flags for the runtime, after --root (runsc's, see OciRuntimeFlavour). */
  readonly runtimeArgs?: readonly string[];
  readonly id: string;
  readonly bundleDir: string;
  /** conmon's --persist-dir, also its working directory (it drops an `oom` file in both). */
  readonly persistDir: string;
  readonly exitDir: string;
  readonly containerPidFile: string;
  readonly conmonPidFile: string;
  readonly logPath: string;
  /** How conmon is started: Node's spawn by default, or a spawn helper's (src/process/spawn-helper.ts). */
  readonly spawn?: SpawnFn;
  /** Runs once conmon is started and blocked on its start pipe, with the pid of its first process. */
  readonly beforeStart?: (pid: number) => Promise<void>;
}

/** conmon's command line for `launch`. */
export function conmonArgs(launch: ConmonLaunch): string[] {
  return [
    '--api-version', '1',
    '--cid', launch.id,
    '--cuuid', launch.id,
    '--name', launch.id,
    '--runtime', launch.runcPath,
    '--runtime-arg', `--root=${launch.runcRoot}`,
    ...(launch.runtimeArgs ?? []).flatMap((arg) => ['--runtime-arg', arg]),
    '--bundle', launch.bundleDir,
    '--container-pidfile', launch.containerPidFile,
    '--conmon-pidfile', launch.conmonPidFile,
    '--exit-dir', launch.exitDir,
    '--persist-dir', launch.persistDir,
    '--log-path', `k8s-file:${launch.logPath}`,
    // The attach socket in the bundle itself (bound through /proc/self/fd, so path length is no issue),
    // instead of a symlink in a shared socket directory that would need cleaning up.
    '--full-attach',
    '--log-level', 'warning',
  ];
}

/** A conmon started and held on its start pipe: nothing is created until {@link HeldConmon.release}. */
export interface HeldConmon {
  /**
   * Let conmon run `runc create` (once the bundle's config.json is written) and wait until it is done.
   * Resolves with the container's pid; rejects with {@link ContainerCreateError} carrying runc's message.
   */
  release(): Promise<number>;
  /** Kill the held conmon (only before release: it has forked nothing, created nothing). */
  abort(reason: Error): void;
}

/**
 * Start conmon for a bundle whose config.json may not be written yet, and hold it on its start pipe. The
 * process start and the move into the monitor cgroup (`beforeStart`) cost the agent a fork and a cgroup
 * migration (~15 ms under load); holding conmon lets them overlap the rest of a container's preparation
 * (root filesystem, /etc files, network) instead of preceding `runc create`. If the agent dies while
 * conmon is held, conmon reads end of file on the start pipe and goes on: `runc create` then fails on
 * the missing config.json (or, written already, creates what a released conmon would have), and the
 * retried create deletes it. After `timeoutMs` from the release the result rejects too; a conmon daemon
 * still running is then the caller's to stop (through the conmon pid file).
 */
export function holdConmon(launch: ConmonLaunch, timeoutMs: number): HeldConmon {
  let released!: () => void;
  const releasing = new Promise<void>((resolve) => (released = resolve));
  let abort!: (reason: Error) => void;
  let startTimer!: () => void;
  const result = new Promise<number>((resolve, reject) => {
    const child = (launch.spawn ?? directSpawn)(launch.conmonPath, conmonArgs(launch), {
      cwd: launch.persistDir,
      // A minimal environment: conmon and runc need nothing of the agent's.
      env: { _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4', PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      written: [4],
      handOver: [3, 4],
      // Its own session: a signal to the agent's process group must not reach the monitor.
      detached: true,
    });
    const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    const startPipe = child.stdio[4] as NodeJS.WritableStream & { destroy(): void };
    let stderr = '';
    let line = '';
    let settled = false;
    let exitCode: number | null | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (error: Error | undefined, pid?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sync.destroy();
      startPipe.destroy();
      child.stderr?.destroy();
      if (error) reject(error);
      else resolve(pid!);
    };
    abort = (reason) => {
      if (settled) return;
      child.kill('SIGKILL');
      finish(new ContainerCreateError(reason.message, { cause: reason }));
    };
    startTimer = () => {
      if (!settled) timer = setTimeout(() => finish(new ContainerCreateError(`conmon did not report the container within ${timeoutMs} ms`)), timeoutMs);
    };
    child.on('error', (error) => finish(new ContainerCreateError(`cannot run ${launch.conmonPath}: ${error.message}`, { cause: error })));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (stderr += chunk));
    child.on('exit', (code) => {
      exitCode = code;
      // The first process exits once it has forked; only a failure before the fork is news here.
      if (code !== 0) finish(new ContainerCreateError(`conmon failed (exit code ${code}): ${stderr.trim() || 'no message'}`));
    });
    startPipe.on('error', () => {});
    child.once('spawn', () => {
      const pid = child.pid!;
      Promise.resolve(launch.beforeStart?.(pid)).then(
        () => releasing.then(() => startPipe.end('\0')),
        (error: unknown) => {
          // conmon is still blocked on the start pipe: nothing has been created yet.
          child.kill('SIGKILL');
          finish(new ContainerCreateError(`preparing conmon failed: ${(error as Error).message}`, { cause: error }));
        },
      );
    });
    sync.setEncoding('utf8');
    sync.on('data', (chunk: string) => {
      line += chunk;
      const end = line.indexOf('\n');
      if (end < 0) return;
      let message: { data?: unknown; message?: unknown };
      try {
        message = JSON.parse(line.slice(0, end)) as typeof message;
      } catch {
        finish(new ContainerCreateError(`conmon sent an unreadable message: ${line.slice(0, end)}`));
        return;
      }
      if (typeof message.data === 'number' && message.data > 0) finish(undefined, message.data);
      else finish(new ContainerCreateError(createFailure(launch.runcPath, typeof message.message === 'string' ? message.message : '')));
    });
    sync.on('error', () => {});
    sync.on('end', () =>
      finish(new ContainerCreateError(createFailure(launch.runcPath, stderr || (exitCode ? `conmon exit code ${exitCode}` : 'conmon exited without reporting the container')))),
    );
  });
  // Observed through release(); a held conmon that fails (or is aborted) before then is no unhandled rejection.
  result.catch(() => {});
  return {
    release: () => {
      released();
      startTimer();
      return result;
    },
    abort: (reason) => abort(reason),
  };
}

/**
 * Start conmon for a bundle and wait until `runc create` is done: {@link holdConmon} released at once.
 */
export function launchConmon(launch: ConmonLaunch, timeoutMs: number): Promise<number> {
  return holdConmon(launch, timeoutMs).release();
}

/** The runtime's message from what conmon relays (runc's or runsc's stderr). */
function createFailure(runtimePath: string, text: string): string {
  return `${runtimePath.slice(runtimePath.lastIndexOf('/') + 1)} create failed: ${runcMessage(text) || 'no message'}`;
}
