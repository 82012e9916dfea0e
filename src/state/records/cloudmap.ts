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

/** The name index of namespaces: one name, one namespace. */
export interface NamespaceNameRecord {
  readonly id: string;
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
  /** Custom health (services with HealthCheckCustomConfig); an instance starts HEALTHY, as in Cloud Map. */
  readonly health: InstanceHealth;
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
}

export const parseOperationRecord = recordParser<OperationRecord>('Cloud Map operation', {
  id: 'string',
  type: 'string',
  status: 'string',
  targets: 'object',
  createDate: 'number',
  updateDate: 'number',
});
