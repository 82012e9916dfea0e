import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ImageService, LocalImage, PullOptions, RegistryCredentials } from '../../image/image-service.js';
import { PullError } from '../../image/image-service.js';
import type { AttachHooks, Attachment, AttachRequest, NetworkService } from '../../network/network.js';
import { HostPortAllocator } from '../../network/port-allocator.js';
import type { ContainerSpec, ContainerState, ExitStatus, Runtime } from '../../runtime/runtime.js';
import { ContainerCreateError, ContainerExistsError, ContainerNotFoundError, ContainerStartError, InvalidContainerSpecError, RuntimeError } from '../../runtime/errors.js';
import type { Volume } from '@aws-sdk/client-ecs';
import type { ContainerFiles, EngineDeps, EngineSettings, EtcSettings, HostsEntry } from '../task-engine/deps.js';
import type { VolumeStore } from '../task-engine/volumes.js';
import type { TaskState } from '../task-engine/task-state.js';
import type { ManualClock } from './manual-clock.js';

/**
 * A runtime that runs nothing: tests decide when containers exit. For task-engine logic only. It behaves as
 * the runc runtime does where the engine can tell (runtime.conformance.ts holds both to it): errors for
 * missing and duplicate containers, 137 for SIGKILL, 143 for SIGTERM. One command is understood:
 * `sh -c 'exit N'` exits with N as soon as it starts (and, run by exec, returns N).
 */
export class FakeRuntime implements Runtime {
  readonly signals: { id: string; signal: string }[] = [];
  /** Containers that ignore SIGTERM (like a process that traps it). */
  readonly ignoreTerm = new Set<string>();
  failCreate?: string;

  /**
   * `containers`: what the host holds, shared by a reopened runtime as runc's state on disk is.
   * `mountsRootfsOverlay`: whether specs with a rootfsOverlay are taken (as runc does) or refused (as runsc does).
   */
  constructor(
    readonly containers: Map<string, FakeContainer> = new Map(),
    public mountsRootfsOverlay = false,
  ) {}

  /** A new runtime on the same host, as a restarted agent opens. */
  reopen(): FakeRuntime {
    return new FakeRuntime(this.containers, this.mountsRootfsOverlay);
  }

  async create(spec: ContainerSpec): Promise<void> {
    if (spec.rootfsOverlay && !this.mountsRootfsOverlay) throw new InvalidContainerSpecError('rootfsOverlay: this runtime does not mount the root itself');
    if (this.failCreate) throw new ContainerCreateError(this.failCreate);
    if (this.containers.has(spec.id)) throw new ContainerExistsError(spec.id);
    this.containers.set(spec.id, { spec, status: 'created', waiters: [] });
  }
  async start(id: string) {
    const c = this.get(id);
    if (c.status !== 'created') throw new ContainerStartError(`container ${id} is ${c.status}, not created`);
    c.status = 'running';
    const code = exitCommand(c.spec.process.args);
    if (code !== undefined) queueMicrotask(() => this.exit(id, code));
    return { pid: 1 };
  }
  async kill(id: string, signal: string): Promise<void> {
    const c = this.get(id);
    this.signals.push({ id, signal });
    if (c.status === 'stopped') return;
    if (signal === 'SIGTERM' && this.ignoreTerm.has(id)) return;
    this.exit(id, signal === 'SIGKILL' ? 137 : 143);
  }
  exit(id: string, exitCode: number, oomKilled = false): void {
    const c = this.get(id);
    if (c.status === 'stopped') return;
    c.status = 'stopped';
    c.exit = { exitCode, oomKilled, exitedAt: Date.now() };
    for (const w of c.waiters.splice(0)) w.resolve(c.exit);
  }
  wait(id: string): Promise<ExitStatus> {
    const c = this.containers.get(id);
    if (!c) return Promise.reject(new ContainerNotFoundError(id));
    return c.exit ? Promise.resolve(c.exit) : new Promise((resolve, reject) => c.waiters.push({ resolve, reject }));
  }
  async state(id: string): Promise<ContainerState | undefined> {
    const c = this.containers.get(id);
    return c && { status: c.status, ...(c.exit ? { exit: c.exit } : {}), labels: c.spec.labels };
  }
  async delete(id: string): Promise<void> {
    if (!this.containers.has(id)) return;
    // As runc's delete: a live container is killed first, and whoever waits gets its exit.
    this.exit(id, 137);
    this.containers.delete(id);
  }
  /** Health checks: the next exit code per container (default 0), and every command run. */
  readonly execResults = new Map<string, number>();
  readonly execs: { id: string; args: readonly string[] }[] = [];
  async exec(id: string, args: readonly string[]) {
    const c = this.get(id);
    this.execs.push({ id, args });
    if (c.status !== 'running') throw new RuntimeError(`container ${id} is not running`);
    return { exitCode: this.execResults.get(id) ?? exitCommand(args) ?? 0, timedOut: false };
  }
  async list(): Promise<string[]> {
    return [...this.containers.keys()].sort();
  }
  private get(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new ContainerNotFoundError(id);
    return c;
  }
}

export interface FakeContainer {
  spec: ContainerSpec;
  status: 'created' | 'running' | 'stopped';
  exit?: ExitStatus;
  waiters: { resolve(e: ExitStatus): void; reject(err: unknown): void }[];
}

/** N for `sh -c 'exit N'`. */
function exitCommand(args: readonly string[]): number | undefined {
  const m = args.length === 3 && args[0] === 'sh' && args[1] === '-c' ? /^exit (\d+)$/.exec(args[2]!) : null;
  return m ? Number(m[1]) : undefined;
}

const FAKE_USERS = { passwd: 'root:x:0:0:root:/root:/bin/sh\n', group: 'root:x:0:\n' };

export class FakeImages implements ImageService {
  readonly available = new Map<string, LocalImage>();
  readonly cached = new Map<string, LocalImage>();
  readonly rootfs = new Set<string>();
  /** Root filesystems mounted now (createRootfs mounts, unmountRootfs and removeRootfs unmount). */
  readonly mounted = new Set<string>();
  pulls = 0;

  add(reference: string, config: LocalImage['config'] = { Cmd: ['sh'] }, id = `sha256:${'b'.repeat(64)}`): LocalImage {
    const image: LocalImage = { reference, manifestDigest: `sha256:${'a'.repeat(64)}`, id, config, size: 1 };
    this.available.set(reference, image);
    return image;
  }
  /** What each pull's auth callback gave for the reference's first component (pulls given one). */
  readonly auths: (RegistryCredentials | undefined)[] = [];
  async pull(reference: string, options: PullOptions = {}): Promise<LocalImage> {
    this.pulls++;
    if (options.auth) {
      try {
        this.auths.push(await options.auth(reference.split('/')[0]!));
      } catch (e) {
        // As the real image service does: the callback's error becomes the cause of a PullError.
        throw new PullError(`failed to pull ${reference}: ${(e as Error).message}`, { cause: e });
      }
    }
    const image = this.available.get(reference);
    if (!image) throw new PullError(`manifest for ${reference} not found: manifest unknown`);
    this.cached.set(reference, image);
    return image;
  }
  async find(reference: string) {
    return this.cached.get(reference);
  }
  /** A real directory with the /etc files an image would have, so the agent's file handling works on it. */
  async createRootfs(_image: LocalImage, id: string) {
    this.rootfs.add(id);
    this.mounted.add(id);
    const dir = join(tmpdir(), 'berth-fake-rootfs', id);
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
    return dir;
  }
  /** Left for the runtime to mount: a root directory and an overlay of fake layer paths; nothing mounted here. */
  async prepareRootfs(_image: LocalImage, id: string) {
    this.rootfs.add(id);
    const dir = join(tmpdir(), 'berth-fake-rootfs', id);
    mkdirSync(dir, { recursive: true });
    return { path: dir, overlay: { lowerdirs: ['/fake/layers/1'], upperdir: `/fake/containers/${id}/upper`, workdir: `/fake/containers/${id}/work` } };
  }
  async unmountRootfs(id: string) {
    this.mounted.delete(id);
  }
  async removeRootfs(id: string) {
    this.mounted.delete(id);
    this.rootfs.delete(id);
    rmSync(join(tmpdir(), 'berth-fake-rootfs', id), { recursive: true, force: true });
  }
  /** Forgets cached images whose ids are not kept, and says which. */
  async prune(keep: ReadonlySet<string>) {
    const removed: string[] = [];
    for (const [ref, image] of this.cached) {
      if (!keep.has(image.id)) {
        this.cached.delete(ref);
        removed.push(image.id);
      }
    }
    return removed;
  }
}

export class FakeNetwork implements NetworkService {
  readonly attached = new Map<string, AttachRequest>();
  private next = 2;
  failAttach?: string;
  async attach(request: AttachRequest, hooks: AttachHooks = {}): Promise<Attachment> {
    if (this.failAttach) throw new Error(this.failAttach);
    this.attached.set(request.id, request);
    hooks.onNamespace?.(`/var/run/netns/fake-${request.id}`);
    if (request.mode === 'none') return { netnsPath: `/var/run/netns/fake-${request.id}` };
    return { netnsPath: `/var/run/netns/fake-${request.id}`, ipv4Address: `172.30.0.${this.next++}`, macAddress: '0a:58:ac:1e:00:02' };
  }
  async detach(id: string) {
    this.attached.delete(id);
  }
  async list() {
    return [...this.attached.keys()];
  }
}

/** Volumes as directory names only: which were resolved for which task, and which tasks' were removed. */
export class FakeVolumes implements VolumeStore {
  readonly resolved: { taskId: string; name: string }[] = [];
  readonly removed: string[] = [];
  async resolve(taskId: string, volume: Volume): Promise<string> {
    this.resolved.push({ taskId, name: volume.name! });
    if (volume.host?.sourcePath) return volume.host.sourcePath;
    return volume.dockerVolumeConfiguration?.scope === 'shared' ? `/fake/volumes/shared/${volume.name}` : `/fake/volumes/tasks/${taskId}/${volume.name}`;
  }
  async removeTaskVolumes(taskId: string): Promise<void> {
    this.removed.push(taskId);
  }
}

/** Container /etc files kept in memory: what each container's /etc/hosts says, and with what it was prepared. */
export class FakeContainerFiles implements ContainerFiles {
  readonly hosts = new Map<string, readonly HostsEntry[]>();
  readonly etc = new Map<string, EtcSettings>();
  logPath(id: string) {
    return `/fake/${id}.log`;
  }
  async prepare(id: string, etc: EtcSettings) {
    this.etc.set(id, etc);
    this.hosts.set(id, etc.hosts ?? []);
    return { logPath: this.logPath(id), hosts: `/fake/${id}/hosts`, resolvConf: `/fake/${id}/resolv.conf`, hostname: `/fake/${id}/hostname` };
  }
  async writeHosts(id: string, entries: readonly HostsEntry[]) {
    this.hosts.set(id, entries);
  }
  /** Images whose user database was read (as the real store keeps them once read). */
  readonly usersRead = new Set<string>();
  async userDatabase(imageId: string) {
    this.usersRead.add(imageId);
    return FAKE_USERS;
  }
  knownUserDatabase(imageId: string) {
    return this.usersRead.has(imageId) ? FAKE_USERS : undefined;
  }
  async remove(id: string) {
    this.hosts.delete(id);
  }
}

export interface FakeWorld {
  readonly deps: EngineDeps;
  readonly runtime: FakeRuntime;
  readonly images: FakeImages;
  readonly network: FakeNetwork;
  readonly volumes: FakeVolumes;
  readonly files: FakeContainerFiles;
  readonly ports: HostPortAllocator;
  readonly saved: Map<string, TaskState>;
  /** Every state reported, in order (deep copies). */
  readonly reports: TaskState[];
}

/** `clock`: time the test moves by hand (deadlines, cleanup, health checks); else the wall clock. */
export function fakeWorld(settings: Partial<EngineSettings> = {}, clock?: ManualClock): FakeWorld {
  const runtime = new FakeRuntime();
  const images = new FakeImages();
  const network = new FakeNetwork();
  const volumes = new FakeVolumes();
  const files = new FakeContainerFiles();
  // The real allocator, blind to the host's own listening sockets so tests are deterministic.
  const ports = new HostPortAllocator({ boundPorts: () => new Set() });
  const saved = new Map<string, TaskState>();
  const reports: TaskState[] = [];
  const deps: EngineDeps = {
    runtime,
    images,
    network,
    ports,
    containerFiles: files,
    volumes,
    settings: { cluster: 'default', defaultStopTimeoutMs: 30_000, defaultStartTimeoutMs: 180_000, taskCleanupWaitMs: 60_000, imagePullBehavior: 'default', bindIp: '0.0.0.0', ...settings },
    persist: async (s) => void saved.set(s.arn, structuredClone(s)),
    forget: async (arn) => void saved.delete(arn),
    report: (s) => void reports.push(structuredClone(s)),
    log: pino({ level: 'silent' }),
    now: clock?.now ?? Date.now,
    ...(clock ? { timers: clock } : {}),
  };
  return { deps, runtime, images, network, volumes, files, ports, saved, reports };
}
