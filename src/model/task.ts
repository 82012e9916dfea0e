import type { ContainerDefinition, TaskDefinition, TaskOverride } from '@aws-sdk/client-ecs';
import type { Wire } from './wire.js';

/**
 * A task's lastStatus moves forward only, in this order (ECS's lifecycle):
 *
 *   PROVISIONING → PENDING → ACTIVATING → RUNNING → DEACTIVATING → STOPPING → DEPROVISIONING → STOPPED
 *
 * Any status may jump ahead (a task that fails to start goes from PENDING to STOPPED); none goes back.
 * desiredStatus is RUNNING until someone (a user, a service, an essential container's exit) wants it STOPPED.
 */
export const taskStatuses = [
  'PROVISIONING',
  'PENDING',
  'ACTIVATING',
  'RUNNING',
  'DEACTIVATING',
  'STOPPING',
  'DEPROVISIONING',
  'STOPPED',
] as const;
export type TaskStatus = (typeof taskStatuses)[number];

/** Container statuses, also forward-only: PENDING → RUNNING → STOPPED. */
export const containerStatuses = ['PENDING', 'RUNNING', 'STOPPED'] as const;
export type ContainerStatus = (typeof containerStatuses)[number];

export const desiredStatuses = ['RUNNING', 'STOPPED'] as const;
export type DesiredStatus = (typeof desiredStatuses)[number];

export const stopCodes = [
  'TaskFailedToStart',
  'EssentialContainerExited',
  'UserInitiated',
  'ServiceSchedulerInitiated',
  'SpotInterruption',
  'TerminationNotice',
] as const;
export type StopCode = (typeof stopCodes)[number];

const rank = (s: string) => taskStatuses.indexOf(s as TaskStatus);

/** True when moving a task from `from` to `to` goes forward (or stays). */
export function isForward(from: string, to: string): boolean {
  return rank(to) >= rank(from);
}

/** The later of two task statuses. */
export function laterStatus(a: TaskStatus, b: TaskStatus): TaskStatus {
  return rank(a) >= rank(b) ? a : b;
}

export function isContainerForward(from: string, to: string): boolean {
  return containerStatuses.indexOf(to as ContainerStatus) >= containerStatuses.indexOf(from as ContainerStatus);
}

/** What a task holds on its container instance while it is not STOPPED. */
export interface TaskNeeds {
  /** CPU units. */
  readonly cpu: number;
  /** MiB. */
  readonly memory: number;
  /** Fixed host ports, by protocol. */
  readonly ports: readonly number[];
  readonly portsUdp: readonly number[];
}

/** A container definition with a RunTask container override applied (command, environment, cpu, memory…). */
export function applyContainerOverride(def: ContainerDefinition, overrides: TaskOverride | undefined): ContainerDefinition {
  const o = overrides?.containerOverrides?.find((c) => c.name === def.name);
  if (!o) return def;
  const environment = [...(def.environment ?? [])];
  for (const kv of o.environment ?? []) {
    const i = environment.findIndex((e) => e.name === kv.name);
    if (i >= 0) environment[i] = kv;
    else environment.push(kv);
  }
  return {
    ...def,
    ...(o.command ? { command: o.command } : {}),
    environment,
    ...(o.cpu !== undefined ? { cpu: o.cpu } : {}),
    ...(o.memory !== undefined ? { memory: o.memory } : {}),
    ...(o.memoryReservation !== undefined ? { memoryReservation: o.memoryReservation } : {}),
    ...(o.environmentFiles ? { environmentFiles: o.environmentFiles } : {}),
    ...(o.resourceRequirements ? { resourceRequirements: o.resourceRequirements } : {}),
  };
}

/**
 * The resources a task reserves on its instance, as ECS computes them: task-level cpu and memory when set
 * (overrides first), else the sum over containers (memoryReservation when set, else memory); the fixed host
 * ports of its port mappings (in host mode every container port is a host port).
 */
export function taskNeeds(td: Wire<TaskDefinition>, overrides?: TaskOverride): TaskNeeds {
  const containers = (td.containerDefinitions ?? []).map((c) => applyContainerOverride(c, overrides));
  const taskCpu = overrides?.cpu ?? td.cpu;
  const taskMemory = overrides?.memory ?? td.memory;
  const cpu = taskCpu !== undefined ? Number(taskCpu) : containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
  const memory =
    taskMemory !== undefined
      ? Number(taskMemory)
      : containers.reduce((sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0), 0);
  const ports: number[] = [];
  const portsUdp: number[] = [];
  if (td.networkMode === 'bridge' || td.networkMode === 'host' || td.networkMode === undefined) {
    for (const c of containers) {
      for (const pm of c.portMappings ?? []) {
        const host = td.networkMode === 'host' ? pm.containerPort : pm.hostPort;
        if (host) (pm.protocol === 'udp' ? portsUdp : ports).push(host);
      }
    }
  }
  return { cpu, memory, ports, portsUdp };
}

/**
 * A task's overrides as ECS records and returns them: `containerOverrides` holds one entry per container
 * of the task definition, in its order — the override given for that container, or just `{ name }`.
 */
export function overridesOfEveryContainer(td: Pick<TaskDefinition, 'containerDefinitions'>, overrides: TaskOverride): TaskOverride {
  const given = overrides.containerOverrides ?? [];
  return {
    ...overrides,
    containerOverrides: (td.containerDefinitions ?? []).map((c) => given.find((o) => o.name === c.name) ?? { name: c.name! }),
  };
}
