/**
 * Service Connect in the ECS API: namespaces named by services and clusters resolved in Cloud Map (a
 * cluster's default namespace is created, HTTP, when its name is new, as ECS does), the Cloud Map services
 * ECS makes for each discoveryName, and ListServicesByNamespace. The checks themselves are pure
 * (model/service/service-connect.ts).
 */
import type { ListServicesByNamespaceRequest, ServiceConnectConfiguration, TaskDefinition } from '@aws-sdk/client-ecs';
import { CloudMapCatalog } from '../../cloudmap/catalog.js';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { checkServiceConnect, namespaceRefOf, type StoredServiceConnect } from '../../model/service/service-connect.js';
import type { Wire } from '../../model/wire.js';
import { keys } from '../../state/keys.js';
import type { NamespaceRecord } from '../../state/records/cloudmap.js';
import { parseServiceRecord } from '../../state/records/services.js';
import type { EcsEnv } from './env.js';

const namespaceNotFound = (ref: string) => new ServiceError('NamespaceNotFoundException', `Failed to retrieve namespace for ${ref}`);

async function findNamespace(env: EcsEnv, ref: string): Promise<NamespaceRecord | undefined> {
  const catalog = new CloudMapCatalog(env);
  if (ref.startsWith('arn:')) {
    const m = /^arn:[^:]+:servicediscovery:[^:]*:[^:]*:namespace\/(ns-[A-Za-z0-9]+)$/.exec(ref);
    return m ? catalog.namespace(undefined, m[1]!).catch(() => undefined) : undefined;
  }
  return catalog.namespaceByName(ref);
}

/** A namespace a service names (name or ARN): it must exist. */
export async function serviceConnectNamespace(env: EcsEnv, ref: string): Promise<NamespaceRecord> {
  const ns = await findNamespace(env, ref);
  if (!ns) throw invalidParameter(`serviceConnectConfiguration.namespace: the Cloud Map namespace ${ref} was not found.`);
  return ns;
}

/**
 * A cluster's `serviceConnectDefaults.namespace` as ECS keeps it (the namespace's ARN): an existing
 * namespace by name or ARN, or a new HTTP namespace of that name.
 */
export async function clusterDefaultNamespace(env: EcsEnv, ref: string): Promise<string> {
  if (ref.length === 0 || ref.length > 1024 || /[<>"/]/.test(ref.startsWith('arn:') ? '' : ref)) {
    throw invalidParameter('serviceConnectDefaults.namespace: up to 1024 characters, without >, <, " or /.');
  }
  const found = await findNamespace(env, ref);
  if (found) return found.arn;
  if (ref.startsWith('arn:')) throw invalidParameter(`serviceConnectDefaults.namespace: the Cloud Map namespace ${ref} was not found.`);
  const catalog = new CloudMapCatalog(env);
  const operationId = await catalog.createNamespace({ name: ref, type: 'HTTP', tags: [], description: 'Created by ECS for Service Connect' }).catch(async (e) => {
    // Created meanwhile by someone else: use it.
    if (await catalog.namespaceByName(ref)) return undefined;
    throw e;
  });
  // Cloud Map creates namespaces asynchronously; ECS answers with the namespace made, so it runs the operation now
  // (whichever of it and the leader's worker comes first does the work, once).
  if (operationId) await catalog.runOperation(operationId);
  return (await catalog.namespaceByName(ref))!.arn;
}

/** What a deployment keeps: the checked configuration and the Cloud Map services it registers in. */
export interface ServiceConnectDeployment {
  readonly serviceConnectConfiguration: StoredServiceConnect;
  readonly serviceConnectResources: { discoveryName: string; discoveryArn: string }[];
}

/**
 * `given` checked against `td`, the namespace resolved (the cluster's default when none is given). Returns
 * undefined when Service Connect is off (not given, or `enabled: false`).
 */
export async function checkedServiceConnect(
  env: EcsEnv,
  given: Wire<ServiceConnectConfiguration> | undefined,
  td: Wire<TaskDefinition> | undefined,
  clusterDefault: string | undefined,
): Promise<StoredServiceConnect | undefined> {
  if (!given) return undefined;
  if (given.enabled === undefined || given.enabled === null) throw invalidParameter('serviceConnectConfiguration.enabled is required.');
  if (!given.enabled) return undefined;
  if (!td) throw invalidParameter('serviceConnectConfiguration: Service Connect needs the service to have a task definition.');
  const ns = await serviceConnectNamespace(env, namespaceRefOf(given, clusterDefault));
  return checkServiceConnect(given, td, { arn: ns.arn, name: ns.name });
}

/**
 * The Cloud Map service of each discoveryName, created in the namespace when missing (as ECS makes them;
 * HTTP services with custom health, so that ECS can mark tasks). Called once the request's checks passed.
 */
export async function discoveryResources(env: EcsEnv, config: StoredServiceConnect): Promise<ServiceConnectDeployment> {
  const catalog = new CloudMapCatalog(env);
  const ns = await catalog.namespace(undefined, config.namespace);
  const serviceConnectResources = [];
  for (const s of config.services) {
    let service = await catalog.serviceByName(ns.id, s.discoveryName);
    if (!service) {
      service = await catalog
        .createService({ name: s.discoveryName, namespaceId: ns.id, customHealth: true, type: 'HTTP', tags: [], description: 'Created by ECS for Service Connect' })
        .catch(async (e) => (await catalog.serviceByName(ns.id, s.discoveryName)) ?? Promise.reject(e));
    }
    serviceConnectResources.push({ discoveryName: s.discoveryName, discoveryArn: service!.arn });
  }
  return { serviceConnectConfiguration: config, serviceConnectResources };
}

/** ListServicesByNamespace: the ACTIVE services (of every cluster) whose current deployment uses the namespace. */
export async function listServicesByNamespace(env: EcsEnv, input: ListServicesByNamespaceRequest) {
  if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 100)) {
    throw invalidParameter('maxResults must be between 1 and 100.');
  }
  const ns = input.namespace ? await findNamespace(env, input.namespace) : undefined;
  if (!ns) throw namespaceNotFound(input.namespace ?? '');
  const arns: string[] = [];
  for (const e of (await env.store.range(keys.services())).entries) {
    const s = parseServiceRecord(e.value, e.key);
    if (s.status !== 'ACTIVE') continue;
    const primary = s.deployments?.find((d) => d.status === 'PRIMARY') as { serviceConnectConfiguration?: { enabled?: boolean; namespace?: string } } | undefined;
    if (primary?.serviceConnectConfiguration?.enabled && primary.serviceConnectConfiguration.namespace === ns.arn) arns.push(s.serviceArn!);
  }
  arns.sort();
  const size = input.maxResults ?? 10;
  const start = input.nextToken ? arns.findIndex((a) => a > Buffer.from(input.nextToken!, 'base64url').toString()) : 0;
  if (input.nextToken && !/^[A-Za-z0-9_-]+$/.test(input.nextToken)) throw invalidParameter('nextToken: not a token this API returned.');
  const from = start < 0 ? arns.length : start;
  const page = arns.slice(from, from + size);
  const more = from + size < arns.length;
  return { serviceArns: page, ...(more ? { nextToken: Buffer.from(page.at(-1)!).toString('base64url') } : {}) };
}
