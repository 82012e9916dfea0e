import { posix } from 'node:path';
import { InvalidContainerSpecError } from '../errors.js';
import { overlayOptionString } from '../overlay-options.js';
import { CPU_PERIOD_MICROS, type ContainerSpec, type Mount, type RootfsOverlay } from '../runtime.js';
import { resolveCapabilities, type Capability } from './capabilities.js';
import {
  DEFAULT_DEVICE_RULES,
  DEFAULT_SHM_BYTES,
  MASKED_PATHS,
  MIN_CPU_SHARES,
  PRIVILEGED_DEVICE_RULES,
  READONLY_PATHS,
  defaultMounts,
} from './docker-defaults.js';
import type { OciMount, OciNamespace, OciResources, OciSpec } from './oci-spec.js';
import { toOciRlimits } from './rlimits.js';
import { seccompForTarget, type SeccompProfile } from './seccomp.js';

/** What the host contributes to a container's OCI spec. */
export interface OciSpecOptions {
  /** Parent of every container's cgroup, e.g. `/berth`: the container's is `/berth/<id>` in each hierarchy. */
  readonly cgroupParent: string;
  /** Applied to unprivileged containers, filtered for their capabilities, the CPU and the kernel. */
  readonly seccomp?: {
    readonly profile: SeccompProfile;
    /** Go's architecture name (amd64, arm64). */
    readonly arch: string;
    readonly kernel: { readonly major: number; readonly minor: number };
    /** Sub-architectures the kernel cannot run (left out of the filter, see SeccompTarget). */
    readonly unsupportedArches?: readonly string[];
  };
  /** Host path of a static init (tini-static), mounted at {@link INIT_PATH} when the spec asks for one. */
  readonly initBinary?: string;
  /** What privileged containers and `ALL` get: the capabilities the agent itself holds (default: all). */
  readonly availableCapabilities?: readonly Capability[];
  /** The host accounts swap (memory.memsw.*): memory+swap is then limited to twice the memory limit, as Docker does. */
  readonly swapAccounting?: boolean;
}

/** Where the init binary appears inside the container: on the /dev tmpfs, so nothing is added to the rootfs. */
export const INIT_PATH = '/dev/init';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const HOSTNAME_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/;
const SYSCTL_PATTERN = /^[A-Za-z0-9_]+([./][A-Za-z0-9_-]+)+$/;
const MAX_ID = 2 ** 32 - 2;

/** Throws {@link InvalidContainerSpecError} unless `id` is usable as a runc id and a file name. */
export function validateContainerId(id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new InvalidContainerSpecError(`id "${String(id)}" must be 1-128 letters, digits, '_', '.' or '-', starting with a letter or digit`);
  }
}

function fail(message: string): never {
  throw new InvalidContainerSpecError(message);
}

const noNul = (value: string, field: string) => {
  if (typeof value !== 'string') fail(`${field} must be a string`);
  if (value.includes('\0')) fail(`${field} must not contain NUL characters`);
};

function absolutePath(value: string | undefined, field: string): string {
  if (typeof value !== 'string' || !value.startsWith('/')) fail(`${field} must be an absolute path, got ${JSON.stringify(value)}`);
  noNul(value, field);
  return value;
}

/** An absolute, normalised path inside the container other than `/`. */
function containerPath(value: string, field: string): string {
  const path = absolutePath(value, field);
  const normal = posix.normalize(path).replace(/\/+$/, '');
  if (normal === '' || normal.split('/').includes('..')) fail(`${field} must be a path below /, got ${JSON.stringify(value)}`);
  return normal;
}

function id32(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_ID) fail(`${field} must be an integer from 0 to ${MAX_ID}, got ${value}`);
  return value;
}

function positiveInteger(value: number | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value <= 0) fail(`${field} must be a positive integer, got ${value}`);
  return value;
}

function validateProcess(process: ContainerSpec['process']): void {
  if (!Array.isArray(process.args) || process.args.length === 0) fail('process.args must name the program to run');
  process.args.forEach((a, i) => noNul(a, `process.args[${i}]`));
  if (process.args[0] === '') fail('process.args[0] must not be empty');
  process.env.forEach((e, i) => {
    noNul(e, `process.env[${i}]`);
    if (e.indexOf('=') <= 0) fail(`process.env[${i}] must be NAME=value, got ${JSON.stringify(e)}`);
  });
  absolutePath(process.cwd, 'process.cwd');
  id32(process.uid, 'process.uid');
  id32(process.gid, 'process.gid');
  process.additionalGids?.forEach((g, i) => id32(g, `process.additionalGids[${i}]`));
}

/** Tmpfs options: Docker's nosuid,nodev,noexec unless the caller's options say otherwise (exec, suid, dev). */
function tmpfsOptions(mount: Mount): string[] {
  const given = mount.options ?? [];
  const defaults = ['nosuid', 'nodev', 'noexec'].filter((o) => !given.includes(o.slice(2)) && !given.includes(o));
  return [...defaults, ...given, ...(mount.readOnly ? ['ro'] : [])];
}

/**
 * The container's root as the first of its mounts: runc mounts it over `root.path` (its own bind of it) inside
 * the container's mount namespace, before the other mounts and the pivot, so they all land in the overlay.
 */
function overlayRootMount(overlay: RootfsOverlay): OciMount {
  const lowerdirs = overlay.lowerdirs.map((d, i) => absolutePath(d, `rootfsOverlay.lowerdirs[${i}]`));
  const upperdir = absolutePath(overlay.upperdir, 'rootfsOverlay.upperdir');
  const workdir = absolutePath(overlay.workdir, 'rootfsOverlay.workdir');
  try {
    overlayOptionString(lowerdirs, upperdir, workdir);
  } catch (error) {
    fail(`rootfsOverlay: ${(error as Error).message}`);
  }
  return { destination: '/', type: 'overlay', source: 'overlay', options: [`lowerdir=${lowerdirs.join(':')}`, `upperdir=${upperdir}`, `workdir=${workdir}`] };
}

function userMounts(spec: ContainerSpec): OciMount[] {
  const mounts: OciMount[] = [];
  const etc = spec.etcFiles ?? {};
  for (const [name, source] of [['hosts', etc.hosts], ['resolv.conf', etc.resolvConf], ['hostname', etc.hostname]] as const) {
    if (source === undefined) continue;
    mounts.push({ destination: `/etc/${name}`, type: 'bind', source: absolutePath(source, `etcFiles.${name}`), options: ['rbind', 'rprivate', 'ro'] });
  }
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const destination = containerPath(m.destination, `${field}.destination`);
    (m.options ?? []).forEach((o, j) => {
      noNul(o, `${field}.options[${j}]`);
      if (o.includes(',')) fail(`${field}.options[${j}] must be one option, got ${JSON.stringify(o)}`);
    });
    if (m.type === 'bind') {
      mounts.push({ destination, type: 'bind', source: absolutePath(m.source, `${field}.source`), options: ['rbind', 'rprivate', m.readOnly ? 'ro' : 'rw', ...(m.options ?? [])] });
    } else if (m.type === 'tmpfs') {
      mounts.push({ destination, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(m) });
    } else {
      fail(`${field}.type must be "bind" or "tmpfs", got ${JSON.stringify((m as { type: unknown }).type)}`);
    }
  });
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.destination)) fail(`two mounts have the destination ${m.destination}`);
    seen.add(m.destination);
  }
  // Parents before children, so that a mount inside another one is not hidden by it (as Docker sorts them).
  return mounts.sort((a, b) => a.destination.split('/').length - b.destination.split('/').length);
}

function namespaces(network: string | undefined): OciNamespace[] {
  const ns: OciNamespace[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (network === undefined) ns.push({ type: 'network' });
  else if (network !== 'host') ns.push({ type: 'network', path: absolutePath(network, 'network') });
  return ns;
}

function resources(spec: ContainerSpec, options: OciSpecOptions): OciResources {
  const r = spec.resources ?? {};
  const limit = positiveInteger(r.memoryLimitBytes, 'resources.memoryLimitBytes');
  const reservation = positiveInteger(r.memoryReservationBytes, 'resources.memoryReservationBytes');
  if (limit !== undefined && reservation !== undefined && reservation > limit) {
    fail(`resources.memoryReservationBytes (${reservation}) must not be above resources.memoryLimitBytes (${limit})`);
  }
  const shares = r.cpuShares;
  if (shares !== undefined && (!Number.isSafeInteger(shares) || shares < 0)) fail(`resources.cpuShares must be a non-negative integer, got ${shares}`);
  const quota = positiveInteger(r.cpuQuotaMicros, 'resources.cpuQuotaMicros');
  const pids = positiveInteger(r.pidsLimit, 'resources.pidsLimit');
  const memory = {
    ...(limit !== undefined ? { limit } : {}),
    ...(reservation !== undefined ? { reservation } : {}),
    ...(limit !== undefined && options.swapAccounting ? { swap: 2 * limit } : {}),
  };
  return {
    devices: spec.privileged ? PRIVILEGED_DEVICE_RULES : DEFAULT_DEVICE_RULES,
    ...(Object.keys(memory).length > 0 ? { memory } : {}),
    ...(shares !== undefined || quota !== undefined
      ? {
          cpu: {
            ...(shares !== undefined ? { shares: Math.min(262_144, Math.max(MIN_CPU_SHARES, shares)) } : {}),
            // The kernel takes at least 1 ms of quota per period.
            ...(quota !== undefined ? { quota: Math.max(1000, quota), period: CPU_PERIOD_MICROS } : {}),
          },
        }
      : {}),
    ...(pids !== undefined ? { pids: { limit: pids } } : {}),
  };
}

function sysctls(spec: ContainerSpec): Record<string, string> | undefined {
  if (!spec.sysctls) return undefined;
  for (const [key, value] of Object.entries(spec.sysctls)) {
    if (!SYSCTL_PATTERN.test(key)) fail(`sysctls: invalid name ${JSON.stringify(key)}`);
    noNul(value, `sysctls.${key}`);
    if (key.startsWith('net.') && spec.network === 'host') fail(`sysctls.${key}: net.* sysctls cannot be set in the host's network namespace`);
  }
  return { ...spec.sysctls };
}

/**
 * The OCI runtime spec (runc's config.json) for `spec`, with Docker's defaults: own pid, ipc, uts, mount
 * and network namespaces; Docker's capability set; no-new-privileges; masked and read-only /proc paths;
 * the default device rules; Docker's seccomp profile. `privileged` lifts all of those, as
 * `docker run --privileged` does. Pure: the same input gives the same spec. Throws
 * {@link InvalidContainerSpecError} naming the first field that is wrong.
 */
export function toOciSpec(spec: ContainerSpec, options: OciSpecOptions): OciSpec {
  validateContainerId(spec.id);
  if (spec.taskCgroup) {
    validateContainerId(spec.taskCgroup.name);
    positiveInteger(spec.taskCgroup.cpuQuotaMicros, 'taskCgroup.cpuQuotaMicros');
    positiveInteger(spec.taskCgroup.memoryLimitBytes, 'taskCgroup.memoryLimitBytes');
  }
  validateProcess(spec.process);
  absolutePath(spec.rootfs, 'rootfs');
  if (spec.hostname !== undefined && !HOSTNAME_PATTERN.test(spec.hostname)) {
    fail(`hostname ${JSON.stringify(spec.hostname)} must be 1-63 letters, digits, '.' or '-', starting with a letter or digit`);
  }
  for (const [key, value] of Object.entries(spec.labels ?? {})) noNul(value, `labels.${key}`);
  const privileged = spec.privileged === true;
  const shmBytes = positiveInteger(spec.sharedMemoryBytes, 'sharedMemoryBytes') ?? DEFAULT_SHM_BYTES;
  const caps = resolveCapabilities({ privileged, ...spec.capabilities, ...(options.availableCapabilities ? { available: options.availableCapabilities } : {}) });

  const extra = userMounts(spec);
  const overridden = new Set(extra.map((m) => m.destination));
  const mounts = [
    ...(spec.rootfsOverlay ? [overlayRootMount(spec.rootfsOverlay)] : []),
    ...defaultMounts({ shmBytes, privileged }).filter((m) => !overridden.has(m.destination)),
    ...extra,
  ];
  let args = spec.process.args;
  if (spec.init) {
    if (!options.initBinary) fail('init: an init process was requested but no init binary is configured (install Debian\'s tini)');
    mounts.push({ destination: INIT_PATH, type: 'bind', source: options.initBinary, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    args = [INIT_PATH, '--', ...args];
  }
  const sysctl = sysctls(spec);
  const parent = absolutePath(options.cgroupParent, 'cgroupParent').replace(/\/+$/, '');

  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: {
        uid: spec.process.uid,
        gid: spec.process.gid,
        ...(spec.process.additionalGids?.length ? { additionalGids: [...spec.process.additionalGids] } : {}),
      },
      args: [...args],
      env: [...spec.process.env],
      cwd: spec.process.cwd,
      // Not inheritable or ambient: a non-root user then loses them at exec, as in Docker.
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(spec.process.rlimits?.length ? { rlimits: toOciRlimits(spec.process.rlimits) } : {}),
      noNewPrivileges: !privileged,
    },
    root: { path: spec.rootfs, readonly: spec.readonlyRootfs === true },
    ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
    mounts,
    annotations: { ...spec.labels },
    linux: {
      namespaces: namespaces(spec.network),
      // A task-level cgroup holds the task's containers (task-cgroup.ts), its own limits over all of them.
      cgroupsPath: spec.taskCgroup ? `${parent}/${spec.taskCgroup.name}/${spec.id}` : `${parent}/${spec.id}`,
      resources: resources(spec, options),
      ...(sysctl ? { sysctl } : {}),
      ...(!privileged && options.seccomp
        ? {
            seccomp: seccompForTarget(options.seccomp.profile, {
              arch: options.seccomp.arch,
              capabilities: caps,
              kernel: options.seccomp.kernel,
              ...(options.seccomp.unsupportedArches ? { unsupportedArches: options.seccomp.unsupportedArches } : {}),
            }),
          }
        : {}),
      ...(!privileged ? { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS } : {}),
    },
  };
}
