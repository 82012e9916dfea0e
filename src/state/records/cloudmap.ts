import { recordParser } from './codec.js';

/** A tag as Cloud Map spells it. */
export interface CloudMapTag {
  readonly Key: string;
  readonly Value: string;
}

export const namespaceTypes = ['DNS_PUBLIC', 'DNS_PRIVATE', 'HTTP'] as const;
export type NamespaceType = (typeof namespaceTypes)[number];

/**
 * A Cloud Map namespace. `serviceCount` is bumped by CreateService and DeleteService, so that DeleteNamespace
 * (which refuses a namespace with services) and CreateService conflict on this one key instead of racing.
 */
export interface NamespaceRecord {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly type: NamespaceType;
  readonly description?: string;
  readonly creatorRequestId?: string;
  /** The operation that created it (a retried create with the same CreatorRequestId answers it again). */
  readonly createOperationId: string;
  /** DNS namespaces: the made-up hosted zone id and the SOA TTL. HTTP namespaces: only httpName. */
  readonly hostedZoneId?: string;
  readonly soaTtl?: number;
  readonly httpName: string;
  readonly serviceCount: number;
  readonly tags: readonly CloudMapTag[];
  /** Epoch ms. */
  readonly createDate: number;
  /** A DeleteNamespace was submitted (its operation id): no new services; the operation deletes it. */
  readonly deleting?: string;
}

export const parseNamespaceRecord = recordParser<NamespaceRecord>('Cloud Map namespace', {
  id: 'string',
  arn: 'string',
  name: 'string',
  type: 'string',
  httpName: 'string',
  serviceCount: 'number',
  tags: 'array',
  createDate: 'number',
});

/**
 * A namespace name index. `namespace-names/<HttpName>`: one namespace per HttpName (what DiscoverInstances and
 * ECS look a namespace up by). `namespace-kinds/<dns|http>/<Name>`: one DNS and one HTTP namespace per Name
 * (Cloud Map lets an HTTP and a DNS namespace share a Name; the second gets a suffixed HttpName); written when
 * the create is submitted, so a duplicate is refused at once and a retry with the CreatorRequestId finds it.
 */
export interface NamespaceNameRecord {
  readonly id: string;
  readonly creatorRequestId?: string;
  readonly type?: NamespaceType;
  readonly createOperationId?: string;
}

export const parseNamespaceNameRecord = recordParser<NamespaceNameRecord>('Cloud Map namespace name', { id: 'string' });

export const recordTypes = ['A', 'AAAA', 'SRV', 'CNAME'] as const;
export type RecordType = (typeof recordTypes)[number];
export type RoutingPolicy = 'MULTIVALUE' | 'WEIGHTED';

export interface DnsRecordSpec {
  readonly Type: RecordType;
  readonly TTL: number;
}

/**
 * A Cloud Map service. `instanceRevision` is bumped by every registration and deregistration (it is
 * DiscoverInstancesRevision's answer) and `instanceCount` kept beside it: both make RegisterInstance and
 * DeleteService meet on this key.
 */
export interface ServiceRecord {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  readonly namespaceId: string;
  readonly description?: string;
  readonly creatorRequestId?: string;
  /** DNS namespaces only: the records each instance gets and how answers are chosen. */
  readonly dns?: { readonly routingPolicy: RoutingPolicy; readonly records: readonly DnsRecordSpec[] };
  /** HealthCheckCustomConfig was given: instances' health is what UpdateInstanceCustomHealthStatus says. */
  readonly customHealth: boolean;
  /** HTTP (API calls only) or DNS_HTTP (DNS records too), as Cloud Map reports it. */
  readonly type: 'HTTP' | 'DNS_HTTP';
  readonly attributes: Readonly<Record<string, string>>;
  readonly instanceRevision: number;
  readonly instanceCount: number;
  readonly tags: readonly CloudMapTag[];
  readonly createDate: number;
}

export const parseServiceRecord = recordParser<ServiceRecord>('Cloud Map service', {
  id: 'string',
  arn: 'string',
  name: 'string',
  namespaceId: 'string',
  customHealth: 'boolean',
  type: 'string',
  attributes: 'object',
  instanceRevision: 'number',
  instanceCount: 'number',
  tags: 'array',
  createDate: 'number',
});

/** The name index of services within a namespace. */
export interface ServiceNameRecord {
  readonly id: string;
}

export const parseServiceNameRecord = recordParser<ServiceNameRecord>('Cloud Map service name', { id: 'string' });

export type InstanceHealth = 'HEALTHY' | 'UNHEALTHY';

/** An instance registered in a service: its attributes (AWS_INSTANCE_IPV4, AWS_INSTANCE_PORT, …) and health. */
export interface InstanceRecord {
  readonly id: string;
  readonly serviceId: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly creatorRequestId?: string;
  /**
   * Who registered it: `ecs:<ECS service ARN>` (ECS's registrar: serviceRegistries, Service Connect) or `api`
   * (RegisterInstance). ECS deregisters only what its service registered. Absent on instances registered before
   * berth recorded it (ECS then goes by its ECS_CLUSTER_NAME/ECS_SERVICE_NAME attributes).
   */
  readonly registeredBy?: string;
  /** Custom health (services with HealthCheckCustomConfig); an instance starts HEALTHY, as in Cloud Map. */
  readonly health: InstanceHealth;
}

/** The registrar mark of an ECS service's instances. */
export const ecsRegistrar = (serviceArn: string) => `ecs:${serviceArn}`;

/**
 * Whether an instance is the ECS service's to deregister: registered by it, or (registered before berth recorded
 * registrars) carrying its cluster and service names.
 */
export function registeredByEcsService(i: Pick<InstanceRecord, 'registeredBy' | 'attributes'>, owner: { serviceArn: string; cluster: string; service: string }): boolean {
  if (i.registeredBy !== undefined) return i.registeredBy === ecsRegistrar(owner.serviceArn);
  return i.attributes['ECS_CLUSTER_NAME'] === owner.cluster && i.attributes['ECS_SERVICE_NAME'] === owner.service;
}

export const parseInstanceRecord = recordParser<InstanceRecord>('Cloud Map instance', {
  id: 'string',
  serviceId: 'string',
  attributes: 'object',
  health: 'string',
});

export const operationTypes = ['CREATE_NAMESPACE', 'DELETE_NAMESPACE', 'UPDATE_NAMESPACE', 'UPDATE_SERVICE', 'REGISTER_INSTANCE', 'DEREGISTER_INSTANCE'] as const;
export type OperationType = (typeof operationTypes)[number];
export const operationStatuses = ['SUBMITTED', 'PENDING', 'SUCCESS', 'FAIL'] as const;
export type OperationStatus = (typeof operationStatuses)[number];

/**
 * What a submitted namespace operation still has to do (cloudmap/operations.ts runs it): the namespace to create,
 * the change to make, or the deletion. Dropped once the operation has finished.
 */
export type NamespaceWork =
  | { readonly kind: 'create'; readonly namespace: Omit<NamespaceRecord, 'createDate'> }
  | { readonly kind: 'update'; readonly type: NamespaceType; readonly description?: string; readonly soaTtl?: number }
  | { readonly kind: 'delete' };

/** An asynchronous operation as GetOperation reports it. */
export interface OperationRecord {
  readonly id: string;
  readonly type: OperationType;
  readonly status: OperationStatus;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly targets: Readonly<Partial<Record<'NAMESPACE' | 'SERVICE' | 'INSTANCE', string>>>;
  readonly createDate: number;
  readonly updateDate: number;
  /** SUBMITTED/PENDING namespace operations: what is left to do. */
  readonly work?: NamespaceWork;
}

export const parseOperationRecord = recordParser<OperationRecord>('Cloud Map operation', {
  id: 'string',
  type: 'string',
  status: 'string',
  targets: 'object',
  createDate: 'number',
  updateDate: 'number',
});
