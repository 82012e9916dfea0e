/**
 * What berth's DNS server knows: the DNS namespaces, their services and the services' instances, indexed for
 * answering (namespace by name, service by namespace and name, instance by lower-cased id) and kept current by
 * the informers of src/dns/directory-feed.ts. The healthy instances of a service are computed once per change,
 * not per query: a namespace of 1,000 instances is answered at the cost of picking 8 of them.
 */
import { reportedHealth, servesTraffic } from '../cloudmap/health.js';
import type { InstanceRecord, NamespaceRecord, ServiceRecord } from '../state/records/cloudmap.js';

/** A service as the resolver sees it: its record and its instances that may be answered. */
export interface ServedService {
  readonly service: ServiceRecord;
  /** Healthy (or unchecked) instances, in a stable order. */
  readonly healthy: readonly InstanceRecord[];
  instance(lowerId: string): InstanceRecord | undefined;
}

export class Directory {
  private readonly namespacesByName = new Map<string, NamespaceRecord>();
  private readonly namespaceNameById = new Map<string, string>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly serviceIdByName = new Map<string, string>();
  private readonly instances = new Map<string, Map<string, InstanceRecord>>();
  private readonly healthyCache = new Map<string, readonly InstanceRecord[]>();
  private changes = 0;

  /** Grows with every change: what the DNS server's cache of encoded answers compares (answer-cache.ts). */
  get version(): number {
    return this.changes;
  }

  /** The DNS namespace named `name` (lower case, no trailing dot). */
  namespace(name: string): NamespaceRecord | undefined {
    return this.namespacesByName.get(name);
  }

  /** The service `name` (lower case) in namespace `namespaceId`, when it has DNS records. */
  service(namespaceId: string, name: string): ServedService | undefined {
    const id = this.serviceIdByName.get(`${namespaceId}/${name}`);
    const service = id === undefined ? undefined : this.services.get(id);
    if (!service?.dns) return undefined;
    const byId = this.instances.get(service.id);
    return {
      service,
      healthy: this.healthyOf(service),
      instance: (lowerId) => byId?.get(lowerId),
    };
  }

  putNamespace(ns: NamespaceRecord): void {
    this.changes++;
    this.deleteNamespace(ns.id);
    if (ns.type === 'HTTP') return;
    this.namespacesByName.set(ns.name.toLowerCase(), ns);
    this.namespaceNameById.set(ns.id, ns.name.toLowerCase());
  }

  deleteNamespace(id: string): void {
    this.changes++;
    const name = this.namespaceNameById.get(id);
    if (name === undefined) return;
    this.namespaceNameById.delete(id);
    this.namespacesByName.delete(name);
  }

  putService(service: ServiceRecord): void {
    this.changes++;
    const old = this.services.get(service.id);
    if (old) this.serviceIdByName.delete(`${old.namespaceId}/${old.name.toLowerCase()}`);
    this.services.set(service.id, service);
    this.serviceIdByName.set(`${service.namespaceId}/${service.name.toLowerCase()}`, service.id);
    this.healthyCache.delete(service.id);
  }

  deleteService(id: string): void {
    this.changes++;
    const old = this.services.get(id);
    if (!old) return;
    this.services.delete(id);
    this.serviceIdByName.delete(`${old.namespaceId}/${old.name.toLowerCase()}`);
    this.healthyCache.delete(id);
  }

  putInstance(instance: InstanceRecord): void {
    this.changes++;
    let byId = this.instances.get(instance.serviceId);
    if (!byId) this.instances.set(instance.serviceId, (byId = new Map()));
    byId.set(instance.id.toLowerCase(), instance);
    this.healthyCache.delete(instance.serviceId);
  }

  deleteInstance(serviceId: string, instanceId: string): void {
    this.changes++;
    const byId = this.instances.get(serviceId);
    if (!byId) return;
    byId.delete(instanceId.toLowerCase());
    if (byId.size === 0) this.instances.delete(serviceId);
    this.healthyCache.delete(serviceId);
  }

  private healthyOf(service: ServiceRecord): readonly InstanceRecord[] {
    let healthy = this.healthyCache.get(service.id);
    if (!healthy) {
      healthy = [...(this.instances.get(service.id)?.values() ?? [])].filter((i) => servesTraffic(reportedHealth(service, i)));
      this.healthyCache.set(service.id, healthy);
    }
    return healthy;
  }
}
