/**
 * Child processes started by a small helper process instead of by the agent itself.
 *
 * Why: Node's spawn() forks the calling process and waits, blocking its event loop, until the child has
 * exec'd, which means until the child has torn down its copy of the parent's address space. That cost
 * grows with the parent's memory: measured here, one spawn() blocks ~1-2 ms from a 44 MiB process and
 * 5-14 ms from one of the agent's size (~134 MiB RSS), more under load. A task start spawns conmon and
 * `mount`, a bridge one also `ip netns add`, two CNI plugins and `nft`: tens of milliseconds of a blocked
 * event loop per start, and the one serial resource in a burst of starts. The helper is a bare Node
 * process (no modules of berth's loaded), so its forks are cheap, and they block only its own loop.
 *
 *   agent ──{spawn, write, end, kill}──▶ helper ──spawn()──▶ child
 *         ◀──{spawned, error, data, end, exit, close}──
 *
 * {@link SpawnHelper.spawn} returns a {@link HelperChild}: the subset of ChildProcess berth's callers use
 * (pid after 'spawn', pipes as streams, 'error' / 'exit' / 'close', kill). The helper exits when the agent
 * does (its IPC channel closes); the children it started are not killed by that, as with spawn().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { PassThrough, Writable } from 'node:stream';

/** How a child is started: its stdio as 'pipe' or 'ignore' per fd (0, 1, 2, then extra pipes). */
export interface HelperSpawnOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly stdio: readonly ('pipe' | 'ignore')[];
  /** Pipes beyond stdin that the caller writes rather than reads (conmon's start pipe). */
  readonly written?: readonly number[];
  /**
   * Pipes whose ends the helper hands over to the caller (sent over its IPC channel, its own copy closed),
   * so that reading and writing them takes no hop through the helper: conmon's sync and start pipes,
   * which are on every container create's critical path.
   */
  readonly handOver?: readonly number[];
  readonly detached?: boolean;
}

/** The part of ChildProcess that berth's callers use. */
export interface HelperChild extends EventEmitter {
  /** Set before 'spawn' is emitted. */
  pid: number | undefined;
  readonly stdio: readonly (PassThrough | Writable | null)[];
  readonly stdin: Writable | null;
  readonly stdout: PassThrough | null;
  readonly stderr: PassThrough | null;
  kill(signal?: NodeJS.Signals): boolean;
}

/** A spawn function: Node's own (through {@link directSpawn}) or a {@link SpawnHelper}'s. */
export type SpawnFn = (file: string, args: readonly string[], options: HelperSpawnOptions) => HelperChild | ChildProcess;

/** Node's spawn with the same signature. */
export const directSpawn: SpawnFn = (file, args, options) =>
  spawn(file, args, { ...(options.cwd ? { cwd: options.cwd } : {}), ...(options.env ? { env: { ...options.env } } : {}), stdio: [...options.stdio], detached: options.detached ?? false });

type ToHelper =
  | { t: 'spawn'; id: number; file: string; args: readonly string[]; options: HelperSpawnOptions }
  | { t: 'write'; id: number; fd: number; data: Buffer }
  | { t: 'end'; id: number; fd: number }
  | { t: 'kill'; id: number; signal: string };
type FromHelper =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'handle'; id: number; fd: number }
  | { t: 'error'; id: number; message: string; code?: string }
  | { t: 'data'; id: number; fd: number; data: Uint8Array }
  | { t: 'end'; id: number; fd: number }
  | { t: 'exit' | 'close'; id: number; code: number | null; signal: NodeJS.Signals | null };

/**
 * The helper's program, run as `node -e`: only Node's built-ins, nothing of berth's, so that it stays
 * small. Kept as a function (not a string) so that it is type-checked; it must not use anything from
 * this module's scope.
 */
function helperMain(req: NodeJS.Require): void {
  const { spawn: spawnChild } = req('node:child_process') as typeof import('node:child_process');
  const children = new Map<number, ChildProcess>();
  const send = (m: FromHelper) => process.send?.(m);
  process.on('disconnect', () => process.exit(0));
  // Ctrl-C in a terminal (SIGINT) and `timeout` (SIGTERM) signal the whole process group: the helper must outlive
  // that signal, since the agent's clean stop after it still runs processes (the warm network attachments' CNI DEL).
  // It ends with the agent instead (above and below).
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // Also when the agent was killed with a handle in flight ('disconnect' was then seen not to come):
  // reparented means the agent is gone.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && process.exit(0), 100).unref();
  process.on('message', (m: ToHelper) => {
    if (m.t === 'spawn') {
      let child: ChildProcess;
      try {
        child = spawnChild(m.file, [...m.args], { cwd: m.options.cwd, env: m.options.env ? { ...m.options.env } : undefined, stdio: [...m.options.stdio], detached: m.options.detached ?? false });
      } catch (error) {
        send({ t: 'error', id: m.id, message: (error as Error).message });
        send({ t: 'close', id: m.id, code: null, signal: null });
        return;
      }
      children.set(m.id, child);
      child.on('error', (error: NodeJS.ErrnoException) => send({ t: 'error', id: m.id, message: error.message, ...(error.code ? { code: error.code } : {}) }));
      for (const fd of m.options.handOver ?? []) {
        const stream = child.stdio[fd];
        // Sent before 'spawned' on the same channel, so the caller has it before it may use it.
        // Once sent, the helper's copy is closed; destroying the stream too lets the child's 'close' come.
        if (stream) process.send?.({ t: 'handle', id: m.id, fd }, stream as import('node:net').Socket, undefined, () => stream.destroy());
      }
      if (child.pid !== undefined) send({ t: 'spawned', id: m.id, pid: child.pid });
      child.stdio.forEach((stream, fd) => {
        if (!stream || fd === 0 || !('on' in stream) || m.options.stdio[fd] !== 'pipe' || m.options.handOver?.includes(fd)) return;
        if (m.options.written?.includes(fd)) {
          (stream as NodeJS.WritableStream).on('error', () => {});
          return;
        }
        stream.on('data', (data: Buffer) => send({ t: 'data', id: m.id, fd, data }));
        stream.on('end', () => send({ t: 'end', id: m.id, fd }));
        stream.on('error', () => {});
      });
      child.stdin?.on('error', () => {});
      child.on('exit', (code, signal) => send({ t: 'exit', id: m.id, code, signal }));
      child.on('close', (code, signal) => {
        children.delete(m.id);
        send({ t: 'close', id: m.id, code, signal });
      });
      return;
    }
    const child = children.get(m.id);
    if (!child) return;
    if (m.t === 'kill') child.kill(m.signal as NodeJS.Signals);
    else {
      const stream = child.stdio[m.fd] as NodeJS.WritableStream | null;
      if (m.t === 'write') stream?.write(Buffer.from(m.data));
      else stream?.end();
    }
  });
}

/** One helper process; see the module comment. */
export class SpawnHelper {
  private nextId = 1;
  private readonly children = new Map<number, RemoteChild>();

  private constructor(private readonly helper: ChildProcess) {
    helper.on('message', (m: FromHelper, handle?: Socket) => this.children.get(m.id)?.receive(m, handle));
    helper.on('exit', () => {
      for (const child of this.children.values()) child.lost();
      this.children.clear();
    });
  }

  /** Start the helper (a `node -e` process of its own, killed with its IPC channel when the agent goes). */
  static start(): SpawnHelper {
    const helper = spawn(process.execPath, ['--max-old-space-size=32', '-e', `(${helperMain.toString()})(require)`], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    // Not holding the agent's event loop open by itself.
    helper.unref();
    (helper as unknown as { channel?: { unref(): void } }).channel?.unref();
    return new SpawnHelper(helper);
  }

  /** The helper's pid (for tests). */
  get pid(): number | undefined {
    return this.helper.pid;
  }

  /** Start `file` through the helper. */
  readonly spawn = (file: string, args: readonly string[], options: HelperSpawnOptions): HelperChild => {
    const id = this.nextId++;
    const child = new RemoteChild(options, (m) => this.post(m), id);
    this.children.set(id, child);
    child.once('close', () => this.children.delete(id));
    this.post({
      t: 'spawn',
      id,
      file,
      args: [...args],
      options: { ...options, stdio: [...options.stdio], ...(options.written ? { written: [...options.written] } : {}), ...(options.handOver ? { handOver: [...options.handOver] } : {}) },
    });
    return child;
  };

  /** Stop the helper (children it started keep running). */
  close(): void {
    if (this.helper.connected) this.helper.disconnect();
  }

  private post(m: ToHelper): void {
    if (!this.helper.connected) {
      this.children.get(m.id)?.lost();
      return;
    }
    this.helper.send(m);
  }
}

/** A child as the agent sees it, its events and output relayed by the helper. */
class RemoteChild extends EventEmitter implements HelperChild {
  pid: number | undefined;
  readonly stdio: (PassThrough | Writable | null)[];
  private exited = false;
  private closed = false;

  constructor(
    options: HelperSpawnOptions,
    private readonly post: (m: ToHelper) => void,
    private readonly id: number,
  ) {
    super();
    this.handedOver = new Set(options.handOver ?? []);
    this.stdio = options.stdio.map((kind, fd) => {
      if (kind !== 'pipe') return null;
      if (fd !== 0 && !options.written?.includes(fd)) {
        const stream = new PassThrough();
        // A handed-over pipe is closed with its stream (a destroyed reader must not leak the fd).
        stream.on('close', () => this.handles.get(fd)?.destroy());
        return stream;
      }
      return new Writable({
        write: (chunk: Buffer, _encoding, done) => {
          const handle = this.handles.get(fd);
          if (handle) handle.write(chunk, () => done());
          else {
            this.post({ t: 'write', id: this.id, fd, data: Buffer.from(chunk) });
            done();
          }
        },
        final: (done) => {
          const handle = this.handles.get(fd);
          if (handle) handle.end(() => done());
          else {
            this.post({ t: 'end', id: this.id, fd });
            done();
          }
        },
        destroy: (error, done) => {
          this.handles.get(fd)?.destroy();
          done(error);
        },
      });
    });
  }

  /** Pipe ends the helper handed over, by fd. */
  private readonly handles = new Map<number, Socket>();
  private readonly handedOver: Set<number>;

  get stdin(): Writable | null {
    return this.stdio[0] ?? null;
  }

  get stdout(): PassThrough | null {
    return (this.stdio[1] as PassThrough | null) ?? null;
  }

  get stderr(): PassThrough | null {
    return (this.stdio[2] as PassThrough | null) ?? null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exited) return false;
    this.post({ t: 'kill', id: this.id, signal });
    return true;
  }

  receive(m: FromHelper, handle?: Socket): void {
    switch (m.t) {
      case 'handle': {
        if (!handle) return;
        this.handles.set(m.fd, handle);
        handle.on('error', () => {});
        const stream = this.stdio[m.fd];
        if (stream instanceof PassThrough) {
          if (stream.destroyed) handle.destroy();
          handle.on('data', (d: Buffer) => stream.write(d));
          handle.on('end', () => stream.end());
        }
        return;
      }
      case 'spawned':
        this.pid = m.pid;
        this.emit('spawn');
        return;
      case 'error':
        this.emit('error', Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
        return;
      case 'data':
        (this.stdio[m.fd] as PassThrough | null)?.write(Buffer.from(m.data));
        return;
      case 'end':
        (this.stdio[m.fd] as PassThrough | null)?.end();
        return;
      case 'exit':
        this.exited = true;
        this.emit('exit', m.code, m.signal);
        return;
      case 'close':
        this.finish(m.code, m.signal);
    }
  }

  /** The helper went away: as far as the agent can tell, the child is gone too. */
  lost(): void {
    if (this.closed) return;
    this.emit('error', new Error('the spawn helper exited'));
    if (!this.exited) {
      this.exited = true;
      this.emit('exit', null, 'SIGKILL');
    }
    this.finish(null, 'SIGKILL');
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed) return;
    this.closed = true;
    // A handed-over pipe ends on its own (conmon's daemon may hold it after the first process exited).
    for (const [fd, stream] of this.stdio.entries()) {
      if (stream instanceof PassThrough && fd > 0 && !this.handedOver.has(fd) && !stream.writableEnded) stream.end();
    }
    this.emit('close', code, signal);
  }
}
