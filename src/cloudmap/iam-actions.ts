/**
 * Cloud Map's IAM declarations (Service Authorization Reference, "Actions, resources, and condition keys for AWS
 * Cloud Map"): namespace actions on `namespace/<id>`, service and instance actions on `service/<id>`, creates of
 * namespaces and lists on `*`, CreateService on its namespace; DiscoverInstances(Revision) on `*` with the
 * servicediscovery:NamespaceName and ServiceName condition keys. Ids or ARNs both name resources in requests.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';
import { namespaceArn, namespaceIdOf, serviceArn, serviceIdOf } from './names.js';

const onNamespace = (action: string, field: string): ActionDeclaration<Record<string, string>> => ({
  action,
  resources: (input, scope: ArnScope) => (typeof input[field] === 'string' ? [namespaceArn(scope, namespaceIdOf(input[field]))] : []),
});
const onService = (action: string, field: string): ActionDeclaration<Record<string, string>> => ({
  action,
  resources: (input, scope: ArnScope) => (typeof input[field] === 'string' ? [serviceArn(scope, serviceIdOf(input[field]))] : []),
});
const createNamespace = (action: string): ActionDeclaration<{ Tags?: { Key?: string; Value?: string }[] }> => ({
  action,
  resources: () => [],
  context: (input, _scope, into) => addTagList(into, input.Tags),
});
const discover = (action: string): ActionDeclaration<{ NamespaceName?: string; ServiceName?: string }> => ({
  action,
  resources: () => [],
  context: (input, _scope, into) => {
    if (input.NamespaceName !== undefined) into.set('servicediscovery:NamespaceName', input.NamespaceName);
    if (input.ServiceName !== undefined) into.set('servicediscovery:ServiceName', input.ServiceName);
  },
});

/** Every Cloud Map action berth serves, by operation name. */
export function cloudMapActions(): ActionTable {
  const sd = (a: string) => `servicediscovery:${a}`;
  return {
    CreatePrivateDnsNamespace: createNamespace(sd('CreatePrivateDnsNamespace')),
    CreatePublicDnsNamespace: createNamespace(sd('CreatePublicDnsNamespace')),
    CreateHttpNamespace: createNamespace(sd('CreateHttpNamespace')),
    GetNamespace: onNamespace(sd('GetNamespace'), 'Id'),
    DeleteNamespace: onNamespace(sd('DeleteNamespace'), 'Id'),
    UpdatePrivateDnsNamespace: onNamespace(sd('UpdatePrivateDnsNamespace'), 'Id'),
    UpdatePublicDnsNamespace: onNamespace(sd('UpdatePublicDnsNamespace'), 'Id'),
    UpdateHttpNamespace: onNamespace(sd('UpdateHttpNamespace'), 'Id'),
    ListNamespaces: anyResource(sd('ListNamespaces')),
    CreateService: {
      action: sd('CreateService'),
      resources: (input: { NamespaceId?: string; DnsConfig?: { NamespaceId?: string } }, scope) => {
        const ns = input.NamespaceId ?? input.DnsConfig?.NamespaceId;
        return ns === undefined ? [] : [namespaceArn(scope, namespaceIdOf(ns))];
      },
      context: (input: { Tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.Tags),
    },
    GetService: onService(sd('GetService'), 'Id'),
    UpdateService: onService(sd('UpdateService'), 'Id'),
    DeleteService: onService(sd('DeleteService'), 'Id'),
    ListServices: anyResource(sd('ListServices')),
    GetServiceAttributes: onService(sd('GetServiceAttributes'), 'ServiceId'),
    UpdateServiceAttributes: onService(sd('UpdateServiceAttributes'), 'ServiceId'),
    DeleteServiceAttributes: onService(sd('DeleteServiceAttributes'), 'ServiceId'),
    RegisterInstance: onService(sd('RegisterInstance'), 'ServiceId'),
    DeregisterInstance: onService(sd('DeregisterInstance'), 'ServiceId'),
    GetInstance: onService(sd('GetInstance'), 'ServiceId'),
    ListInstances: onService(sd('ListInstances'), 'ServiceId'),
    GetInstancesHealthStatus: onService(sd('GetInstancesHealthStatus'), 'ServiceId'),
    UpdateInstanceCustomHealthStatus: onService(sd('UpdateInstanceCustomHealthStatus'), 'ServiceId'),
    DiscoverInstances: discover(sd('DiscoverInstances')),
    DiscoverInstancesRevision: discover(sd('DiscoverInstancesRevision')),
    GetOperation: anyResource(sd('GetOperation')),
    ListOperations: anyResource(sd('ListOperations')),
    ListTagsForResource: { action: sd('ListTagsForResource'), resources: (input: { ResourceARN: string }) => [input.ResourceARN] },
    TagResource: {
      action: sd('TagResource'),
      resources: (input: { ResourceARN: string }) => [input.ResourceARN],
      context: (input: { Tags?: { Key?: string; Value?: string }[] }, _scope, into) => addTagList(into, input.Tags),
    },
    UntagResource: {
      action: sd('UntagResource'),
      resources: (input: { ResourceARN: string }) => [input.ResourceARN],
      context: (input: { TagKeys?: string[] }, _scope, into) => addTagKeys(into, input.TagKeys),
    },
  };
}
