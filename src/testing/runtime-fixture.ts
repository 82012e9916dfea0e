import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerSpec, ExitStatus, RootfsOverlay } from '../runtime/runtime.js';
import { RuncRuntime, type RuncRuntimeOptions } from '../runtime/runc/runc-runtime.js';
import { writeBusyboxRootfs } from './busybox-image.js';

/** Every cgroup hierarchy's mount point on this host (v1 controllers and the cgroup2 one). */
export function cgroupMountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => / - cgroup2? /.test(line))
    .map((line) => line.split(' ')[4]!);
}

/** One CRI log line as conmon writes it. */
export interface LogLine {
  readonly time: string;
  readonly stream: 'stdout' | 'stderr';
  readonly partial: boolean;
  readonly text: string;
}

export function readCriLog(path: string): LogLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
      if (!m) throw new Error(`not a CRI log line: ${JSON.stringify(line)}`);
      return { time: m[1]!, stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', text: m[4]! };
    });
}

/** Spec fields to change; `process` fields are merged into the fixture's process. */
export type SpecOverrides = Partial<Omit<ContainerSpec, 'process'>> & { readonly process?: Partial<ContainerSpec['process']> };

/** One stream's text from CRI log lines: partial (P) lines joined to the next, full (F) ones ended; no final newline. */
export function streamText(log: readonly LogLine[], stream: 'stdout' | 'stderr'): string {
  return log
    .filter((l) => l.stream === stream)
    .map((l) => (l.partial ? l.text : `${l.text}\n`))
    .join('')
    .replace(/\n$/, '');
}

/** Resolves once the CRI log at `path` has a line containing `text`; rejects after `timeoutMs`. */
export async function waitForLog(path: string, text: string, timeoutMs = 10_000): Promise<LogLine> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = readCriLog(path).find((l) => l.text.includes(text));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no log line with ${JSON.stringify(text)} in ${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RuntimeFixture {
  readonly runtime: RuncRuntime;
  readonly dir: string;
  readonly stateDir: string;
  /** A busybox root filesystem shared by the fixture's containers (read-write). */
  readonly rootfs: string;
  /** Unique per fixture, so parallel test runs on one host never share cgroups. */
  readonly cgroupParent: string;
  /** A container id unique on the host. */
  id(name: string): string;
  /** A container spec running `args` in the busybox rootfs, logging to the fixture's directory. */
  spec(id: string, args: readonly string[], overrides?: SpecOverrides): ContainerSpec;
  /** An empty root directory and an overlay of the busybox rootfs over fresh upper and work directories, for container `id`. */
  overlayRoot(id: string): { readonly rootfs: string; readonly rootfsOverlay: RootfsOverlay };
  /** Create, start and wait for a container; returns its exit and log, and deletes it. */
  run(id: string, args: readonly string[], overrides?: SpecOverrides): Promise<{ exit: ExitStatus; log: LogLine[]; stdout: string }>;
  /** A second runtime on the same state directory, as a restarted agent would open. */
  reopen(): Promise<RuncRuntime>;
  /** Delete every container, the cgroup parent and the directory. */
  cleanup(): Promise<void>;
}

/** A runc (or runsc) runtime on a temporary state directory with a busybox rootfs, for tests with real containers. */
export async function startRuntimeFixture(
  options: Partial<RuncRuntimeOptions> = {},
  /** How the runtime is opened: runc's by default, gVisor's with openRunscRuntime. */
  openRuntime: (options: RuncRuntimeOptions) => Promise<RuncRuntime> = (o) => RuncRuntime.open(o),
): Promise<RuntimeFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-runtime-'));
  const stateDir = join(dir, 'state');
  const rootfs = join(dir, 'rootfs');
  writeBusyboxRootfs(rootfs);
  const tag = randomBytes(4).toString('hex');
  const cgroupParent = `/berth-test-${tag}`;
  const open = () => openRuntime({ stateDir, cgroupParent, ...options });
  const runtime = await open();
  const reopened: RuncRuntime[] = [];
  const spec = (id: string, args: readonly string[], overrides: SpecOverrides = {}): ContainerSpec => ({
    id,
    rootfs,
    resources: {},
    logPath: join(dir, 'logs', `${id}.log`),
    labels: {},
    ...overrides,
    process: { args, env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, ...overrides.process },
  });
  return {
    runtime,
    dir,
    stateDir,
    rootfs,
    cgroupParent,
    id: (name) => `t${tag}-${name}`,
    spec,
    overlayRoot(id) {
      const base = join(dir, 'overlays', id);
      for (const d of ['root', 'upper', 'work']) mkdirSync(join(base, d), { recursive: true });
      return { rootfs: join(base, 'root'), rootfsOverlay: { lowerdirs: [rootfs], upperdir: join(base, 'upper'), workdir: join(base, 'work') } };
    },
    async run(id, args, overrides) {
      const s = spec(id, args, overrides);
      await runtime.create(s);
      try {
        await runtime.start(id);
        const exit = await runtime.wait(id);
        const log = readCriLog(s.logPath);
        return { exit, log, stdout: streamText(log, 'stdout') };
      } finally {
        await runtime.delete(id);
      }
    },
    async reopen() {
      const r = await open();
      reopened.push(r);
      return r;
    },
    async cleanup() {
      // Every step runs even if one fails (so a broken test leaves as little as possible); the first error is thrown.
      const errors: unknown[] = [];
      const attempt = async (step: () => unknown) => {
        try {
          await step();
        } catch (error) {
          errors.push(error);
        }
      };
      for (const id of await runtime.list().catch(() => [])) await attempt(() => runtime.delete(id));
      for (const r of [runtime, ...reopened]) r.close();
      for (const mount of cgroupMountPoints()) {
        for (const path of [join(mount, cgroupParent, '_conmon'), join(mount, cgroupParent)]) await attempt(() => removeCgroup(path));
      }
      rmSync(dir, { recursive: true, force: true });
      if (errors.length > 0) throw errors[0];
    },
  };
}

/**
 * Remove a cgroup directory once its last process has left. A conmon whose container was just deleted may still be
 * exiting inside `_conmon` (rmdir answers EBUSY then), most often on a loaded machine: wait for it, up to 10 s.
 */
async function removeCgroup(path: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!existsSync(path)) return;
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) {
        const procs = existsSync(join(path, 'cgroup.procs')) ? readFileSync(join(path, 'cgroup.procs'), 'utf8').trim().split('\n').join(' ') : '';
        throw Object.assign(error as Error, { message: `${(error as Error).message} (processes still in it: ${procs || 'none'})` });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
