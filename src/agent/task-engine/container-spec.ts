import type { ImageConfig } from '../../image/image-service.js';
import type { AcsContainer, AcsTask } from '../../model/acs.js';
import type { ContainerSpec, Mount } from '../../runtime/runtime.js';

export interface ContainerContext {
  readonly task: AcsTask;
  readonly container: AcsContainer;
  readonly image: ImageConfig;
  readonly runtimeId: string;
  readonly rootfs: string;
  /** The user the process runs as, already resolved against the image's /etc/passwd and /etc/group. */
  readonly user: { uid: number; gid: number; additionalGids?: number[] };
  /** A network namespace path, 'host', or undefined for a new empty namespace. */
  readonly network?: string;
  readonly etcFiles?: ContainerSpec['etcFiles'];
  readonly logPath: string;
  readonly cluster: string;
  /** Extra environment the agent adds (metadata endpoint, …). */
  readonly agentEnv?: Readonly<Record<string, string>>;
  readonly mounts?: readonly Mount[];
}

const MIB = 1024 * 1024;

/**
 * The process a container runs, as Docker and ECS combine the image config and the container definition:
 * entryPoint replaces the image's ENTRYPOINT (and drops its CMD), command replaces CMD; environment adds to
 * or overrides the image's Env; workingDirectory and user override WorkingDir and USER.
 */
export function processArgs(container: Pick<AcsContainer, 'entryPoint' | 'command'>, image: ImageConfig): string[] {
  const entrypoint = container.entryPoint ?? image.Entrypoint ?? [];
  const cmd = container.command ?? (container.entryPoint ? [] : (image.Cmd ?? []));
  return [...entrypoint, ...cmd];
}

export function mergeEnv(imageEnv: readonly string[] | undefined, ...layers: (Readonly<Record<string, string>> | undefined)[]): string[] {
  const env = new Map<string, string>();
  for (const entry of imageEnv ?? []) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  for (const layer of layers) for (const [k, v] of Object.entries(layer ?? {})) env.set(k, v);
  if (!env.has('PATH')) env.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** The user a container runs as: the definition's `user`, else the image's USER, else root. */
export function userOf(container: Pick<AcsContainer, 'user'>, image: ImageConfig): string {
  return container.user || image.User || '0';
}

/** Turn a task's container into what the runtime runs. Pure. */
export function containerSpec(ctx: ContainerContext): ContainerSpec {
  const c = ctx.container;
  const taskMemory = ctx.task.memory;
  const memoryLimit = c.memory ?? (c.memoryReservation === undefined ? taskMemory : undefined);
  const args = processArgs(c, ctx.image);
  if (args.length === 0) throw new Error(`container '${c.name}' has no command: the image sets none and neither does the task definition`);
  return {
    id: ctx.runtimeId,
    rootfs: ctx.rootfs,
    process: {
      args,
      env: mergeEnv(ctx.image.Env, c.environment, ctx.agentEnv),
      cwd: c.workingDirectory || ctx.image.WorkingDir || '/',
      uid: ctx.user.uid,
      gid: ctx.user.gid,
      ...(ctx.user.additionalGids?.length ? { additionalGids: ctx.user.additionalGids } : {}),
      ...(c.ulimits?.length
        ? { rlimits: c.ulimits.map((u) => ({ type: `RLIMIT_${u.name!.toUpperCase()}`, soft: u.softLimit!, hard: u.hardLimit! })) }
        : {}),
    },
    hostname: c.hostname ?? ctx.runtimeId.slice(0, 12),
    readonlyRootfs: c.readonlyRootFilesystem ?? false,
    privileged: c.privileged ?? false,
    ...(c.linuxParameters?.capabilities
      ? {
          capabilities: {
            ...(c.linuxParameters.capabilities.add ? { add: c.linuxParameters.capabilities.add } : {}),
            ...(c.linuxParameters.capabilities.drop ? { drop: c.linuxParameters.capabilities.drop } : {}),
          },
        }
      : {}),
    init: c.linuxParameters?.initProcessEnabled ?? false,
    ...(ctx.network !== undefined ? { network: ctx.network } : {}),
    ...(ctx.etcFiles ? { etcFiles: ctx.etcFiles } : {}),
    mounts: [
      ...(ctx.mounts ?? []),
      ...(c.linuxParameters?.tmpfs ?? []).map(
        (t): Mount => ({
          destination: t.containerPath!,
          source: 'tmpfs',
          type: 'tmpfs',
          options: [`size=${t.size}m`, ...(t.mountOptions ?? [])],
        }),
      ),
    ],
    ...(c.linuxParameters?.sharedMemorySize ? { sharedMemoryBytes: c.linuxParameters.sharedMemorySize * MIB } : {}),
    resources: {
      // The kernel's minimum cpu.shares is 2; ECS gives containers with cpu 0 the minimum.
      cpuShares: Math.max(2, c.cpu ?? 0),
      ...(memoryLimit !== undefined ? { memoryLimitBytes: memoryLimit * MIB } : {}),
      ...(c.memoryReservation !== undefined ? { memoryReservationBytes: c.memoryReservation * MIB } : {}),
    },
    logPath: ctx.logPath,
    labels: {
      ...(c.dockerLabels ?? {}),
      'com.amazonaws.ecs.cluster': ctx.cluster,
      'com.amazonaws.ecs.container-name': c.name!,
      'com.amazonaws.ecs.task-arn': ctx.task.arn,
      'com.amazonaws.ecs.task-definition-family': ctx.task.family,
      'com.amazonaws.ecs.task-definition-version': ctx.task.version,
    },
    ...(c.systemControls?.length
      ? { sysctls: Object.fromEntries(c.systemControls.map((s) => [s.namespace!, s.value!])) }
      : {}),
  };
}
