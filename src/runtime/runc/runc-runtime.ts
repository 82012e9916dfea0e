/**
 * The {@link Runtime} on runc, each container under its own conmon so that it outlives the agent. The same class
 * drives gVisor's runsc, which takes runc's commands: an {@link OciRuntimeFlavour} says what differs.
 *
 * ```
 *             create()                 start()                 process exits / kill()
 *   (none) ─────────────▶ created ──────────────▶ running ─────────────────────────────▶ stopped
 *             bundle,        │                                                             ▲
 *             conmon,        └──────────── kill() (conmon reports 128+signal) ─────────────┘
 *             runc create
 *   delete(): from any state (SIGKILL first if needed) ──▶ (none): no runc state, bundle, exit file or cgroup
 * ```
 *
 * No state lives only in memory: every answer is derived from runc's state and the files conmon writes
 * under the state directory (see container-files.ts), so a new instance in a new process (an agent
 * restarted after kill -9) sees the same containers, running or exited while it was away.
 */
import { randomBytes } from 'node:crypto';
import { access, constants as fsConstants, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ContainerCreateError,
  ContainerExistsError,
  ContainerNotFoundError,
  ContainerStartError,
  InvalidContainerSpecError,
  RuntimeError,
} from '../errors.js';
import type { ContainerSpec, ContainerState, ContainerStats, ExitStatus, Runtime, TaskCgroup } from '../runtime.js';
import { readProcDetails } from './cgroup-stats.js';
import { HostCgroups } from './cgroups.js';
import { taskCgroupOf } from './task-cgroup.js';
import type { SpawnFn } from '../../process/spawn-helper.js';
import { holdConmon } from './conmon.js';
import {
  conmonAlive,
  conmonIdentity,
  containerFiles,
  ProcessProbe,
  fileExists,
  readBundleInfo,
  readExitFile,
  readPidFile,
  stateLayout,
  type BundleInfo,
  type ContainerFiles,
  type StateLayout,
} from './container-files.js';
import { ExitWatcher } from './exit-watcher.js';
import { DEFAULT_INIT_BINARY, DEFAULT_SECCOMP_PROFILE, loadHostSpecOptions } from './host-spec-options.js';
import { serializeOciSpec, type OciSpec } from './oci-spec.js';
import { RUNC, type OciRuntimeFlavour } from './oci-runtime.js';
import { RuncCli } from './runc-cli.js';
import { toOciSpec, validateContainerId, type OciSpecOptions } from './to-oci-spec.js';

/** How to run containers: where state lives, which binaries, which defaults. */
export interface RuncRuntimeOptions {
  /** Everything the runtime keeps: runc's root, bundles, exit and pid files. Kept across agent restarts. */
  readonly stateDir: string;
  /** Which OCI runtime: runc by default, or one that takes runc's commands (gVisor's runsc, see runtime/runsc/). */
  readonly flavour?: OciRuntimeFlavour;
  /** The OCI runtime's binary (the flavour's default path by default). */
  readonly runcPath?: string;
  readonly conmonPath?: string;
  /** A Docker-format seccomp profile for unprivileged containers; null for none (and ignored unless the flavour applies seccomp). */
  readonly seccompProfile?: string | null;
  /** Static init for containers that ask for one (ECS initProcessEnabled). */
  readonly initBinary?: string;
  /** Parent of the containers' cgroups in every hierarchy. */
  readonly cgroupParent?: string;
  /** How long `runc create` may take before create() gives up. */
  readonly createTimeoutMs?: number;
  /** How long delete() waits for a killed container, and then for its conmon, to go. */
  readonly stopTimeoutMs?: number;
  /** How conmon is started: Node's spawn by default; the agent passes its spawn helper's. */
  readonly spawn?: SpawnFn;
}

/** Exit code reported when the real one cannot be known (the monitor died first), as containerd does. */
export const UNKNOWN_EXIT_CODE = 255;

/** Containers through runc under conmon; open one with {@link RuncRuntime.open}. */
export class RuncRuntime implements Runtime {
  private readonly runc: RuncCli;
  private readonly exits: ExitWatcher;
  private readonly waits = new Map<string, Promise<ExitStatus>>();

  private constructor(
    private readonly options: Required<Omit<RuncRuntimeOptions, 'seccompProfile' | 'initBinary' | 'spawn'>> & Pick<RuncRuntimeOptions, 'spawn'>,
    private readonly layout: StateLayout,
    private readonly specOptions: OciSpecOptions,
    private readonly cgroups: HostCgroups,
  ) {
    this.runc = new RuncCli(options.runcPath, layout.runcRoot, options.flavour);
    this.exits = new ExitWatcher(layout.exitDir);
  }

  /** Prepare the state directory and read what the host contributes (cgroups, seccomp profile, init). */
  static async open(options: RuncRuntimeOptions): Promise<RuncRuntime> {
    const flavour = options.flavour ?? RUNC;
    const full = {
      stateDir: options.stateDir,
      flavour,
      runcPath: options.runcPath ?? flavour.defaultPath,
      conmonPath: options.conmonPath ?? '/usr/bin/conmon',
      cgroupParent: options.cgroupParent ?? '/berth',
      createTimeoutMs: options.createTimeoutMs ?? 60_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
      ...(options.spawn ? { spawn: options.spawn } : {}),
    };
    if (!full.stateDir.startsWith('/')) throw new RuntimeError(`stateDir must be an absolute path, got ${JSON.stringify(full.stateDir)}`);
    for (const [tool, path] of [[flavour.name, full.runcPath], ['conmon', full.conmonPath]] as const) {
      await access(path, fsConstants.X_OK).catch(() => {
        throw new RuntimeError(`${tool} is not executable at ${path} (install Debian's ${tool} package or configure ${tool === 'conmon' ? 'conmonPath' : 'runcPath'})`);
      });
    }
    const layout = stateLayout(full.stateDir);
    await Promise.all([layout.runcRoot, layout.exitDir, layout.containersDir].map((d) => mkdir(d, { recursive: true, mode: 0o700 })));
    const cgroups = await HostCgroups.discover();
    const specOptions = await loadHostSpecOptions(
      {
        cgroupParent: full.cgroupParent,
        seccompProfile: !flavour.seccomp ? null : options.seccompProfile === undefined ? DEFAULT_SECCOMP_PROFILE : options.seccompProfile,
        initBinary: options.initBinary ?? DEFAULT_INIT_BINARY,
      },
      cgroups,
    );
    return new RuncRuntime(full, layout, specOptions, cgroups);
  }

  async create(spec: ContainerSpec): Promise<void> {
    const prepared = await this.validate(spec);
    await this.make(spec.id, spec.logPath, Promise.resolve(prepared));
  }

  async createEarly(early: { readonly id: string; readonly logPath: string }, spec: Promise<ContainerSpec>): Promise<void> {
    validateContainerId(early.id);
    checkLogPath(early.logPath);
    const oci = spec.then((s) => {
      if (s.id !== early.id || s.logPath !== early.logPath) {
        throw new InvalidContainerSpecError(`the spec (id ${s.id}, logPath ${s.logPath}) is not the one begun (id ${early.id}, logPath ${early.logPath})`);
      }
      return this.validate(s);
    });
    await this.make(early.id, early.logPath, oci);
  }

  get mountsRootfsOverlay(): boolean {
    return this.options.flavour.overlayRoot;
  }

  /** The OCI spec of a container spec, once the spec is checked (its rootfs a directory, its log path absolute). */
  private async validate(spec: ContainerSpec): Promise<Prepared> {
    if (spec.rootfsOverlay && !this.options.flavour.overlayRoot) {
      throw new InvalidContainerSpecError(`rootfsOverlay: ${this.options.flavour.name} does not mount the container's root itself; mount it and give its path as rootfs`);
    }
    const oci = this.options.flavour.adaptSpec(toOciSpec(spec, this.specOptions), spec);
    const rootfs = await stat(spec.rootfs).catch(() => undefined);
    if (!rootfs?.isDirectory()) throw new InvalidContainerSpecError(`rootfs ${spec.rootfs} is not a directory`);
    checkLogPath(spec.logPath);
    return { oci, secretEnvNames: spec.secretEnvNames ?? [], ...(spec.taskCgroup ? { taskCgroup: spec.taskCgroup } : {}) };
  }

  /**
   * The bundle directory, then conmon held on its start pipe while `oci` is still being made (see
   * holdConmon), then config.json and `runc create`. On any failure nothing is left; `oci`'s own error
   * is thrown as it is.
   */
  private async make(id: string, logPath: string, oci: Promise<Prepared>): Promise<void> {
    // Whatever happens before it is awaited, its rejection is handled below.
    oci.catch(() => {});
    const files = this.files(id);
    try {
      await mkdir(files.dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ContainerExistsError(id);
      throw error;
    }
    let specFailed = false;
    try {
      await mkdir(dirname(logPath), { recursive: true });
      if (this.options.flavour.rootPerContainer) await mkdir(this.runc.rootOf(id), { recursive: true, mode: 0o700 });
      const conmon = holdConmon(
        {
          conmonPath: this.options.conmonPath,
          runcPath: this.options.runcPath,
          runcRoot: this.runc.rootOf(id),
          runtimeArgs: this.options.flavour.globalArgs,
          id,
          bundleDir: files.dir,
          persistDir: files.dir,
          exitDir: this.layout.exitDir,
          containerPidFile: files.pidFile,
          conmonPidFile: files.conmonPidFile,
          logPath,
          // The held pid on disk: an agent killed while conmon is held leaves it for delete() to kill, since
          // conmon goes on at end of file on its start pipe and has no conmon.pid yet.
          beforeStart: async (pid) => {
            await Promise.all([writeFile(files.heldConmonPidFile, String(pid)), this.cgroups.adopt(this.monitorCgroup, pid)]);
          },
          ...(this.options.spawn ? { spawn: this.options.spawn } : {}),
        },
        this.options.createTimeoutMs,
      );
      let config: Prepared;
      try {
        config = await oci;
      } catch (error) {
        specFailed = true;
        conmon.abort(error as Error);
        throw error;
      }
      try {
        // The task's cgroup and its limits before runc makes the container's below it.
        if (config.taskCgroup) await this.cgroups.ensureTaskCgroup(`${this.specOptions.cgroupParent}/${config.taskCgroup.name}`, config.taskCgroup);
        await writeFile(files.config, serializeOciSpec(config.oci));
      } catch (error) {
        conmon.abort(error as Error);
        throw error;
      }
      await conmon.release();
      // runc has read the secrets (they are in the container's environment now, and runc keeps no copy in its
      // state): the bundle keeps the rest of the spec, for recovery, without them.
      if (config.secretEnvNames.length) await writeFile(files.config, serializeOciSpec(withoutSecrets(config.oci, config.secretEnvNames)));
    } catch (error) {
      // Leave nothing behind: runc's state, conmon, the bundle, cgroups.
      await this.delete(id).catch(() => {});
      if (specFailed || error instanceof RuntimeError) throw error;
      throw new ContainerCreateError(`creating container ${id} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async start(id: string): Promise<{ pid: number }> {
    validateContainerId(id);
    const files = this.files(id);
    try {
      await this.runc.start(id);
    } catch (error) {
      if (!(await fileExists(files.dir))) throw new ContainerNotFoundError(id);
      throw new ContainerStartError(`starting container ${id} failed: ${(error as Error).message}`, { cause: error });
    }
    const pid = await readPidFile(files.pidFile);
    if (pid === undefined) throw new ContainerStartError(`container ${id} started but runc wrote no pid file`);
    return { pid };
  }

  async exec(id: string, args: readonly string[], options: { readonly timeoutMs: number }): Promise<{ exitCode: number; timedOut: boolean }> {
    validateContainerId(id);
    const files = this.files(id);
    const bundle = await this.bundle(id);
    if (!bundle) throw new ContainerNotFoundError(id);
    if (args.length === 0) throw new RuntimeError('exec needs a command');
    return this.runc.exec(id, args, options.timeoutMs, join(files.dir, `exec-${randomBytes(6).toString('hex')}.pid`), bundle.user);
  }

  async execCommandLine(id: string, args: readonly string[], options: { readonly tty: boolean; readonly pidFile: string }): Promise<{ file: string; args: string[]; hostPid: boolean }> {
    validateContainerId(id);
    const bundle = await this.bundle(id);
    if (!bundle) throw new ContainerNotFoundError(id);
    if (args.length === 0) throw new RuntimeError('exec needs a command');
    return { file: this.runc.runcPath, args: this.runc.execArgs(id, args, options.pidFile, bundle.user, options.tty), hostPid: this.options.flavour.execPid !== 'sandbox' };
  }

  async kill(id: string, signal: NodeJS.Signals): Promise<void> {
    validateContainerId(id);
    const name = String(signal).toUpperCase().replace(/^(SIG)?/, 'SIG');
    if (!(name in constants.signals)) throw new RuntimeError(`unknown signal ${JSON.stringify(signal)}`);
    if (!(await fileExists(this.files(id).dir))) throw new ContainerNotFoundError(id);
    await this.runc.kill(id, name);
  }

  wait(id: string): Promise<ExitStatus> {
    validateContainerId(id);
    let waiting = this.waits.get(id);
    if (!waiting) {
      const monitor: MonitorProbe = {};
      waiting = this.exits
        .when(id, () => this.exitStatus(id, monitor))
        .finally(() => {
          this.waits.delete(id);
          void monitor.probe?.close();
        });
      this.waits.set(id, waiting);
    }
    return waiting;
  }

  async state(id: string): Promise<ContainerState | undefined> {
    validateContainerId(id);
    const files = this.files(id);
    const bundle = await this.bundle(id);
    if (!bundle) return undefined;
    const labels = bundle.labels;
    const exited = await this.exitFromFile(id, files, bundle);
    if (exited) return { status: 'stopped', exit: exited, labels };
    const runc = await this.runc.state(id);
    if (runc?.status === 'running' || runc?.status === 'paused') return { status: 'running', pid: runc.pid, labels };
    if (runc?.status === 'created' || runc?.status === 'creating') {
      // A start cut short by a crash leaves a running container that runc still calls created (runc-cli.ts settleStart).
      if (runc.status === 'created' && this.options.flavour.execFifo && (await this.runc.settleStart(id, runc.pid))) return { status: 'running', pid: runc.pid, labels };
      return { status: 'created', ...(runc.pid ? { pid: runc.pid } : {}), labels };
    }
    // Stopped (or never created) without an exit file: conmon is about to write it, or died before it could.
    const exit = await withDeadline(this.wait(id), 2_000);
    return { status: 'stopped', ...(exit ? { exit } : {}), labels };
  }

  async delete(id: string): Promise<void> {
    validateContainerId(id);
    const files = this.files(id);
    const deadline = Date.now() + this.options.stopTimeoutMs;
    const bundle = await this.bundle(id).catch(() => undefined);
    const runc = await this.runc.state(id).catch(() => undefined);
    if (runc && runc.status !== 'stopped' && (await this.runc.kill(id, 'SIGKILL'))) {
      // Let conmon see the exit and record it before runc's state goes (anyone waiting gets the exit).
      await withDeadline(this.wait(id), deadline - Date.now()).catch(() => undefined);
    }
    await this.killHeldConmon(id, files);
    await this.runc.deleteForce(id);
    if (this.options.flavour.rootPerContainer) await rm(this.runc.rootOf(id), { recursive: true, force: true });
    await this.stopConmon(id, files, deadline);
    await Promise.all([rm(files.dir, { recursive: true, force: true }), rm(files.exitFile, { force: true })]);
    const cgroupsPath = bundle?.cgroupsPath || `${this.specOptions.cgroupParent}/${id}`;
    await this.cgroups.remove(cgroupsPath, deadline);
    // The task's cgroup goes with its last container.
    const taskCgroup = taskCgroupOf(cgroupsPath, this.specOptions.cgroupParent);
    if (taskCgroup) await this.cgroups.removeTaskCgroupIfEmpty(taskCgroup);
  }

  async list(): Promise<string[]> {
    const entries = await readdir(this.layout.containersDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async stats(id: string): Promise<ContainerStats | undefined> {
    validateContainerId(id);
    const bundle = await this.bundle(id);
    if (!bundle) return undefined;
    // The container's pid (for its network counters) from the pid file runc wrote at create, while no exit is
    // recorded: not `runc state`, a process spawned per container per reading (the metrics publisher reads
    // every container each minute), which cost more than the reading itself.
    const files = this.files(id);
    const pid = (await fileExists(files.exitFile)) ? undefined : await readPidFile(files.pidFile);
    const [cgroup, proc] = await Promise.all([this.cgroups.stats(bundle.cgroupsPath), readProcDetails(pid)]);
    return cgroup ? { ...cgroup, ...proc } : undefined;
  }

  /** Stop watching for exits (pending waits stay pending). The containers keep running. */
  close(): void {
    this.exits.close();
  }

  /**
   * Where conmon processes live, outside the agent's cgroup (see HostCgroups.adopt). Named with a leading
   * `_`, which no container id can have.
   */
  private get monitorCgroup(): string {
    return `${this.specOptions.cgroupParent}/_conmon`;
  }

  private files(id: string): ContainerFiles {
    return containerFiles(this.layout, id);
  }

  /** Read each time, not cached: another runtime instance on the same state directory may have deleted it. */
  private bundle(id: string): Promise<BundleInfo | undefined> {
    return readBundleInfo(this.files(id));
  }

  private async exitFromFile(id: string, files: ContainerFiles, bundle: BundleInfo | undefined): Promise<ExitStatus | undefined> {
    const exit = await readExitFile(files);
    if (!exit) return undefined;
    return { exitCode: exit.code < 0 ? UNKNOWN_EXIT_CODE : exit.code, oomKilled: await this.oomKilled(files, bundle), exitedAt: Math.round(exit.writtenAt) };
  }

  /** conmon's oom file, or (if conmon missed the event) the cgroup's own OOM kill count. */
  private async oomKilled(files: ContainerFiles, bundle: BundleInfo | undefined): Promise<boolean> {
    if (await fileExists(files.oomFile)) return true;
    return bundle ? this.cgroups.oomKilled(bundle.cgroupsPath) : false;
  }

  /**
   * The exit status once known; undefined while the container may still run. Run for every waited container
   * on each exit-directory event and every recheck, so the common answer (no exit file, its conmon alive) costs
   * two calls: a stat of the exit file and a read of conmon's /proc stat through a descriptor kept open, its
   * identity learnt on the first check (`monitor`). The bundle (config.json) is read only once the container has exited or lost its monitor.
   */
  private async exitStatus(id: string, monitor: MonitorProbe = {}): Promise<ExitStatus | undefined> {
    const files = this.files(id);
    if (monitor.probe && !(await fileExists(files.exitFile)) && (await monitor.probe.alive())) return undefined;
    const bundle = await this.bundle(id);
    if (!bundle) throw new ContainerNotFoundError(id);
    const exited = await this.exitFromFile(id, files, bundle);
    if (exited) return exited;
    const identity = await conmonIdentity(files, id);
    if (identity) {
      if (monitor.probe?.identity.startTicks !== identity.startTicks || monitor.probe.identity.pid !== identity.pid) {
        await monitor.probe?.close();
        monitor.probe = new ProcessProbe(identity);
      }
      return undefined;
    }
    // No monitor left to write the exit: decide from runc (and the exit file once more, for the race).
    const runc = await this.runc.state(id);
    if (runc && runc.status !== 'stopped') return undefined;
    return (await this.exitFromFile(id, files, bundle)) ?? { exitCode: UNKNOWN_EXIT_CODE, oomKilled: await this.oomKilled(files, bundle), exitedAt: Date.now() };
  }

  /** A conmon still held on its start pipe by a create cut short (agent killed) must not go on later. */
  private async killHeldConmon(id: string, files: ContainerFiles): Promise<void> {
    const pid = await conmonAlive(files, id, files.heldConmonPidFile);
    if (pid === undefined) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Wait for the container's conmon to exit (it does once the container is gone); SIGKILL it at the deadline. */
  private async stopConmon(id: string, files: ContainerFiles, deadline: number): Promise<void> {
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      const pid = await conmonAlive(files, id);
      if (pid === undefined) return;
      if (Date.now() > deadline) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
        return;
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

function checkLogPath(logPath: string | undefined): void {
  if (!logPath?.startsWith('/')) throw new InvalidContainerSpecError(`logPath must be an absolute path, got ${JSON.stringify(logPath)}`);
}

/** The promise's value, or undefined if it has not settled within `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, ms))));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What one wait has learnt of the container's conmon (see exitStatus). */
interface MonitorProbe {
  probe?: ProcessProbe;
}

/** A checked spec ready for runc, and the names of its environment whose values are secret. */
interface Prepared {
  readonly oci: OciSpec;
  readonly secretEnvNames: readonly string[];
  readonly taskCgroup?: TaskCgroup;
}

/** `oci` with the values of the named environment variables left out (`NAME=` stays, so the names show). */
export function withoutSecrets(oci: OciSpec, names: readonly string[]): OciSpec {
  const secret = new Set(names);
  const env = oci.process.env?.map((kv) => {
    const name = kv.slice(0, kv.indexOf('=') === -1 ? kv.length : kv.indexOf('='));
    return secret.has(name) ? `${name}=` : kv;
  });
  return { ...oci, process: { ...oci.process, ...(env ? { env } : {}) } };
}
