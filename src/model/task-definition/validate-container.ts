import type { ContainerDefinition, NetworkMode } from '@aws-sdk/client-ecs';
import { clientError } from '../errors.js';

/** What a container check needs to know about the task around it. */
export interface TaskContext {
  readonly networkMode: NetworkMode;
  readonly fargate: boolean;
  readonly taskMemory?: number;
  readonly containerNames: ReadonlySet<string>;
  readonly volumeNames: ReadonlySet<string>;
}

export const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,255}$/;
/** Docker refuses hard limits below 6 MiB. */
export const MIN_CONTAINER_MEMORY = 6;

export const healthCheckBounds = {
  interval: { min: 5, max: 300, default: 30 },
  timeout: { min: 2, max: 60, default: 5 },
  retries: { min: 1, max: 10, default: 3 },
  startPeriod: { min: 0, max: 300 },
} as const;

const fail = (c: ContainerDefinition, message: string) => clientError(`Invalid setting for container '${c.name}'. ${message}`);

/** The per-container rules ECS applies on RegisterTaskDefinition. Throws ClientException on the first broken rule. */
export function validateContainer(c: ContainerDefinition, task: TaskContext): void {
  if (!c.image) throw clientError('Container.image should not be null or empty.');
  checkMemory(c, task);
  if (c.cpu !== undefined && c.cpu < 0) throw fail(c, "'cpu' must be 0 or more CPU units.");
  checkPorts(c, task);
  checkLinks(c, task);
  checkHealthCheck(c);
  checkStorage(c, task);
  checkNetworkingOptions(c, task);
  checkTimeouts(c, task);
  for (const u of c.ulimits ?? []) {
    if (u.softLimit! > u.hardLimit!) throw fail(c, `The ulimit '${u.name}' has a softLimit greater than its hardLimit.`);
  }
  if (task.fargate) checkFargateContainer(c);
}

function checkMemory(c: ContainerDefinition, task: TaskContext): void {
  const { memory, memoryReservation } = c;
  if (task.taskMemory === undefined && memory === undefined && memoryReservation === undefined) {
    throw fail(c, "At least one of 'memory' or 'memoryReservation' must be specified.");
  }
  if (memory !== undefined && memory < MIN_CONTAINER_MEMORY) {
    throw fail(c, `The 'memory' value must be at least ${MIN_CONTAINER_MEMORY} MiB.`);
  }
  if (memoryReservation !== undefined && memoryReservation < 1) {
    throw fail(c, "The 'memoryReservation' value must be at least 1 MiB.");
  }
  if (memory !== undefined && memoryReservation !== undefined && memoryReservation > memory) {
    throw fail(c, `'memory' (${memory} MiB) must be greater than or equal to 'memoryReservation' (${memoryReservation} MiB).`);
  }
  if (task.taskMemory !== undefined && memory !== undefined && memory > task.taskMemory) {
    throw fail(c, `The container 'memory' (${memory} MiB) exceeds the task memory (${task.taskMemory} MiB).`);
  }
}

function checkPorts(c: ContainerDefinition, task: TaskContext): void {
  const mappings = c.portMappings ?? [];
  if (task.networkMode === 'none' && mappings.length > 0) {
    throw fail(c, 'Port mappings are not supported when networkMode=none.');
  }
  for (const pm of mappings) {
    if (pm.containerPortRange !== undefined) {
      const range = /^(\d{1,5})-(\d{1,5})$/.exec(pm.containerPortRange);
      const [lo, hi] = range ? [Number(range[1]), Number(range[2])] : [NaN, NaN];
      if (!(lo >= 1 && hi <= 65535 && lo < hi)) {
        throw fail(c, `Invalid containerPortRange '${pm.containerPortRange}'; use 'low-high' with 1 ≤ low < high ≤ 65535.`);
      }
      if (pm.containerPort !== undefined || pm.hostPort !== undefined) {
        throw fail(c, 'A port mapping with containerPortRange cannot also set containerPort or hostPort.');
      }
      if (task.networkMode !== 'awsvpc' && task.networkMode !== 'bridge') {
        throw fail(c, 'containerPortRange is only supported with the awsvpc and bridge network modes.');
      }
      continue;
    }
    if (pm.containerPort === undefined) throw fail(c, "Each port mapping needs a 'containerPort' (or a 'containerPortRange').");
    if (pm.containerPort < 1 || pm.containerPort > 65535) throw fail(c, `containerPort ${pm.containerPort} is not between 1 and 65535.`);
    if (pm.hostPort !== undefined && (pm.hostPort < 0 || pm.hostPort > 65535)) {
      throw fail(c, `hostPort ${pm.hostPort} is not between 0 and 65535.`);
    }
    if ((task.networkMode === 'awsvpc' || task.networkMode === 'host') && pm.hostPort !== undefined && pm.hostPort !== pm.containerPort) {
      throw clientError(`When networkMode=${task.networkMode}, the host ports and container ports in port mappings must match.`);
    }
  }
}

function checkLinks(c: ContainerDefinition, task: TaskContext): void {
  if (!c.links?.length) return;
  if (task.networkMode !== 'bridge') throw fail(c, `Links are not supported when networkMode=${task.networkMode}.`);
  for (const link of c.links) {
    const target = link.split(':')[0]!;
    if (!task.containerNames.has(target) || target === c.name) {
      throw fail(c, `The link '${link}' does not name another container in the task definition.`);
    }
  }
}

function checkHealthCheck(c: ContainerDefinition): void {
  const hc = c.healthCheck;
  if (!hc) return;
  const [kind, ...rest] = hc.command ?? [];
  if (kind !== 'CMD' && kind !== 'CMD-SHELL') {
    throw fail(c, "The healthCheck command must start with 'CMD' or 'CMD-SHELL'.");
  }
  if (rest.length === 0 || rest.every((part) => part.trim() === '')) {
    throw fail(c, `The healthCheck command needs a command after '${kind}'.`);
  }
  for (const [field, b] of Object.entries(healthCheckBounds)) {
    const value = hc[field as keyof typeof healthCheckBounds];
    if (value !== undefined && (value < b.min || value > b.max)) {
      throw fail(c, `healthCheck.${field} must be between ${b.min} and ${b.max} (got ${value}).`);
    }
  }
}

function checkStorage(c: ContainerDefinition, task: TaskContext): void {
  for (const mp of c.mountPoints ?? []) {
    if (!mp.sourceVolume || !task.volumeNames.has(mp.sourceVolume)) {
      throw fail(c, `The mount point sourceVolume '${mp.sourceVolume ?? ''}' is not defined in the task definition's volumes.`);
    }
    if (!mp.containerPath) throw fail(c, `The mount point for volume '${mp.sourceVolume}' needs a containerPath.`);
  }
  for (const vf of c.volumesFrom ?? []) {
    if (!vf.sourceContainer || !task.containerNames.has(vf.sourceContainer) || vf.sourceContainer === c.name) {
      throw fail(c, `volumesFrom sourceContainer '${vf.sourceContainer ?? ''}' does not name another container in the task definition.`);
    }
  }
  for (const t of c.linuxParameters?.tmpfs ?? []) {
    if (!t.containerPath || !(t.size! > 0)) throw fail(c, 'Each tmpfs mount needs a containerPath and a size in MiB greater than 0.');
  }
  const shm = c.linuxParameters?.sharedMemorySize;
  if (shm !== undefined && shm <= 0) throw fail(c, 'linuxParameters.sharedMemorySize must be greater than 0 MiB.');
}

function checkNetworkingOptions(c: ContainerDefinition, task: TaskContext): void {
  if (task.networkMode === 'awsvpc' || task.networkMode === 'host') {
    if (c.hostname !== undefined) throw fail(c, `The hostname parameter is not supported when networkMode=${task.networkMode}.`);
  }
  if (task.networkMode === 'awsvpc') {
    for (const field of ['extraHosts', 'dnsServers', 'dnsSearchDomains'] as const) {
      if (c[field]?.length) throw fail(c, `The ${field} parameter is not supported when networkMode=awsvpc.`);
    }
  }
  if (c.disableNetworking && task.networkMode === 'awsvpc') {
    throw fail(c, 'disableNetworking is not supported when networkMode=awsvpc.');
  }
}

function checkTimeouts(c: ContainerDefinition, task: TaskContext): void {
  if (c.startTimeout !== undefined && c.startTimeout < 2) throw fail(c, 'startTimeout must be at least 2 seconds.');
  if (c.stopTimeout !== undefined && c.stopTimeout < 0) throw fail(c, 'stopTimeout must be 0 seconds or more.');
  if (task.fargate && c.stopTimeout !== undefined && c.stopTimeout > 120) {
    throw fail(c, 'On Fargate, stopTimeout can be at most 120 seconds.');
  }
}

function checkFargateContainer(c: ContainerDefinition): void {
  if (c.privileged) throw fail(c, 'Fargate does not support privileged containers.');
  if (c.links?.length) throw fail(c, 'Fargate does not support links.');
  if (c.linuxParameters?.devices?.length) throw fail(c, 'Fargate does not support devices.');
  const added = c.linuxParameters?.capabilities?.add ?? [];
  if (added.some((cap) => cap !== 'SYS_PTRACE')) throw fail(c, 'Fargate only supports adding the SYS_PTRACE capability.');
  if (c.resourceRequirements?.some((r) => r.type === 'GPU')) throw fail(c, 'Fargate does not support GPU resource requirements.');
}
