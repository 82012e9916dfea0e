/**
 * One HAProxy in master-worker mode (`haproxy -W -S <master socket> -f <config>`), run in the foreground
 * so that its exit is seen at once. Configurations are checked (`haproxy -c`) before they are used;
 * a reload goes through the master CLI's `reload`, and the new worker takes the listening sockets from
 * the old one (`expose-fd listeners` on the admin socket), so no connection is refused or dropped: the
 * old worker finishes the requests it holds and exits.
 *
 *   stopped ──start()──▶ starting ──worker answers──▶ running ──reload()──▶ running (new worker pid)
 *                                                      │  └──stop()──▶ stopped
 *                                                      └──exits by itself──▶ exited (onExit: the driver restarts it)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runtimeCommand } from './haproxy-runtime.js';

const execFileP = promisify(execFile);

/** What the process manager logs. */
export interface LbLog {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

export interface HaproxyProcessOptions {
  /** Directory for the config, sockets and state file (short: unix socket paths are limited to 107 bytes). */
  readonly dir: string;
  readonly binary?: string;
  readonly log: LbLog;
  /** Called when HAProxy exits without stop() having been asked. */
  readonly onExit: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** A configuration HAProxy refused (`haproxy -c`); `output` is what it said. */
export class HaproxyConfigError extends Error {
  override readonly name = 'HaproxyConfigError';
  constructor(readonly output: string) {
    super(`haproxy refused the configuration: ${output.trim().split('\n').filter((l) => l.includes('ALERT')).join(' | ') || output.trim()}`);
  }
}

/** Paths of one HAProxy's files in `dir`. */
export function haproxyPaths(dir: string) {
  return {
    config: join(dir, 'haproxy.cfg'),
    adminSocket: join(dir, 'admin.sock'),
    masterSocket: join(dir, 'master.sock'),
    serverState: join(dir, 'servers.state'),
  } as const;
}

export class HaproxyProcess {
  readonly paths: ReturnType<typeof haproxyPaths>;
  private child: ChildProcess | undefined;
  private stopping = false;
  private workerPid: number | undefined;
  /** The last worker seen, so a start after a crash does not take a dying worker's answer for the new one's. */
  private lastWorkerPid: number | undefined;
  private readonly binary: string;

  constructor(private readonly options: HaproxyProcessOptions) {
    this.paths = haproxyPaths(options.dir);
    this.binary = options.binary ?? 'haproxy';
  }

  /** The master's pid while it runs. */
  get masterPid(): number | undefined {
    return this.child?.pid;
  }

  /** The current worker's pid (changes on every reload). */
  get currentWorkerPid(): number | undefined {
    return this.workerPid;
  }

  /** Check `config` with `haproxy -c`; throws {@link HaproxyConfigError}. */
  async check(config: string): Promise<void> {
    const candidate = `${this.paths.config}.new`;
    writeFileSync(candidate, config);
    try {
      await execFileP(this.binary, ['-c', '-f', candidate]);
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; code?: string; message: string };
      if (e.code === 'ENOENT') throw new Error(`haproxy not found (${this.binary}): install Debian's haproxy (scripts/install.sh does)`);
      throw new HaproxyConfigError(`${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
  }

  /**
   * Check, write and start with `config`; resolves once the worker answers on the admin socket. `takeOverFrom`:
   * the workers of another HAProxy still serving from this directory (a killed `berth lb` left it): the new one
   * takes their listening sockets from the admin socket they share (`-x`, as a reload does), so no connection is
   * refused while one replaces the other; the caller then soft-stops the old one (stale-haproxy.ts).
   */
  async start(config: string, takeOverFrom: readonly number[] = []): Promise<void> {
    if (this.child) throw new Error('haproxy is already running');
    await this.check(config);
    renameSync(`${this.paths.config}.new`, this.paths.config);
    this.stopping = false;
    const args = ['-W', '-S', `${this.paths.masterSocket},mode,600`, '-f', this.paths.config, ...(takeOverFrom.length > 0 ? ['-x', this.paths.adminSocket] : [])];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<never>((_resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`haproxy exited while starting (code ${code}, signal ${signal}): ${output.trim()}`)));
    });
    let up = false;
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      this.lastWorkerPid = this.workerPid ?? this.lastWorkerPid;
      this.workerPid = undefined;
      // A start that fails is start()'s rejection, not an exit to recover from.
      if (this.stopping || !up) return;
      this.options.log.warn({ code, signal, output: output.trim().slice(-1000) }, 'haproxy exited');
      this.options.onExit(code, signal);
    });
    exited.catch(() => undefined);
    try {
      // Not the old worker answering on the socket path the new one is about to take.
      this.workerPid = await Promise.race([exited, this.waitForWorker([...(this.lastWorkerPid ? [this.lastWorkerPid] : []), ...takeOverFrom])]);
    } catch (err) {
      child.kill('SIGKILL');
      if (this.child === child) this.child = undefined;
      throw err;
    }
    up = true;
    this.options.log.info({ master: child.pid, worker: this.workerPid }, 'haproxy started');
  }

  /**
   * Seamless reload with `config`: checked first (a refused config changes nothing), then the master
   * starts a new worker that takes over the listening sockets. Resolves once the new worker answers.
   */
  async reload(config: string): Promise<void> {
    if (!this.child) throw new Error('haproxy is not running');
    await this.check(config);
    renameSync(`${this.paths.config}.new`, this.paths.config);
    // Server states (health, drain) carried to the new worker: `load-server-state-from-file global`.
    writeFileSync(this.paths.serverState, await runtimeCommand(this.paths.adminSocket, 'show servers state'));
    const before = this.workerPid;
    // The master closes the CLI connection on reload; its answer carries nothing.
    await runtimeCommand(this.paths.masterSocket, 'reload').catch(() => '');
    this.workerPid = await this.waitForWorker(before ? [before] : []);
    this.options.log.info({ worker: this.workerPid, previous: before }, 'haproxy reloaded');
  }

  /** Stop HAProxy (hard stop of master and workers) and wait for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.stopping = true;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }

  /** Poll the admin socket until a worker not in `previous` answers `show info`; its pid. */
  private async waitForWorker(previous: readonly number[], timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const info = await runtimeCommand(this.paths.adminSocket, 'show info', 1_000);
        const pid = Number(/^Pid: (\d+)/m.exec(info)?.[1]);
        if (pid && !previous.includes(pid)) return pid;
      } catch (err) {
        last = err;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`haproxy's worker did not answer on ${this.paths.adminSocket} within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
  }
}
