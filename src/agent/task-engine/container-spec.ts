import type { ImageConfig } from '../../image/image-service.js';
import type { AcsContainer, AcsTask } from '../../model/acs.js';
import { processFromImage, type UserDatabase } from '../../runtime/process-from-image.js';
import { CPU_PERIOD_MICROS, type ContainerSpec, type Mount, type RootfsOverlay, type TaskCgroup } from '../../runtime/runtime.js';
import { taskIdOf } from './task-state.js';

export interface ContainerContext {
  readonly task: AcsTask;
  readonly container: AcsContainer;
  readonly image: ImageConfig;
  readonly runtimeId: string;
  readonly rootfs: string;
  /** The root as an overlay the runtime mounts over `rootfs` (Runtime.mountsRootfsOverlay). */
  readonly rootfsOverlay?: RootfsOverlay;
  /** The image's /etc/passwd and /etc/group, to resolve the container's user. */
  readonly users: UserDatabase;
  /** A network namespace path, 'host', or undefined for a new empty namespace. */
  readonly network?: string;
  readonly etcFiles?: ContainerSpec['etcFiles'];
  readonly logPath: string;
  readonly cluster: string;
  /** Extra environment the agent adds (metadata endpoint, …). */
  readonly agentEnv?: Readonly<Record<string, string>>;
  /** The container's `secrets`, fetched: environment the runtime must not keep on disk. */
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly mounts?: readonly Mount[];
  /** The hostname when the agent chooses it (awsvpc: named after the task's address). */
  readonly hostname?: string;
}

const MIB = 1024 * 1024;

/** Turn a task's container into what the runtime runs. Pure. */
export function containerSpec(ctx: ContainerContext): ContainerSpec {
  const c = ctx.container;
  const memoryLimit = hardMemoryLimitMib(ctx.task, c);
  const hostname = ctx.hostname ?? c.hostname ?? ctx.runtimeId.slice(0, 12);
  const environment = Object.entries({ ...c.environment, ...ctx.agentEnv, ...ctx.secretEnv }).map(([name, value]) => ({ name, value }));
  const process = processFromImage(
    ctx.image,
    {
      ...(c.entryPoint ? { entryPoint: c.entryPoint } : {}),
      ...(c.command ? { command: c.command } : {}),
      environment,
      ...(c.workingDirectory ? { workingDirectory: c.workingDirectory } : {}),
      ...(c.user ? { user: c.user } : {}),
      hostname,
    },
    ctx.users,
  );
  const secretNames = Object.keys(ctx.secretEnv ?? {});
  return {
    id: ctx.runtimeId,
    rootfs: ctx.rootfs,
    ...(ctx.rootfsOverlay ? { rootfsOverlay: ctx.rootfsOverlay } : {}),
    ...(secretNames.length ? { secretEnvNames: secretNames } : {}),
    process: {
      ...process,
      ...(c.ulimits?.length
        ? { rlimits: c.ulimits.map((u) => ({ type: `RLIMIT_${u.name!.toUpperCase()}`, soft: u.softLimit!, hard: u.hardLimit! })) }
        : {}),
    },
    hostname,
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
      ...(fargateCpuQuota(ctx.task) !== undefined ? { cpuQuotaMicros: fargateCpuQuota(ctx.task)! } : {}),
      ...(memoryLimit !== undefined ? { memoryLimitBytes: memoryLimit * MIB } : {}),
      ...(c.memoryReservation !== undefined ? { memoryReservationBytes: c.memoryReservation * MIB } : {}),
    },
    ...(fargateTaskCgroup(ctx.task) ? { taskCgroup: fargateTaskCgroup(ctx.task)! } : {}),
    logPath: ctx.logPath,
    labels: containerLabels(ctx.task, c, ctx.cluster),
    ...(c.systemControls?.length
      ? { sysctls: Object.fromEntries(c.systemControls.map((s) => [s.namespace!, s.value!])) }
      : {}),
  };
}

/** The container's labels: its dockerLabels and the ones ECS adds (also shown by the task metadata endpoint). */
export function containerLabels(task: AcsTask, c: AcsContainer, cluster: string): Record<string, string> {
  return {
    ...(c.dockerLabels ?? {}),
    'com.amazonaws.ecs.cluster': cluster,
    'com.amazonaws.ecs.container-name': c.name!,
    'com.amazonaws.ecs.task-arn': task.arn,
    'com.amazonaws.ecs.task-definition-family': task.family,
    'com.amazonaws.ecs.task-definition-version': task.version,
  };
}

/**
 * A Fargate task's CPU is a hard ceiling, as on Fargate: its vCPUs (ACS's task cpu) as CFS quota. The task-level
 * cgroup ({@link fargateTaskCgroup}) holds all its containers to it together; each container also gets it (none
 * can use more than the task), as each gets the task's memory when it sets none. EC2 tasks keep cpu.shares alone.
 */
export function fargateCpuQuota(task: AcsTask): number | undefined {
  return task.launchType === 'FARGATE' && task.cpu !== undefined ? Math.round(task.cpu * CPU_PERIOD_MICROS) : undefined;
}

/** The container's hard memory limit in MiB: its `memory`, else the task's when it sets no reservation either. */
export function hardMemoryLimitMib(task: AcsTask, c: AcsContainer): number | undefined {
  return c.memory ?? (c.memoryReservation === undefined ? task.memory : undefined);
}

/**
 * A Fargate task's size as hard limits on the whole task: one cgroup holding all its containers (and under gVisor
 * their sandboxes), with the task's CFS quota and memory (runtime/runc/task-cgroup.ts). None for EC2 tasks.
 */
export function fargateTaskCgroup(task: AcsTask): TaskCgroup | undefined {
  if (task.launchType !== 'FARGATE') return undefined;
  const quota = fargateCpuQuota(task);
  return {
    name: taskIdOf(task.arn),
    ...(quota !== undefined ? { cpuQuotaMicros: quota } : {}),
    ...(task.memory !== undefined ? { memoryLimitBytes: task.memory * MIB } : {}),
  };
}
