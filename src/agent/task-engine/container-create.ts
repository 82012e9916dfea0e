import { join } from 'node:path';
import type { Volume } from '@aws-sdk/client-ecs';
import type { LocalImage, PreparedRootfs } from '../../image/image-service.js';
import type { AcsContainer, AcsTask } from '../../model/acs.js';
import type { Attachment } from '../../network/network.js';
import { containerSpec } from './container-spec.js';
import { timed, type EngineDeps, type HostsEntry } from './deps.js';
import { taskIdOf, type ContainerState, type TaskState } from './task-state.js';
import { containerMounts, volumesUsed } from './volumes.js';

/** How one container is networked: the task's mode, unless the container turns networking off. */
export type ContainerNetworkMode = 'bridge' | 'host' | 'awsvpc' | 'none';

export function containerNetworkMode(task: AcsTask, def: AcsContainer): ContainerNetworkMode {
  if (def.disableNetworking) return 'none';
  const mode = task.networkMode;
  return mode === 'host' || mode === 'awsvpc' || mode === 'none' ? mode : 'bridge';
}

/** What creating one container needs from its task manager. */
export interface CreateContext {
  readonly deps: EngineDeps;
  readonly task: TaskState;
  readonly container: ContainerState;
  readonly image: LocalImage;
  /** Persist and report the task state (records must be saved before anything is made). */
  readonly commit: () => Promise<void>;
  /** Environment the agent adds (metadata endpoint, …). */
  readonly agentEnv: Readonly<Record<string, string>>;
  /** The container's secrets, fetched (never saved). */
  readonly secretEnv?: Readonly<Record<string, string>>;
}

/**
 * Make everything one container needs and create it in the runtime, leaving it CREATED: host ports,
 * network (its own for bridge, the task's for awsvpc), root filesystem, /etc files and volumes. Safe to
 * run again after a crash part-way: what a previous attempt made is undone first.
 */
export async function createContainer(ctx: CreateContext): Promise<void> {
  const { deps, task, container: c, image } = ctx;
  const started = deps.now();
  const def = task.spec.containers.find((x) => x.name === c.name)!;
  const retry = c.runtimeId !== undefined;
  const runtimeId = c.runtimeId ?? `${taskIdOf(task.arn)}-${c.name}`;
  c.runtimeId = runtimeId;
  // Whatever a crash left of the previous attempt goes, even a container so half-made that the runtime
  // cannot say what it is (its bundle directory without a config): delete is idempotent.
  if (retry) await deps.runtime.delete(runtimeId);
  if (c.networkId) await deps.network.detach(c.networkId);
  const mode = containerNetworkMode(task.spec, def);
  const mappings = mode === 'bridge' ? bindPorts(deps, c, def) : [];
  // none: runc makes the container a namespace of its own with loopback up, in the same clone that makes
  // its other namespaces; a namespace made beforehand (`ip netns add` and the loopback plugin, two more
  // processes per start) would hold nothing more. So only bridge containers have an attachment.
  if (mode === 'bridge') c.networkId = runtimeId;
  // awsvpc containers are reached at the task's address (networkInterfaces), so they bind no host port.
  if (mode === 'host') c.networkBindings = hostBindings(deps, def);
  if (mode === 'awsvpc') c.ipv4Address = task.taskNetwork!.ipv4Address!;
  // Saved before anything is made, so a crash part-way leaves records recovery can undo.
  await ctx.commit();

  const hostname = mode === 'awsvpc' ? awsvpcHostname(c.ipv4Address!) : (def.hostname ?? runtimeId.slice(0, 12));
  const others = [...linkEntries(def, task.containers), ...extraHostEntries(def)];
  const own = (ip: string | undefined): HostsEntry[] => (ip ? [{ ip, names: [hostname] }] : []);
  // The network and the root filesystem do not depend on each other, and the container can be created
  // in its namespace while the CNI plugins are still wiring it: only the start waits for the network.
  const span = <T>(name: string, work: () => Promise<T>) => timed(deps, task.arn, name, work);
  const spanStart = deps.spans?.now() ?? 0;
  let namespaceReady!: (path: string) => void;
  const namespace = new Promise<string>((resolve) => (namespaceReady = resolve));
  const onNamespace = (path: string) => {
    deps.spans?.end(task.arn, 'agent.netns', spanStart);
    namespaceReady(path);
  };
  const attaching: Promise<Attachment> | undefined =
    mode === 'bridge'
      ? span('agent.network', () => deps.network.attach({ id: runtimeId, mode, portMappings: mappings }, { onNamespace }))
      : undefined;
  attaching?.catch(() => {});
  /** Everything the spec needs, made at once: root filesystem, /etc files, network namespace, volumes. */
  const prepare = async () => {
    // A task with ephemeral storage writes only to its own size-limited filesystem: its writable layers and volumes.
    const storage = await taskStorage(deps, task);
    const rootfsOptions = storage ? { writableDir: join(storage, 'containers', runtimeId) } : {};
    // The runtime mounts the root itself (inside the container, no mount process here) when it can and the
    // image's user database is already known; else it is mounted here first, to read /etc/passwd from it.
    const knownUsers = deps.containerFiles.knownUserDatabase(image.id);
    const prepareRootfs = deps.images.prepareRootfs?.bind(deps.images);
    const mounting = span('agent.rootfs', async (): Promise<PreparedRootfs> =>
      knownUsers && prepareRootfs && deps.runtime.mountsRootfsOverlay
        ? prepareRootfs(image, runtimeId, rootfsOptions)
        : { path: await deps.images.createRootfs(image, runtimeId, rootfsOptions) },
    );
    const [rootfs, users, files, network, mounts] = await Promise.all([
      mounting,
      knownUsers ?? span('agent.users', () => deps.containerFiles.userDatabase(image.id, mounting.then((r) => r.path))),
      span('agent.files', () =>
        deps.containerFiles.prepare(runtimeId, {
          hostname,
          hostNetwork: mode === 'host',
          hosts: [...own(c.ipv4Address), ...others],
          ...(def.dnsServers?.length ? { dnsServers: def.dnsServers } : {}),
          ...(def.dnsSearchDomains?.length ? { dnsSearchDomains: def.dnsSearchDomains } : {}),
        }),
      ),
      attaching
        ? Promise.race([namespace, attaching.then((a) => a.netnsPath)])
        : mode === 'host'
          ? 'host'
          : mode === 'none'
            ? undefined
            : task.taskNetwork!.netnsPath!,
      volumeMounts(deps, task, def, storage),
    ]);
    c.logPath = files.logPath;
    preparedMs = deps.now() - started;
    return containerSpec({
      task: task.spec,
      container: def,
      image: image.config,
      runtimeId,
      rootfs: rootfs.path,
      ...(rootfs.overlay ? { rootfsOverlay: rootfs.overlay } : {}),
      users,
      ...(network !== undefined ? { network } : {}),
      etcFiles:
        mode === 'host'
          ? { resolvConf: files.resolvConf, ...(others.length ? { hosts: files.hosts } : {}) }
          : { hosts: files.hosts, resolvConf: files.resolvConf, hostname: files.hostname },
      logPath: files.logPath,
      cluster: deps.settings.cluster,
      agentEnv: ctx.agentEnv,
      ...(ctx.secretEnv ? { secretEnv: ctx.secretEnv } : {}),
      mounts,
      hostname,
    });
  };
  let preparedMs = 0;
  if (deps.runtime.createEarly) {
    // The runtime begins the container (runc: starts its monitor) while the rest is being prepared;
    // 'agent.create' stays the time from a complete spec to a created container.
    let specAt: number | undefined;
    const spec = prepare().then((s) => {
      specAt = deps.spans?.now();
      return s;
    });
    try {
      await deps.runtime.createEarly({ id: runtimeId, logPath: deps.containerFiles.logPath(runtimeId) }, spec);
    } finally {
      if (specAt !== undefined) deps.spans?.end(task.arn, 'agent.create', specAt);
    }
  } else {
    const spec = await prepare();
    await span('agent.create', () => deps.runtime.create(spec));
  }
  const createdMs = deps.now() - started - preparedMs;
  if (attaching) {
    const attachment = await span('agent.network.wait', () => attaching);
    if (attachment.ipv4Address) {
      c.ipv4Address = attachment.ipv4Address;
      // /etc/hosts is bind-mounted, so rewriting it in place before the start is what the container sees.
      await deps.containerFiles.writeHosts(runtimeId, [...own(attachment.ipv4Address), ...others]);
    }
  }
  c.known = 'CREATED';
  c.createdAt = deps.now();
  deps.log.debug({ task: task.arn, container: c.name, preparedMs, createdMs, totalMs: deps.now() - started }, 'container created');
}

/**
 * awsvpc: the task's own namespace and address, made before any container (they all join it). A previous
 * attempt cut short by a crash is undone first; the record is saved before the attach so one always is.
 */
export async function attachTaskNetwork(deps: EngineDeps, task: TaskState, commit: () => Promise<void>): Promise<void> {
  if (task.taskNetwork) await deps.network.detach(task.taskNetwork.id);
  const id = taskIdOf(task.arn);
  task.taskNetwork = { id };
  await commit();
  const attachment = await deps.network.attach({ id, mode: 'awsvpc', portMappings: [] });
  task.taskNetwork = {
    id,
    netnsPath: attachment.netnsPath,
    ...(attachment.ipv4Address ? { ipv4Address: attachment.ipv4Address } : {}),
    ...(attachment.macAddress ? { macAddress: attachment.macAddress } : {}),
  };
  await commit();
}

/** The task's volumes this container uses, made as their kind requires, as the container's bind mounts. */
async function volumeMounts(deps: EngineDeps, task: TaskState, def: AcsContainer, storage: string | undefined) {
  const volumes = task.spec.volumes as Volume[];
  const resolved = new Map<string, string>();
  const options = { taskArn: task.arn, ...(storage ? { taskVolumesDir: join(storage, 'volumes') } : {}) };
  for (const name of volumesUsed(def, task.spec)) {
    const volume = volumes.find((v) => v.name === name);
    if (volume) resolved.set(name, await deps.volumes.resolve(taskIdOf(task.arn), volume, options));
  }
  return containerMounts(def, task.spec, resolved);
}

/** The task's size-limited filesystem (made on first use), when it has ephemeral storage and this host gives it. */
function taskStorage(deps: EngineDeps, task: TaskState): Promise<string | undefined> {
  const gib = task.spec.ephemeralStorageGiB;
  return gib !== undefined && deps.taskStorage ? deps.taskStorage.prepare(taskIdOf(task.arn), gib) : Promise.resolve(undefined);
}

/** Reserve fixed host ports and choose dynamic ones for a bridge-mode container. */
function bindPorts(deps: EngineDeps, c: ContainerState, def: AcsContainer) {
  const { ports, settings } = deps;
  const owner = c.runtimeId!;
  ports.release(owner);
  const mappings = (def.portMappings ?? [])
    .filter((pm) => pm.containerPort !== undefined)
    .map((pm) => {
      const protocol = pm.protocol ?? 'tcp';
      let hostPort = pm.hostPort ?? 0;
      if (hostPort > 0) ports.reserve(owner, [{ port: hostPort, protocol }]);
      else hostPort = ports.allocate(owner, protocol);
      return { containerPort: pm.containerPort!, hostPort, protocol };
    });
  c.networkBindings = mappings.map((m) => ({ bindIP: settings.bindIp, ...m }));
  return mappings;
}

/** host mode: the container listens on containerPort itself, on the host's addresses. */
function hostBindings(deps: EngineDeps, def: AcsContainer) {
  return (def.portMappings ?? []).map((pm) => ({
    bindIP: deps.settings.bindIp,
    containerPort: pm.containerPort!,
    hostPort: pm.containerPort!,
    protocol: pm.protocol ?? 'tcp',
  }));
}

/** ECS names an awsvpc task's host after its interface's address, as EC2 does (ip-10-0-1-23). */
export const awsvpcHostname = (ip: string) => `ip-${ip.replaceAll('.', '-')}`;

/** /etc/hosts lines for `links` ("name" or "name:alias"): the linked container's address, by alias and name. */
export function linkEntries(def: AcsContainer, containers: readonly ContainerState[]): HostsEntry[] {
  return (def.links ?? []).flatMap((link) => {
    const [name, alias] = link.split(':') as [string, string | undefined];
    const ip = containers.find((c) => c.name === name)?.ipv4Address;
    return ip ? [{ ip, names: alias && alias !== name ? [alias, name] : [name] }] : [];
  });
}

export function extraHostEntries(def: AcsContainer): HostsEntry[] {
  return (def.extraHosts ?? []).map((h) => ({ ip: h.ipAddress!, names: [h.hostname!] }));
}
