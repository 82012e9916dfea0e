/**
 * Where Cloud Map's records live in the Store. Ids (`ns-…`, `srv-…`) never contain `/`, so
 * `cloudmap/instances/<serviceId>/` selects one service's instances exactly. The DNS server's informers
 * follow the namespaces/, services/ and instances/ prefixes.
 */
export const cloudMapKeys = {
  namespace: (id: string) => `cloudmap/namespaces/${id}`,
  namespaces: () => 'cloudmap/namespaces/',
  /** By HttpName (DiscoverInstances, ECS). Namespace names are case-insensitive in DNS: the index holds the lower-cased name. */
  namespaceName: (httpName: string) => `cloudmap/namespace-names/${httpName.toLowerCase()}`,
  /** One DNS (private or public) and one HTTP namespace per Name. */
  namespaceKind: (kind: 'dns' | 'http', name: string) => `cloudmap/namespace-kinds/${kind}/${name.toLowerCase()}`,
  service: (id: string) => `cloudmap/services/${id}`,
  services: () => 'cloudmap/services/',
  serviceName: (namespaceId: string, name: string) => `cloudmap/service-names/${namespaceId}/${name.toLowerCase()}`,
  instance: (serviceId: string, instanceId: string) => `cloudmap/instances/${serviceId}/${instanceId}`,
  instancesOf: (serviceId: string) => `cloudmap/instances/${serviceId}/`,
  instances: () => 'cloudmap/instances/',
  operation: (id: string) => `cloudmap/operations/${id}`,
  operations: () => 'cloudmap/operations/',
  /** The SUBMITTED/PENDING operations' ids (what the leader's worker runs), so it never scans finished ones. */
  pendingOperation: (id: string) => `cloudmap/pending-operations/${id}`,
  pendingOperations: () => 'cloudmap/pending-operations/',
};
