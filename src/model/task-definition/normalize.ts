import type {
  ContainerDefinition,
  Compatibility,
  NetworkMode,
  PortMapping,
  RegisterTaskDefinitionRequest,
  TaskDefinition,
  Volume,
} from '@aws-sdk/client-ecs';
import { roleArn, taskDefinitionArn, type ArnScope } from '../arn.js';
import type { Wire } from '../wire.js';
import { requiredAttributes } from './requires-attributes.js';
import type { ValidatedSize } from './validate.js';
import { healthCheckBounds } from './validate-container.js';

export interface Registration {
  readonly scope: ArnScope;
  readonly revision: number;
  /** Epoch seconds. */
  readonly registeredAt: number;
  readonly registeredBy: string;
}

/**
 * The task definition as ECS stores and returns it: the request's fields with ECS's defaults filled in
 * (essential, cpu 0, empty lists, port protocols and host ports), units normalised, role names expanded,
 * and the computed fields (ARN, revision, status, requiresAttributes, compatibilities, registration).
 */
export function normalizeTaskDefinition(
  input: RegisterTaskDefinitionRequest,
  size: ValidatedSize,
  reg: Registration,
): Wire<TaskDefinition> {
  const { tags: _tags, ...fields } = input;
  const requires = input.requiresCompatibilities ?? [];
  const compatibilities = new Set<Compatibility>(['EC2', 'EXTERNAL']);
  for (const c of requires) compatibilities.add(c);
  return {
    ...fields,
    taskDefinitionArn: taskDefinitionArn(reg.scope, input.family!, reg.revision),
    family: input.family!,
    revision: reg.revision,
    status: 'ACTIVE',
    networkMode: size.networkMode,
    containerDefinitions: input.containerDefinitions!.map((c) => normalizeContainer(c, size.networkMode)),
    volumes: (input.volumes ?? []).map(normalizeVolume),
    placementConstraints: input.placementConstraints ?? [],
    requiresAttributes: requiredAttributes(input).map((name) => ({ name })),
    compatibilities: [...compatibilities].sort(),
    ...(input.requiresCompatibilities ? { requiresCompatibilities: input.requiresCompatibilities } : {}),
    ...(size.cpu !== undefined ? { cpu: String(size.cpu) } : {}),
    ...(size.memory !== undefined ? { memory: String(size.memory) } : {}),
    // Empty role strings mean "no role" and are dropped.
    taskRoleArn: input.taskRoleArn ? roleArn(reg.scope, input.taskRoleArn) : undefined,
    executionRoleArn: input.executionRoleArn ? roleArn(reg.scope, input.executionRoleArn) : undefined,
    registeredAt: reg.registeredAt,
    registeredBy: reg.registeredBy,
  };
}

/** ECS describes an EFS volume without a root directory as mounting the file system's root, `/`. */
function normalizeVolume(v: Volume): Volume {
  if (!v.efsVolumeConfiguration || v.efsVolumeConfiguration.rootDirectory !== undefined) return v;
  return { ...v, efsVolumeConfiguration: { ...v.efsVolumeConfiguration, rootDirectory: '/' } };
}

function normalizeContainer(c: ContainerDefinition, networkMode: NetworkMode): ContainerDefinition {
  return {
    ...c,
    cpu: c.cpu ?? 0,
    essential: c.essential ?? true,
    portMappings: (c.portMappings ?? []).map((pm) => normalizePortMapping(pm, networkMode)),
    environment: c.environment ?? [],
    mountPoints: c.mountPoints ?? [],
    volumesFrom: c.volumesFrom ?? [],
    systemControls: c.systemControls ?? [],
    ...(c.healthCheck
      ? {
          healthCheck: {
            ...c.healthCheck,
            interval: c.healthCheck.interval ?? healthCheckBounds.interval.default,
            timeout: c.healthCheck.timeout ?? healthCheckBounds.timeout.default,
            retries: c.healthCheck.retries ?? healthCheckBounds.retries.default,
          },
        }
      : {}),
  };
}

function normalizePortMapping(pm: PortMapping, networkMode: NetworkMode): PortMapping {
  if (pm.containerPortRange !== undefined) return { ...pm, protocol: pm.protocol ?? 'tcp' };
  // awsvpc and host tasks listen on the container port itself; in bridge mode 0 asks for a dynamic host port.
  const hostPort = networkMode === 'awsvpc' || networkMode === 'host' ? pm.containerPort : (pm.hostPort ?? 0);
  return { ...pm, hostPort, protocol: pm.protocol ?? 'tcp' };
}
