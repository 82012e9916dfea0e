import type { RegisterTaskDefinitionRequest, TaskDefinition } from '@aws-sdk/client-ecs';
import { CliUsageError } from './settings.js';

/**
 * The members of a described task definition that RegisterTaskDefinition takes back; the rest (ARN, revision,
 * status, compatibilities, requiresAttributes, registeredAt/By, …) are the service's own and would be refused.
 */
const REGISTERABLE = [
  'family',
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'containerDefinitions',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const satisfies readonly (keyof RegisterTaskDefinitionRequest & keyof TaskDefinition)[];

/** The container whose image `berth deploy` replaces: the one named, else the only one. */
export function targetContainer(definition: TaskDefinition, named: string | undefined): string {
  const names = (definition.containerDefinitions ?? []).map((c) => c.name ?? '');
  if (named !== undefined) {
    if (!names.includes(named)) throw new CliUsageError(`task definition ${revisionName(definition)} has no container '${named}' (it has: ${names.join(', ')}); give --container with one of them`);
    return named;
  }
  if (names.length === 1) return names[0]!;
  throw new CliUsageError(`task definition ${revisionName(definition)} has ${names.length} containers (${names.join(', ')}): say which one gets the image with --container NAME`);
}

/** The next revision of `definition`, with `image` in container `container`; everything else as it was (pure). */
export function nextRevision(definition: TaskDefinition, container: string, image: string, tags: RegisterTaskDefinitionRequest['tags'] = []): RegisterTaskDefinitionRequest {
  const request: Record<string, unknown> = {};
  for (const key of REGISTERABLE) if (definition[key] !== undefined) request[key] = definition[key];
  request.containerDefinitions = (definition.containerDefinitions ?? []).map((c) => (c.name === container ? { ...c, image } : c));
  if (tags.length > 0) request.tags = tags;
  return request as unknown as RegisterTaskDefinitionRequest;
}

const revisionName = (d: TaskDefinition) => `${d.family}:${d.revision}`;
