import { pageOf, pageOfList } from '../api/pagination.js';
import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import { ServiceError } from '../model/errors.js';
import { cloudMapKeys as k } from '../state/cloudmap-keys.js';
import {
  parseInstanceRecord,
  parseNamespaceRecord,
  parseOperationRecord,
  parseServiceRecord,
  type CloudMapTag,
  type DnsRecordSpec,
  type NamespaceRecord,
  type NamespaceType,
  type RoutingPolicy,
  type ServiceRecord,
} from '../state/records/cloudmap.js';
import { CloudMapCatalog, type CloudMapEnv } from './catalog.js';
import { cloudMapErrors } from './errors.js';
import { filterMatcher } from './filters.js';
import { reportedHealth, servesTraffic } from './health.js';
import { cloudMapActions } from './iam-actions.js';
import { checkDnsConfig } from './instance-attributes.js';
import { checkDnsNamespaceName, checkDnsServiceName, parseCloudMapArn } from './names.js';
import { instanceOut, namespaceOut, operationOut, serviceOut } from './wire.js';

export const CLOUD_MAP_TARGET_PREFIX = 'Route53AutoNaming_v20170314';

const MAX_TAGS = 50;

/**
 * AWS Cloud Map (service discovery): namespaces (private and public DNS, HTTP), services with their DNS
 * records and custom health checks, instances, discovery by API, operations and tags. DNS namespaces are
 * answered by berth's own DNS server (src/cloudmap/dns), which reads the same records. Route 53 health checks
 * (HealthCheckConfig) are refused: berth has no checker that would probe the instances.
 */
export function cloudMapService(env: CloudMapEnv): JsonService {
  const catalog = new CloudMapCatalog(env);
  const account = env.scope.accountId;

  const createNamespace = (type: NamespaceType) => async (input: any) => {
    const name = type === 'HTTP' ? (input.Name as string) : checkDnsNamespaceName(input.Name);
    checkTags(input.Tags);
    const soaTtl = input.Properties?.DnsProperties?.SOA?.TTL as number | undefined;
    const operationId = await catalog.createNamespace({
      name,
      type,
      tags: input.Tags ?? [],
      ...(input.Description !== undefined ? { description: input.Description } : {}),
      ...(input.CreatorRequestId !== undefined ? { creatorRequestId: input.CreatorRequestId } : {}),
      ...(soaTtl !== undefined ? { soaTtl } : {}),
    });
    return { OperationId: operationId };
  };
  const updateNamespace = (type: NamespaceType) => async (input: any) => {
    const change = input.Namespace ?? {};
    const soaTtl = change.Properties?.DnsProperties?.SOA?.TTL as number | undefined;
    const operationId = await catalog.updateNamespace(input.Id, type, {
      ...(change.Description !== undefined ? { description: change.Description } : {}),
      ...(soaTtl !== undefined ? { soaTtl } : {}),
    });
    return { OperationId: operationId };
  };

  const operations: Record<string, Operation> = {
    CreatePrivateDnsNamespace: createNamespace('DNS_PRIVATE'),
    CreatePublicDnsNamespace: createNamespace('DNS_PUBLIC'),
    CreateHttpNamespace: createNamespace('HTTP'),
    UpdatePrivateDnsNamespace: updateNamespace('DNS_PRIVATE'),
    UpdatePublicDnsNamespace: updateNamespace('DNS_PUBLIC'),
    UpdateHttpNamespace: updateNamespace('HTTP'),

    async GetNamespace(input) {
      return { Namespace: namespaceOut(await catalog.namespace(undefined, input.Id), account, true) };
    },

    async DeleteNamespace(input) {
      return { OperationId: await catalog.deleteNamespace(input.Id) };
    },

    async ListNamespaces(input) {
      const matches = filterMatcher<NamespaceRecord>(input.Filters, {
        TYPE: (n) => n.type,
        NAME: (n) => n.name,
        HTTP_NAME: (n) => n.httpName,
        RESOURCE_OWNER: () => 'SELF',
      });
      const page = await asTokenError(() =>
        pageOf(env.store, k.namespaces(), { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 100, maxSize: 100 }, (e) => {
          const ns = parseNamespaceRecord(e.value, e.key);
          return matches(ns) ? namespaceOut(ns, account, false) : undefined;
        }),
      );
      return { Namespaces: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async CreateService(input) {
      const namespaceId = input.NamespaceId ?? input.DnsConfig?.NamespaceId;
      if (namespaceId === undefined) throw cloudMapErrors.invalid('NamespaceId is required.');
      const ns = await catalog.namespace(undefined, namespaceId);
      if (input.HealthCheckConfig !== undefined) throw healthCheckConfigRefused();
      if (input.Type !== undefined && input.Type !== 'HTTP') throw cloudMapErrors.invalid(`Type '${input.Type}' is not valid: only HTTP may be given.`);
      checkTags(input.Tags);
      let dns: ServiceRecord['dns'];
      if (ns.type === 'HTTP') {
        if (input.DnsConfig !== undefined) throw cloudMapErrors.invalid(`DnsConfig is not allowed for a service in HTTP namespace ${ns.id}.`);
      } else {
        checkDnsServiceName(input.Name, ns.name);
        if (input.DnsConfig !== undefined && input.Type !== 'HTTP') {
          const records = (input.DnsConfig.DnsRecords ?? []) as DnsRecordSpec[];
          const routingPolicy = (input.DnsConfig.RoutingPolicy ?? 'MULTIVALUE') as RoutingPolicy;
          checkDnsConfig(records, routingPolicy);
          dns = { routingPolicy, records: records.map((r) => ({ Type: r.Type, TTL: r.TTL })) };
        }
      }
      const service = await catalog.createService({
        name: input.Name,
        namespaceId: ns.id,
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.CreatorRequestId !== undefined ? { creatorRequestId: input.CreatorRequestId } : {}),
        ...(dns ? { dns } : {}),
        customHealth: input.HealthCheckCustomConfig !== undefined,
        type: dns ? 'DNS_HTTP' : 'HTTP',
        tags: input.Tags ?? [],
      });
      return { Service: serviceOut(service, account, true) };
    },

    async GetService(input) {
      return { Service: serviceOut(await catalog.service(undefined, input.Id), account, true) };
    },

    async ListServices(input) {
      const matches = filterMatcher<ServiceRecord>(input.Filters, { NAMESPACE_ID: (s) => s.namespaceId, RESOURCE_OWNER: () => 'SELF' });
      const page = await asTokenError(() =>
        pageOf(env.store, k.services(), { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 100, maxSize: 100 }, (e) => {
          const s = parseServiceRecord(e.value, e.key);
          return matches(s) ? serviceOut(s, account, false) : undefined;
        }),
      );
      return { Services: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async UpdateService(input) {
      const change = input.Service ?? {};
      if (change.HealthCheckConfig !== undefined) throw healthCheckConfigRefused();
      const operationId = await catalog.changeService(
        input.Id,
        (s) => {
          let dns = s.dns;
          if (change.DnsConfig !== undefined) {
            if (!s.dns) throw cloudMapErrors.invalid(`Service.DnsConfig cannot be set on service ${s.id}, which has no DNS records.`);
            const records = change.DnsConfig.DnsRecords as DnsRecordSpec[];
            // Cloud Map lets an update change TTLs, not which record types a service has.
            const had = s.dns.records.map((r) => r.Type).sort().join(',');
            if (records.map((r) => r.Type).sort().join(',') !== had) throw cloudMapErrors.invalid(`Service.DnsConfig.DnsRecords must keep the service's record types (${had}); only TTLs change.`);
            checkDnsConfig(records, s.dns.routingPolicy);
            dns = { ...s.dns, records: records.map((r) => ({ Type: r.Type, TTL: r.TTL })) };
          }
          return { ...s, ...(change.Description !== undefined ? { description: change.Description } : {}), ...(dns ? { dns } : {}) };
        },
        'UPDATE_SERVICE',
      );
      return { OperationId: operationId };
    },

    async DeleteService(input) {
      await catalog.deleteService(input.Id);
      return {};
    },

    async GetServiceAttributes(input) {
      const s = await catalog.service(undefined, input.ServiceId);
      return { ServiceAttributes: { ServiceArn: s.arn, ResourceOwner: account, Attributes: s.attributes } };
    },

    async UpdateServiceAttributes(input) {
      await catalog.changeService(input.ServiceId, (s) => {
        const attributes = { ...s.attributes, ...(input.Attributes as Record<string, string>) };
        if (Object.keys(attributes).length > 30) throw cloudMapErrors.attributesLimit();
        return { ...s, attributes };
      });
      return {};
    },

    async DeleteServiceAttributes(input) {
      await catalog.changeService(input.ServiceId, (s) => {
        const attributes = { ...s.attributes };
        for (const key of input.Attributes as string[]) delete attributes[key];
        return { ...s, attributes };
      });
      return {};
    },

    async RegisterInstance(input) {
      return { OperationId: await catalog.registerInstance(input.ServiceId, input.InstanceId, input.Attributes ?? {}, input.CreatorRequestId) };
    },

    async DeregisterInstance(input) {
      return { OperationId: await catalog.deregisterInstance(input.ServiceId, input.InstanceId) };
    },

    async GetInstance(input) {
      const { instance } = await catalog.instance(input.ServiceId, input.InstanceId);
      return { ResourceOwner: account, Instance: instanceOut(instance, account, true) };
    },

    async ListInstances(input) {
      const service = await catalog.service(undefined, input.ServiceId);
      const page = await asTokenError(() =>
        pageOf(env.store, k.instancesOf(service.id), { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 100, maxSize: 100 }, (e) =>
          instanceOut(parseInstanceRecord(e.value, e.key), account, false),
        ),
      );
      return { ResourceOwner: account, Instances: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async GetInstancesHealthStatus(input) {
      const service = await catalog.service(undefined, input.ServiceId);
      const all = await catalog.instances(service.id);
      const wanted = input.Instances as string[] | undefined;
      if (wanted) {
        const have = new Set(all.map((i) => i.id));
        const missing = wanted.find((id) => !have.has(id));
        if (missing !== undefined) throw cloudMapErrors.instanceNotFound(missing);
      }
      const chosen = wanted ? all.filter((i) => wanted.includes(i.id)) : all;
      const page = await asTokenError(async () => pageOfList(chosen, { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 100, maxSize: 100 }));
      return { Status: Object.fromEntries(page.items.map((i) => [i.id, reportedHealth(service, i)])), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async UpdateInstanceCustomHealthStatus(input) {
      await catalog.setHealth(input.ServiceId, input.InstanceId, input.Status);
      return {};
    },

    async DiscoverInstances(input) {
      const { service, ns } = await discoverTarget(input.NamespaceName, input.ServiceName);
      const wanted = (input.HealthStatus ?? 'HEALTHY') as 'HEALTHY' | 'UNHEALTHY' | 'ALL' | 'HEALTHY_OR_ELSE_ALL';
      const query = Object.entries((input.QueryParameters ?? {}) as Record<string, string>);
      const optional = Object.entries((input.OptionalParameters ?? {}) as Record<string, string>);
      const has = (attrs: Readonly<Record<string, string>>, pairs: [string, string][]) => pairs.every(([key, v]) => attrs[key] === v);
      let found = (await catalog.instances(service.id)).map((i) => ({ i, health: reportedHealth(service, i) })).filter(({ i }) => has(i.attributes, query));
      const healthy = found.filter(({ health }) => servesTraffic(health));
      if (wanted === 'HEALTHY' || (wanted === 'HEALTHY_OR_ELSE_ALL' && healthy.length > 0)) found = healthy;
      else if (wanted === 'UNHEALTHY') found = found.filter(({ health }) => health === 'UNHEALTHY');
      // Optional parameters narrow the answer only when some instance has them (Cloud Map's rule).
      const narrowed = found.filter(({ i }) => has(i.attributes, optional));
      if (narrowed.length > 0) found = narrowed;
      const max = (input.MaxResults as number | undefined) ?? 100;
      return {
        Instances: found.slice(0, max).map(({ i, health }) => ({ InstanceId: i.id, NamespaceName: ns.httpName, ServiceName: service.name, HealthStatus: health, Attributes: i.attributes })),
        InstancesRevision: service.instanceRevision,
      };
    },

    async DiscoverInstancesRevision(input) {
      const { service } = await discoverTarget(input.NamespaceName, input.ServiceName);
      return { InstancesRevision: service.instanceRevision };
    },

    async GetOperation(input) {
      return { Operation: operationOut(await catalog.getOperation(input.OperationId), account) };
    },

    async ListOperations(input) {
      const matches = filterMatcher<ReturnType<typeof parseOperationRecord>>(input.Filters, {
        NAMESPACE_ID: (o) => o.targets.NAMESPACE,
        SERVICE_ID: (o) => o.targets.SERVICE,
        STATUS: (o) => o.status,
        TYPE: (o) => o.type,
        UPDATE_DATE: (o) => o.updateDate / 1000,
      });
      const all = (await env.store.range(k.operations())).entries.map((e) => parseOperationRecord(e.value, e.key)).filter(matches);
      all.sort((a, b) => a.createDate - b.createDate || a.id.localeCompare(b.id));
      const page = await asTokenError(async () => pageOfList(all, { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 100, maxSize: 100 }));
      return { Operations: page.items.map((o) => ({ Id: o.id, Status: o.status })), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async ListTagsForResource(input) {
      return { Tags: await tagsOf(input.ResourceARN) };
    },

    async TagResource(input) {
      checkTags(input.Tags);
      await changeTags(input.ResourceARN, (tags) => {
        const merged = new Map(tags.map((t) => [t.Key, t.Value]));
        for (const t of input.Tags as CloudMapTag[]) merged.set(t.Key, t.Value);
        if (merged.size > MAX_TAGS) throw cloudMapErrors.tooManyTags();
        return [...merged].map(([Key, Value]) => ({ Key, Value }));
      });
      return {};
    },

    async UntagResource(input) {
      const drop = new Set(input.TagKeys as string[]);
      await changeTags(input.ResourceARN, (tags) => tags.filter((t) => !drop.has(t.Key)));
      return {};
    },
  };

  async function discoverTarget(namespaceName: string, serviceName: string): Promise<{ ns: NamespaceRecord; service: ServiceRecord }> {
    const ns = await catalog.namespaceByName(namespaceName);
    if (!ns) throw cloudMapErrors.namespaceNotFound(namespaceName);
    const service = await catalog.serviceByName(ns.id, serviceName);
    if (!service) throw cloudMapErrors.serviceNotFound(serviceName);
    return { ns, service };
  }

  async function tagsOf(arn: string): Promise<readonly CloudMapTag[]> {
    const target = parseCloudMapArn(arn);
    if (!target) throw cloudMapErrors.resourceNotFound(arn);
    try {
      return target.kind === 'namespace' ? (await catalog.namespace(undefined, target.id)).tags : (await catalog.service(undefined, target.id)).tags;
    } catch (error) {
      if (error instanceof ServiceError) throw cloudMapErrors.resourceNotFound(arn);
      throw error;
    }
  }

  async function changeTags(arn: string, fn: (tags: readonly CloudMapTag[]) => CloudMapTag[]): Promise<void> {
    await tagsOf(arn);
    const target = parseCloudMapArn(arn)!;
    if (target.kind === 'namespace') await catalog.changeNamespace(target.id, (ns) => ({ ...ns, tags: fn(ns.tags) }));
    else await catalog.changeService(target.id, (s) => ({ ...s, tags: fn(s.tags) }));
  }

  return {
    targetPrefix: CLOUD_MAP_TARGET_PREFIX,
    signingNames: ['servicediscovery'],
    model: loadServiceModel('servicediscovery-2017-03-14.json'),
    actions: cloudMapActions(),
    operations,
    inputErrorType: 'InvalidInput',
  };
}

function checkTags(tags: readonly CloudMapTag[] | undefined): void {
  if (tags && tags.length > MAX_TAGS) throw cloudMapErrors.tooManyTags();
}

function healthCheckConfigRefused(): ServiceError {
  return cloudMapErrors.invalid('HealthCheckConfig (Route 53 health checks) is not supported by berth: use HealthCheckCustomConfig and UpdateInstanceCustomHealthStatus.');
}

/** A page token that does not decode is InvalidInput, naming NextToken. */
async function asTokenError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ServiceError && /nextToken|maxResults/.test(error.message)) throw cloudMapErrors.invalid(error.message.replace('nextToken', 'NextToken').replace('maxResults', 'MaxResults'));
    throw error;
  }
}
