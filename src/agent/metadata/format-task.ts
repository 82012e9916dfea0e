/**
 * Task and container metadata in ECS's shapes, from the task engine's state. Pure: state and a little
 * context in, the JSON object out; the HTTP server and the lookups live elsewhere.
 */
import type { AcsContainer } from '../../model/acs.js';
import { logDestination } from '../../model/log-naming.js';
import { containerLabels, hardMemoryLimitMib } from '../task-engine/container-spec.js';
import type { ContainerState, TaskState } from '../task-engine/task-state.js';
import type { ContainerMetadata, NetworkMetadata, TaskMetadata } from './wire.js';

/** Which of ECS's endpoint versions to answer as: v3 lacks the members v4 added. */
export type MetadataVersion = 'v3' | 'v4';

/** What the agent knows beyond the task's own state. */
export interface FormatContext {
  readonly version: MetadataVersion;
  /** The cluster as the agent was configured with it (the name, in the container labels). */
  readonly clusterName: string;
  readonly availabilityZone: string;
}

/** ECS reports at least 2 CPU units for a container (Docker's minimum cpu.shares). */
const MINIMUM_CPU_UNITS = 2;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Drop undefined members, so the JSON leaves out what ECS's `omitempty` leaves out. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The containers ECS would list: those the runtime has created (they have an id). */
export function listedContainers(task: TaskState): ContainerState[] {
  return task.containers.filter((c) => c.runtimeId !== undefined);
}

function definitionOf(task: TaskState, c: ContainerState): AcsContainer {
  const def = task.spec.containers.find((d) => d.name === c.name);
  if (!def) throw new Error(`task ${task.arn} has no definition for container ${c.name}`);
  return def;
}

function networksOf(task: TaskState, c: ContainerState): NetworkMetadata[] {
  const mode = task.spec.networkMode;
  if (mode === 'awsvpc') {
    const ip = c.ipv4Address ?? '';
    return [
      {
        NetworkMode: mode,
        IPv4Addresses: [ip],
        AttachmentIndex: 0,
        ...(task.taskNetwork?.macAddress ? { MACAddress: task.taskNetwork.macAddress } : {}),
        ...(ip ? { PrivateDNSName: `ip-${ip.replaceAll('.', '-')}.ec2.internal` } : {}),
      },
    ];
  }
  // ECS (through Docker) writes an empty address for host and none networking.
  return [{ NetworkMode: mode, IPv4Addresses: [mode === 'bridge' ? (c.ipv4Address ?? '') : ''] }];
}

/** LogDriver and LogOptions (v4); for awslogs, the stream the output goes to, as ECS adds it. */
function logOf(task: TaskState, c: ContainerState, def: AcsContainer, clusterName: string): Pick<ContainerMetadata, 'LogDriver' | 'LogOptions'> {
  const config = def.logConfiguration;
  if (!config?.logDriver) return {};
  const options: Record<string, string> = { ...(config.options ?? {}) };
  if (config.logDriver === 'awslogs' && options['awslogs-stream'] === undefined) {
    const destination = logDestination({
      cluster: clusterName,
      family: task.spec.family,
      containerName: c.name,
      taskArn: task.arn,
      runtimeId: c.runtimeId ?? '',
      logConfiguration: config,
    });
    if (destination?.awslogs) options['awslogs-stream'] = destination.stream;
  }
  return { LogDriver: config.logDriver, LogOptions: options };
}

/** One container's metadata (`${ECS_CONTAINER_METADATA_URI_V4}`, and each of `/task`'s Containers). */
export function formatContainer(task: TaskState, c: ContainerState, ctx: FormatContext): ContainerMetadata {
  const def = definitionOf(task, c);
  const v4 = ctx.version === 'v4';
  const ports = c.networkBindings.map((b) =>
    compact({ ContainerPort: b.containerPort, Protocol: b.protocol, HostPort: b.hostPort, HostIp: v4 ? b.bindIP : undefined }),
  );
  return compact<ContainerMetadata>({
    DockerId: c.runtimeId ?? '',
    Name: c.name,
    DockerName: c.runtimeId ?? '',
    Image: def.image ?? '',
    ImageID: c.imageId ?? '',
    Ports: ports.length ? ports : undefined,
    Labels: containerLabels(task.spec, def, ctx.clusterName),
    DesiredStatus: task.desired,
    KnownStatus: c.known,
    ExitCode: c.exitCode,
    Limits: { CPU: Math.max(def.cpu ?? 0, MINIMUM_CPU_UNITS), Memory: hardMemoryLimitMib(task.spec, def) ?? 0 },
    CreatedAt: iso(c.createdAt),
    StartedAt: iso(c.startedAt),
    FinishedAt: iso(c.finishedAt),
    Type: 'NORMAL',
    ...(v4 ? logOf(task, c, def, ctx.clusterName) : {}),
    ContainerARN: v4 && def.containerArn ? def.containerArn : undefined,
    Networks: networksOf(task, c),
    // Only containers with a health check report health; UNKNOWN is left out, as ECS does.
    Health: def.healthCheck ? compact({ status: c.healthStatus === 'UNKNOWN' ? undefined : c.healthStatus }) : undefined,
  });
}

/** The task's metadata (`/task`); tags are added by the caller for `/taskWithTags`. */
export function formatTask(task: TaskState, ctx: FormatContext): TaskMetadata {
  const { spec } = task;
  const v4 = ctx.version === 'v4';
  const limits = compact({ CPU: spec.cpu, Memory: spec.memory });
  return compact<TaskMetadata>({
    Cluster: spec.taskClusterArn,
    TaskARN: task.arn,
    Family: spec.family,
    Revision: spec.version,
    DesiredStatus: task.desired,
    KnownStatus: task.known,
    Containers: listedContainers(task).map((c) => formatContainer(task, c, ctx)),
    Limits: Object.keys(limits).length ? limits : undefined,
    PullStartedAt: iso(task.pullStartedAt),
    PullStoppedAt: iso(task.pullStoppedAt),
    ExecutionStoppedAt: iso(task.executionStoppedAt),
    AvailabilityZone: ctx.availabilityZone,
    LaunchType: v4 ? spec.launchType : undefined,
    ServiceName: v4 ? spec.serviceName : undefined,
  });
}
