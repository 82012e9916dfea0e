/** Cloud Map's response shapes from berth's records. Dates are epoch seconds, as the JSON protocol carries them. */
import type { InstanceRecord, NamespaceRecord, OperationRecord, ServiceRecord } from '../state/records/cloudmap.js';

const seconds = (ms: number) => ms / 1000;

export function namespaceOut(ns: NamespaceRecord, accountId: string, full: boolean): object {
  return {
    Id: ns.id,
    Arn: ns.arn,
    ResourceOwner: accountId,
    Name: ns.name,
    Type: ns.type,
    ...(ns.description !== undefined ? { Description: ns.description } : {}),
    ServiceCount: ns.serviceCount,
    Properties: {
      ...(ns.type !== 'HTTP' ? { DnsProperties: { HostedZoneId: ns.hostedZoneId, SOA: { TTL: ns.soaTtl } } } : {}),
      HttpProperties: { HttpName: ns.httpName },
    },
    CreateDate: seconds(ns.createDate),
    ...(full && ns.creatorRequestId !== undefined ? { CreatorRequestId: ns.creatorRequestId } : {}),
  };
}

export function serviceOut(s: ServiceRecord, accountId: string, full: boolean): object {
  return {
    Id: s.id,
    Arn: s.arn,
    ResourceOwner: accountId,
    Name: s.name,
    Type: s.type,
    ...(full ? { NamespaceId: s.namespaceId } : {}),
    ...(s.description !== undefined ? { Description: s.description } : {}),
    InstanceCount: s.instanceCount,
    ...(s.dns ? { DnsConfig: { ...(full ? { NamespaceId: s.namespaceId } : {}), RoutingPolicy: s.dns.routingPolicy, DnsRecords: s.dns.records } } : {}),
    ...(s.customHealth ? { HealthCheckCustomConfig: { FailureThreshold: 1 } } : {}),
    CreateDate: seconds(s.createDate),
    ...(full && s.creatorRequestId !== undefined ? { CreatorRequestId: s.creatorRequestId } : {}),
    CreatedByAccount: accountId,
  };
}

export function operationOut(op: OperationRecord, accountId: string): object {
  return {
    Id: op.id,
    OwnerAccount: accountId,
    Type: op.type,
    Status: op.status,
    ...(op.errorMessage !== undefined ? { ErrorMessage: op.errorMessage } : {}),
    ...(op.errorCode !== undefined ? { ErrorCode: op.errorCode } : {}),
    CreateDate: seconds(op.createDate),
    UpdateDate: seconds(op.updateDate),
    Targets: op.targets,
  };
}

export function instanceOut(i: InstanceRecord, accountId: string, full: boolean): object {
  return {
    Id: i.id,
    ...(full && i.creatorRequestId !== undefined ? { CreatorRequestId: i.creatorRequestId } : {}),
    Attributes: i.attributes,
    CreatedByAccount: accountId,
  };
}
