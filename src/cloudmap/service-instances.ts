import { cloudMapKeys as k } from '../state/cloudmap-keys.js';
import { parseInstanceRecord, parseServiceRecord, type InstanceHealth, type InstanceRecord, type ServiceRecord } from '../state/records/cloudmap.js';
import type { Tx } from '../store/transact.js';
import { checkInstanceAttributes } from './instance-attributes.js';
import { parseCloudMapArn } from './names.js';

/**
 * The ECS service controller's way into Cloud Map: register, deregister and mark the health of a service's tasks
 * inside the controller's own transaction (one compare-and-swap with its task stops and service record, so a replica
 * that lost the lead, or a concurrent RegisterInstance, makes the whole pass retry). What ECS does through the Cloud
 * Map API, without the operation records: a service's tasks come and go all day, and operations are never expired
 * (see docs/architecture.md). Every function is idempotent: an instance already registered with the same attributes,
 * one already gone, one already of that health are left alone, and the Cloud Map service record (its
 * instanceCount/instanceRevision) is written once per call, only when something changed.
 */

/** A task as a Cloud Map instance: the task id and ECS's attributes. */
export interface ServiceInstance {
  readonly id: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** The Cloud Map service named by `arn` (undefined when it is gone or the ARN is not a Cloud Map service's). */
export async function cloudMapServiceInTx(tx: Tx, arn: string): Promise<ServiceRecord | undefined> {
  const parsed = parseCloudMapArn(arn);
  if (parsed?.kind !== 'service') return undefined;
  const service = await tx.getRecord(parseServiceRecord, k.service(parsed.id));
  return service?.arn === arn ? service : undefined;
}

/** The instances registered in a Cloud Map service. */
export async function serviceInstancesInTx(tx: Tx, serviceId: string): Promise<InstanceRecord[]> {
  return (await tx.range(k.instancesOf(serviceId))).entries.map((e) => parseInstanceRecord(e.value, e.key));
}

/** What one pass changes in one Cloud Map service. */
export interface InstanceChanges {
  readonly register: readonly ServiceInstance[];
  readonly deregister: readonly string[];
  readonly health: readonly { readonly id: string; readonly health: InstanceHealth }[];
}

/**
 * Apply `changes` to the Cloud Map service at `arn`. Instances whose attributes the service's DNS records cannot
 * use (an SRV record and no port yet) are skipped and returned in `refused`, never thrown: the pass goes on with
 * its other work. Returns how many instances were added, removed and changed.
 */
export async function applyServiceInstances(
  tx: Tx,
  arn: string,
  changes: InstanceChanges,
  /** Who registers (ecsRegistrar of the ECS service): written on the instances it registers. */
  registrar: string,
): Promise<{ registered: number; deregistered: number; refused: string[] }> {
  const service = await cloudMapServiceInTx(tx, arn);
  if (!service) return { registered: 0, deregistered: 0, refused: [] };
  let count = service.instanceCount;
  let changed = false;
  let registered = 0;
  let deregistered = 0;
  const refused: string[] = [];
  for (const r of changes.register) {
    try {
      checkInstanceAttributes(r.attributes, service.dns?.records);
    } catch {
      refused.push(r.id);
      continue;
    }
    const key = k.instance(service.id, r.id);
    const existing = await tx.getRecord(parseInstanceRecord, key);
    if (existing && existing.registeredBy === registrar && sameAttributes(existing.attributes, r.attributes)) continue;
    tx.putJson(key, { id: r.id, serviceId: service.id, attributes: r.attributes, registeredBy: registrar, health: existing?.health ?? 'HEALTHY' } satisfies InstanceRecord);
    if (!existing) {
      count++;
      registered++;
    }
    changed = true;
  }
  for (const id of changes.deregister) {
    const key = k.instance(service.id, id);
    if (!(await tx.get(key))) continue;
    tx.delete(key);
    count--;
    deregistered++;
    changed = true;
  }
  if (service.customHealth) {
    for (const h of changes.health) {
      const key = k.instance(service.id, h.id);
      const existing = await tx.getRecord(parseInstanceRecord, key);
      if (!existing || existing.health === h.health) continue;
      tx.putJson(key, { ...existing, health: h.health } satisfies InstanceRecord);
      changed = true;
    }
  }
  // One write of the service record: DeleteService and DiscoverInstancesRevision meet on it, as for the API's calls.
  if (changed) tx.putJson(k.service(service.id), { ...service, instanceCount: Math.max(0, count), instanceRevision: service.instanceRevision + 1 } satisfies ServiceRecord);
  return { registered, deregistered, refused };
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  return ak.length === Object.keys(b).length && ak.every((key) => a[key] === b[key]);
}
