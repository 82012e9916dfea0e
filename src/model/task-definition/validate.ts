import type { ContainerDefinition, NetworkMode, RegisterTaskDefinitionRequest } from '@aws-sdk/client-ecs';
import { clientError } from '../errors.js';
import { ecsMessage } from '../ecs-messages.js';
import { checkFargateSize } from './fargate.js';
import { parseTaskCpu, parseTaskMemory } from './units.js';
import { NAME_PATTERN, validateContainer, type TaskContext } from './validate-container.js';

export const MAX_CONTAINERS = 10;
export const MAX_TASK_DEFINITION_BYTES = 64 * 1024;
export const MAX_PLACEMENT_CONSTRAINTS = 10;
export const MAX_EXPRESSION_LENGTH = 2000;
/** EC2 task sizes: 0.125 to 192 vCPU. */
const EC2_TASK_CPU = { min: 128, max: 196_608 } as const;

export interface ValidatedSize {
  readonly networkMode: NetworkMode;
  /** Task-level CPU units and MiB, when given. */
  readonly cpu?: number;
  readonly memory?: number;
}

/**
 * The semantic rules of RegisterTaskDefinition, after the request matched the model's shapes. Pure; throws
 * ClientException (ECS's type for these) naming what is wrong. Returns the parsed task size.
 */
export function validateTaskDefinition(input: RegisterTaskDefinitionRequest): ValidatedSize {
  const family = input.family ?? '';
  if (!NAME_PATTERN.test(family)) {
    throw clientError(
      `Invalid family name '${family}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
    );
  }
  const containers = input.containerDefinitions ?? [];
  if (containers.length === 0) throw clientError('Task definitions need at least one container definition.');
  if (containers.length > MAX_CONTAINERS) {
    throw clientError(`Too many containers: a task definition can have at most ${MAX_CONTAINERS} (got ${containers.length}).`);
  }
  const { tags: _tags, ...definition } = input;
  const bytes = Buffer.byteLength(JSON.stringify(definition));
  if (bytes > MAX_TASK_DEFINITION_BYTES) {
    throw clientError(`Actual task definition size (${bytes} bytes) exceeds the limit (${MAX_TASK_DEFINITION_BYTES} bytes).`);
  }

  const networkMode = input.networkMode ?? 'bridge';
  const cpu = input.cpu === undefined ? undefined : parseTaskCpu(input.cpu);
  const memory = input.memory === undefined ? undefined : parseTaskMemory(input.memory);
  const fargate = input.requiresCompatibilities?.includes('FARGATE') ?? false;
  if (fargate) checkFargateTask(input, networkMode, cpu, memory);
  else if (cpu !== undefined && (cpu < EC2_TASK_CPU.min || cpu > EC2_TASK_CPU.max)) {
    throw clientError(`Invalid 'cpu' setting for task: ${cpu} CPU units is outside ${EC2_TASK_CPU.min}–${EC2_TASK_CPU.max}.`);
  }

  const volumeNames = checkVolumes(input, fargate);
  const containerNames = new Set<string>();
  for (const c of containers) {
    if (!c.name) throw clientError('Container.name should not be null or empty.');
    if (!NAME_PATTERN.test(c.name)) {
      throw clientError(
        `Invalid container name '${c.name}'. Up to 255 letters (uppercase and lowercase), numbers, underscores, and hyphens are allowed.`,
      );
    }
    if (containerNames.has(c.name)) throw clientError(`Duplicate container name '${c.name}' in the task definition.`);
    containerNames.add(c.name);
  }
  const context: TaskContext = {
    networkMode,
    fargate,
    containerNames,
    volumeNames,
    ...(memory !== undefined ? { taskMemory: memory } : {}),
  };
  for (const c of containers) validateContainer(c, context);

  if (!containers.some((c) => c.essential !== false)) {
    throw clientError('A task definition must have at least one essential container.');
  }
  checkTaskTotals(containers, cpu, memory);
  checkHostPorts(containers, networkMode);
  checkDependencies(containers);
  checkPlacementConstraints(input);
  if (input.proxyConfiguration && !containerNames.has(input.proxyConfiguration.containerName ?? '')) {
    throw clientError(`The proxyConfiguration containerName '${input.proxyConfiguration.containerName}' is not a container of the task definition.`);
  }
  const gib = input.ephemeralStorage?.sizeInGiB;
  if (gib !== undefined && (gib < 21 || gib > 200)) {
    throw clientError(`ephemeralStorage.sizeInGiB must be between 21 and 200 (got ${gib}).`);
  }
  return { networkMode, ...(cpu !== undefined ? { cpu } : {}), ...(memory !== undefined ? { memory } : {}) };
}

function checkFargateTask(input: RegisterTaskDefinitionRequest, networkMode: NetworkMode, cpu?: number, memory?: number): void {
  if (cpu === undefined) throw clientError("Fargate requires that 'cpu' be defined at the task level.");
  if (memory === undefined) throw clientError("Fargate requires that 'memory' be defined at the task level.");
  if (networkMode !== 'awsvpc') throw clientError("Fargate only supports network mode 'awsvpc'.");
  checkFargateSize(cpu, memory);
  if (input.placementConstraints?.length) throw clientError('Fargate does not support placement constraints.');
  if (input.ipcMode) throw clientError("Fargate does not support the 'ipcMode' parameter.");
  if (input.pidMode === 'host') throw clientError(ecsMessage('fargatePidModeHost'));
}

const volumeKinds = [
  'host',
  'dockerVolumeConfiguration',
  'efsVolumeConfiguration',
  's3filesVolumeConfiguration',
  'fsxWindowsFileServerVolumeConfiguration',
] as const;

function checkVolumes(input: RegisterTaskDefinitionRequest, fargate: boolean): Set<string> {
  const names = new Set<string>();
  for (const v of input.volumes ?? []) {
    if (!v.name || !NAME_PATTERN.test(v.name)) {
      throw clientError(`Invalid volume name '${v.name ?? ''}'. Up to 255 letters, numbers, hyphens, and underscores are allowed.`);
    }
    if (names.has(v.name)) throw clientError(`Duplicate volume name '${v.name}' in the task definition.`);
    names.add(v.name);
    const kinds = volumeKinds.filter((k) => v[k] !== undefined);
    if (kinds.length > 1) throw clientError(`Volume '${v.name}' can have only one of ${volumeKinds.join(', ')} (got ${kinds.join(', ')}).`);
    const dvc = v.dockerVolumeConfiguration;
    if (dvc?.autoprovision && dvc.scope !== 'shared') {
      throw clientError(`Volume '${v.name}': autoprovision is only valid for volumes with scope 'shared'.`);
    }
    if (v.efsVolumeConfiguration) checkEfsVolume(v.name, v.efsVolumeConfiguration);
    if (fargate && v.host?.sourcePath) throw clientError(`Fargate does not support host volumes with a sourcePath (volume '${v.name}').`);
    if (fargate && dvc) throw clientError(`Fargate does not support dockerVolumeConfiguration (volume '${v.name}').`);
  }
  return names;
}

/**
 * ECS's rules for an EFS volume (ECS Developer Guide, "Specify an Amazon EFS file system in a task definition"):
 * IAM authorization and access points need transit encryption, and an access point fixes the root directory.
 */
function checkEfsVolume(name: string, efs: NonNullable<NonNullable<RegisterTaskDefinitionRequest['volumes']>[number]['efsVolumeConfiguration']>): void {
  const auth = efs.authorizationConfig;
  const tls = efs.transitEncryption === 'ENABLED';
  if (auth?.iam === 'ENABLED' && !tls) {
    throw clientError(`Volume '${name}': efsVolumeConfiguration.transitEncryption must be ENABLED when authorizationConfig.iam is ENABLED.`);
  }
  if (auth?.accessPointId !== undefined && !tls) {
    throw clientError(`Volume '${name}': efsVolumeConfiguration.transitEncryption must be ENABLED when authorizationConfig.accessPointId is specified.`);
  }
  if (auth?.accessPointId !== undefined && efs.rootDirectory !== undefined && efs.rootDirectory !== '/') {
    throw clientError(ecsMessage('efsAccessPointRootDirectory'));
  }
  const port = efs.transitEncryptionPort;
  if (port !== undefined && (port < 1 || port > 65535)) {
    throw clientError(`Volume '${name}': efsVolumeConfiguration.transitEncryptionPort must be a port (1-65535) (got ${port}).`);
  }
}

function checkTaskTotals(containers: readonly ContainerDefinition[], cpu?: number, memory?: number): void {
  if (memory !== undefined) {
    const reserved = containers.reduce((sum, c) => sum + (c.memoryReservation ?? c.memory ?? 0), 0);
    if (reserved > memory) {
      throw clientError(`The sum of the containers' memory reservations (${reserved} MiB) exceeds the task memory (${memory} MiB).`);
    }
  }
  if (cpu !== undefined) {
    const total = containers.reduce((sum, c) => sum + (c.cpu ?? 0), 0);
    if (total > cpu) throw clientError(`The sum of the containers' cpu (${total} units) exceeds the task cpu (${cpu} units).`);
  }
}

function checkHostPorts(containers: readonly ContainerDefinition[], networkMode: NetworkMode): void {
  const used = new Map<string, string>();
  for (const c of containers) {
    for (const pm of c.portMappings ?? []) {
      if (pm.containerPort === undefined) continue;
      // In awsvpc and host mode the host port is the container port; in bridge only fixed host ports clash.
      const port = networkMode === 'awsvpc' || networkMode === 'host' ? pm.containerPort : pm.hostPort;
      if (!port) continue;
      const key = `${port}/${pm.protocol ?? 'tcp'}`;
      const owner = used.get(key);
      if (owner !== undefined) {
        throw clientError(`Host port ${key} is mapped by more than one port mapping (containers '${owner}' and '${c.name}').`);
      }
      used.set(key, c.name!);
    }
  }
}

function checkDependencies(containers: readonly ContainerDefinition[]): void {
  const byName = new Map(containers.map((c) => [c.name!, c]));
  for (const c of containers) {
    for (const dep of c.dependsOn ?? []) {
      const target = byName.get(dep.containerName!);
      if (!target) {
        throw clientError(`Container '${c.name}' depends on container '${dep.containerName}', which is not in the task definition.`);
      }
      if (target === c) throw clientError(`Container '${c.name}' cannot depend on itself.`);
      if ((dep.condition === 'COMPLETE' || dep.condition === 'SUCCESS') && target.essential !== false) {
        throw clientError(
          `Container '${c.name}' depends on essential container '${target.name}' with condition ${dep.condition}; COMPLETE and SUCCESS can only target non-essential containers.`,
        );
      }
      if (dep.condition === 'HEALTHY' && !target.healthCheck) {
        throw clientError(`Container '${c.name}' depends on '${target.name}' being HEALTHY, but '${target.name}' has no healthCheck.`);
      }
    }
  }
  // A cycle would hold every container in it back forever.
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      throw clientError(`Container dependencies form a cycle: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}.`);
    }
    state.set(name, 'visiting');
    for (const dep of byName.get(name)?.dependsOn ?? []) visit(dep.containerName!, [...path, name]);
    state.set(name, 'done');
  };
  for (const c of containers) visit(c.name!, []);
}

function checkPlacementConstraints(input: RegisterTaskDefinitionRequest): void {
  const constraints = input.placementConstraints ?? [];
  if (constraints.length > MAX_PLACEMENT_CONSTRAINTS) {
    throw clientError(`A task definition can have at most ${MAX_PLACEMENT_CONSTRAINTS} placement constraints.`);
  }
  // The model allows only type memberOf here; the expression is what needs checking.
  for (const pc of constraints) {
    if (!pc.expression) throw clientError("A memberOf placement constraint needs an 'expression'.");
    if (pc.expression.length > MAX_EXPRESSION_LENGTH) {
      throw clientError(`A placement constraint expression can be at most ${MAX_EXPRESSION_LENGTH} characters.`);
    }
  }
}
