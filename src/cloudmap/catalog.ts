/**
 * Cloud Map's records in the Store. Every change is one compare-and-swap transaction (store/transact.ts), so
 * replicas never lose each other's writes; the invariants that span records meet on one key each:
 *
 * - a namespace's name index (`namespace-names/<name>`): one namespace per name, created or refused whole;
 * - the namespace record's `serviceCount`: CreateService and DeleteService change it, DeleteNamespace reads it;
 * - the service record's `instanceCount`/`instanceRevision`: registrations change them, DeleteService reads them.
 *
 * Namespace operations are asynchronous, as in Cloud Map (operations.ts: SUBMITTED here, run by the leader's worker).
 * Service-update and instance operations are asynchronous in Cloud Map too; berth does their work in the request's
 * own transaction and records the operation beside it as SUCCESS (a request that fails changes nothing and records
 * nothing).
 */
import type { ArnScope } from '../model/arn.js';
import { cloudMapKeys as k } from '../state/cloudmap-keys.js';
import {
  parseInstanceRecord,
  parseNamespaceNameRecord,
  parseNamespaceRecord,
  parseOperationRecord,
  parseServiceNameRecord,
  parseServiceRecord,
  type CloudMapTag,
  type InstanceHealth,
  type InstanceRecord,
  type NamespaceNameRecord,
  type NamespaceRecord,
  type NamespaceType,
  type OperationRecord,
  type OperationType,
  type ServiceRecord,
} from '../state/records/cloudmap.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { cloudMapErrors } from './errors.js';
import { checkInstanceAttributes } from './instance-attributes.js';
import { namespaceArn, newHostedZoneId, newNamespaceId, newOperationId, newServiceId, serviceArn, serviceIdOf } from './names.js';
import { namespaceKind, runOperation, submitOperation } from './operations.js';

/** What Cloud Map needs from the server around it. */
export interface CloudMapEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** Epoch ms; injectable for tests. */
  readonly now: () => number;
}

export interface NewNamespace {
  readonly name: string;
  readonly type: NamespaceType;
  readonly description?: string;
  readonly creatorRequestId?: string;
  readonly soaTtl?: number;
  readonly tags: readonly CloudMapTag[];
}

export type NewService = Omit<ServiceRecord, 'id' | 'arn' | 'instanceRevision' | 'instanceCount' | 'createDate' | 'attributes'>;

export class CloudMapCatalog {
  constructor(readonly env: CloudMapEnv) {}

  private operation(tx: Tx, type: OperationType, targets: OperationRecord['targets']): string {
    const now = this.env.now();
    const id = newOperationId();
    tx.putJson(k.operation(id), { id, type, status: 'SUCCESS', targets, createDate: now, updateDate: now } satisfies OperationRecord);
    return id;
  }

  async namespace(tx: Tx | undefined, idOrArn: string): Promise<NamespaceRecord> {
    const id = idOrArn.replace(/^arn:[^:]+:servicediscovery:[^:]*:[^:]*:namespace\//, '');
    const record = tx ? await tx.getRecord(parseNamespaceRecord, k.namespace(id)) : await readRecord(this.env.store, parseNamespaceRecord, k.namespace(id));
    if (!record) throw cloudMapErrors.namespaceNotFound(idOrArn);
    return record;
  }

  async namespaceByName(name: string): Promise<NamespaceRecord | undefined> {
    const index = await readRecord(this.env.store, parseNamespaceNameRecord, k.namespaceName(name));
    return index ? readRecord(this.env.store, parseNamespaceRecord, k.namespace(index.id)) : undefined;
  }

  async service(tx: Tx | undefined, idOrArn: string): Promise<ServiceRecord> {
    const id = serviceIdOf(idOrArn);
    const record = tx ? await tx.getRecord(parseServiceRecord, k.service(id)) : await readRecord(this.env.store, parseServiceRecord, k.service(id));
    if (!record) throw cloudMapErrors.serviceNotFound(idOrArn);
    return record;
  }

  async serviceByName(namespaceId: string, name: string): Promise<ServiceRecord | undefined> {
    const index = await readRecord(this.env.store, parseServiceNameRecord, k.serviceName(namespaceId, name));
    return index ? readRecord(this.env.store, parseServiceRecord, k.service(index.id)) : undefined;
  }

  async instance(serviceIdOrArn: string, instanceId: string): Promise<{ service: ServiceRecord; instance: InstanceRecord }> {
    const service = await this.service(undefined, serviceIdOrArn);
    const instance = await readRecord(this.env.store, parseInstanceRecord, k.instance(service.id, instanceId));
    if (!instance) throw cloudMapErrors.instanceNotFound(instanceId);
    return { service, instance };
  }

  async instances(serviceId: string): Promise<InstanceRecord[]> {
    return (await this.env.store.range(k.instancesOf(serviceId))).entries.map((e) => parseInstanceRecord(e.value, e.key));
  }

  /**
   * Create*Namespace: its operation id (SUBMITTED; the namespace appears when it has run). One DNS (private or
   * public) and one HTTP namespace per Name: an HTTP and a DNS namespace may share one, as in Cloud Map, the second
   * then getting `<name>-<hash>` as its HttpName. A retry with the same CreatorRequestId answers the first operation.
   */
  async createNamespace(input: NewNamespace): Promise<string> {
    return transact(this.env.store, async (tx) => {
      const kind = namespaceKind(input.type);
      const same = (await tx.getRecord(parseNamespaceNameRecord, k.namespaceKind(kind, input.name))) ?? (await this.legacySameKind(tx, input.name, kind));
      if (same) {
        if (input.creatorRequestId !== undefined && same.creatorRequestId === input.creatorRequestId && same.createOperationId) {
          if (same.type !== input.type) throw cloudMapErrors.duplicateRequest(input.creatorRequestId);
          return same.createOperationId;
        }
        throw cloudMapErrors.namespaceExists(input.name, same.id);
      }
      const id = newNamespaceId();
      const httpName = (await tx.get(k.namespaceName(input.name))) ? `${input.name}-${id.slice(3, 11).toLowerCase()}` : input.name;
      const operationId = newOperationId();
      const namespace: Omit<NamespaceRecord, 'createDate'> = {
        id,
        arn: namespaceArn(this.env.scope, id),
        name: input.name,
        type: input.type,
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.creatorRequestId !== undefined ? { creatorRequestId: input.creatorRequestId } : {}),
        createOperationId: operationId,
        ...(kind === 'dns' ? { hostedZoneId: newHostedZoneId(), soaTtl: input.soaTtl ?? 15 } : {}),
        httpName,
        serviceCount: 0,
        tags: input.tags,
      };
      tx.putJson(k.namespaceKind(kind, input.name), {
        id,
        type: input.type,
        createOperationId: operationId,
        ...(input.creatorRequestId !== undefined ? { creatorRequestId: input.creatorRequestId } : {}),
      } satisfies NamespaceNameRecord);
      tx.putJson(k.namespaceName(httpName), { id } satisfies NamespaceNameRecord);
      return submitOperation(tx, this.env.now(), operationId, 'CREATE_NAMESPACE', { NAMESPACE: id }, { kind: 'create', namespace });
    });
  }

  /** A namespace of this kind and name from before the kind index (only the name index then): as the kind index would say. */
  private async legacySameKind(tx: Tx, name: string, kind: 'dns' | 'http'): Promise<NamespaceNameRecord | undefined> {
    const index = await tx.getRecord(parseNamespaceNameRecord, k.namespaceName(name));
    const ns = index ? await tx.getRecord(parseNamespaceRecord, k.namespace(index.id)) : undefined;
    if (!ns || namespaceKind(ns.type) !== kind || ns.name.toLowerCase() !== name.toLowerCase()) return undefined;
    return { id: ns.id, type: ns.type, createOperationId: ns.createOperationId, ...(ns.creatorRequestId !== undefined ? { creatorRequestId: ns.creatorRequestId } : {}) };
  }

  /** Run a submitted operation now, wherever this is (ECS waits for the namespaces it makes); idempotent. */
  async runOperation(id: string): Promise<OperationRecord | undefined> {
    return runOperation(this.env.store, this.env.now, id);
  }

  /** Update*Namespace: the description and (DNS) the SOA TTL, when the operation runs. */
  async updateNamespace(idOrArn: string, type: NamespaceType, change: { description?: string; soaTtl?: number }): Promise<string> {
    return transact(this.env.store, async (tx) => {
      const ns = await this.namespace(tx, idOrArn);
      if (ns.type !== type) throw cloudMapErrors.invalid(`Id ${idOrArn} is a ${ns.type} namespace, not a ${type} one.`);
      return submitOperation(tx, this.env.now(), newOperationId(), 'UPDATE_NAMESPACE', { NAMESPACE: ns.id }, { kind: 'update', type, ...change });
    });
  }

  /** DeleteNamespace: refused (ResourceInUse) while it has services; from then on it takes no new service. */
  async deleteNamespace(idOrArn: string): Promise<string> {
    return transact(this.env.store, async (tx) => {
      const ns = await this.namespace(tx, idOrArn);
      if (ns.deleting) return ns.deleting;
      if (ns.serviceCount > 0) throw cloudMapErrors.namespaceInUse(ns.id, ns.serviceCount);
      const operationId = newOperationId();
      tx.putJson(k.namespace(ns.id), { ...ns, deleting: operationId } satisfies NamespaceRecord);
      return submitOperation(tx, this.env.now(), operationId, 'DELETE_NAMESPACE', { NAMESPACE: ns.id }, { kind: 'delete' });
    });
  }

  /** Any change to a namespace's tags. */
  async changeNamespace(id: string, fn: (ns: NamespaceRecord) => NamespaceRecord): Promise<void> {
    await transact(this.env.store, async (tx) => {
      const ns = await this.namespace(tx, id);
      tx.putJson(k.namespace(ns.id), fn(ns));
    });
  }

  async createService(input: NewService): Promise<ServiceRecord> {
    return transact(this.env.store, async (tx) => {
      const ns = await this.namespace(tx, input.namespaceId);
      if (ns.deleting) throw cloudMapErrors.namespaceNotFound(`${input.namespaceId} (being deleted)`);
      const index = await tx.getRecord(parseServiceNameRecord, k.serviceName(ns.id, input.name));
      if (index) {
        const existing = await tx.getRecord(parseServiceRecord, k.service(index.id));
        if (existing && input.creatorRequestId !== undefined && existing.creatorRequestId === input.creatorRequestId) return existing;
        throw cloudMapErrors.serviceExists(input.name, index.id);
      }
      const id = newServiceId();
      const service: ServiceRecord = {
        ...input,
        namespaceId: ns.id,
        id,
        arn: serviceArn(this.env.scope, id),
        attributes: {},
        instanceRevision: 0,
        instanceCount: 0,
        createDate: this.env.now(),
      };
      tx.putJson(k.service(id), service);
      tx.putJson(k.serviceName(ns.id, input.name), { id });
      tx.putJson(k.namespace(ns.id), { ...ns, serviceCount: ns.serviceCount + 1 } satisfies NamespaceRecord);
      return service;
    });
  }

  /** UpdateService (an operation) or a change to tags/attributes (none). */
  async changeService(idOrArn: string, fn: (s: ServiceRecord) => ServiceRecord, operation?: 'UPDATE_SERVICE'): Promise<string | undefined> {
    return transact(this.env.store, async (tx) => {
      const service = await this.service(tx, idOrArn);
      tx.putJson(k.service(service.id), fn(service));
      return operation ? this.operation(tx, operation, { SERVICE: service.id, NAMESPACE: service.namespaceId }) : undefined;
    });
  }

  /** DeleteService: refused (ResourceInUse) while it has instances. */
  async deleteService(idOrArn: string): Promise<void> {
    await transact(this.env.store, async (tx) => {
      const service = await this.service(tx, idOrArn);
      if (service.instanceCount > 0) throw cloudMapErrors.serviceInUse(service.id, service.instanceCount);
      tx.delete(k.service(service.id));
      tx.delete(k.serviceName(service.namespaceId, service.name));
      const ns = await tx.getRecord(parseNamespaceRecord, k.namespace(service.namespaceId));
      if (ns) tx.putJson(k.namespace(ns.id), { ...ns, serviceCount: Math.max(0, ns.serviceCount - 1) } satisfies NamespaceRecord);
    });
  }

  /**
   * RegisterInstance: a new instance, or new attributes for an existing one (as Cloud Map does). `registrar` marks who
   * registered it (`api`, or ECS's `ecs:<service ARN>`): ECS deregisters only its own.
   */
  async registerInstance(serviceIdOrArn: string, instanceId: string, attributes: Record<string, string>, creatorRequestId?: string, registrar = 'api'): Promise<string> {
    return transact(this.env.store, async (tx) => {
      const service = await this.service(tx, serviceIdOrArn);
      checkInstanceAttributes(attributes, service.dns?.records);
      const key = k.instance(service.id, instanceId);
      const existing = await tx.getRecord(parseInstanceRecord, key);
      const instance: InstanceRecord = {
        id: instanceId,
        serviceId: service.id,
        attributes,
        ...(creatorRequestId !== undefined ? { creatorRequestId } : {}),
        registeredBy: registrar,
        health: existing?.health ?? 'HEALTHY',
      };
      tx.putJson(key, instance);
      tx.putJson(k.service(service.id), {
        ...service,
        instanceRevision: service.instanceRevision + 1,
        instanceCount: service.instanceCount + (existing ? 0 : 1),
      } satisfies ServiceRecord);
      return this.operation(tx, 'REGISTER_INSTANCE', { SERVICE: service.id, INSTANCE: instanceId, NAMESPACE: service.namespaceId });
    });
  }

  async deregisterInstance(serviceIdOrArn: string, instanceId: string): Promise<string> {
    return transact(this.env.store, async (tx) => {
      const service = await this.service(tx, serviceIdOrArn);
      const key = k.instance(service.id, instanceId);
      if (!(await tx.getRecord(parseInstanceRecord, key))) throw cloudMapErrors.instanceNotFound(instanceId);
      tx.delete(key);
      tx.putJson(k.service(service.id), {
        ...service,
        instanceRevision: service.instanceRevision + 1,
        instanceCount: Math.max(0, service.instanceCount - 1),
      } satisfies ServiceRecord);
      return this.operation(tx, 'DEREGISTER_INSTANCE', { SERVICE: service.id, INSTANCE: instanceId, NAMESPACE: service.namespaceId });
    });
  }

  /** UpdateInstanceCustomHealthStatus: only for services with HealthCheckCustomConfig. */
  async setHealth(serviceIdOrArn: string, instanceId: string, health: InstanceHealth): Promise<void> {
    await transact(this.env.store, async (tx) => {
      const service = await this.service(tx, serviceIdOrArn);
      const key = k.instance(service.id, instanceId);
      const instance = await tx.getRecord(parseInstanceRecord, key);
      if (!instance) throw cloudMapErrors.instanceNotFound(instanceId);
      if (!service.customHealth) throw cloudMapErrors.customHealthNotFound(service.id);
      if (instance.health === health) return;
      tx.putJson(key, { ...instance, health } satisfies InstanceRecord);
      // Health changes what discovery answers: the revision moves with it.
      tx.putJson(k.service(service.id), { ...service, instanceRevision: service.instanceRevision + 1 } satisfies ServiceRecord);
    });
  }

  async getOperation(id: string): Promise<OperationRecord> {
    const record = await readRecord(this.env.store, parseOperationRecord, k.operation(id));
    if (!record) throw cloudMapErrors.operationNotFound(id);
    return record;
  }
}

/**
 * A namespace's or service's tags as `{Key: Value}` by its ARN, for aws:ResourceTag/… in the authorization
 * step; undefined when the ARN names nothing (then the condition sees no tags).
 */
export function cloudMapTagLookup(env: CloudMapEnv): (arn: string) => Promise<Record<string, string> | undefined> {
  const catalog = new CloudMapCatalog(env);
  return async (arn) => {
    const m = /:(namespace|service)\/([^/]+)$/.exec(arn);
    if (!m) return undefined;
    const record = await (m[1] === 'namespace' ? catalog.namespace(undefined, m[2]!) : catalog.service(undefined, m[2]!)).catch(() => undefined);
    return record ? Object.fromEntries(record.tags.map((t) => [t.Key, t.Value])) : undefined;
  };
}
