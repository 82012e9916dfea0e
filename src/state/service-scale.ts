import { rescaled } from '../model/service/task-sets.js';
import type { Tx } from '../store/transact.js';
import { keys } from './keys.js';
import { parseServiceRecord, type ServiceRecord } from './records/services.js';

/**
 * Sets an ECS service's desired count inside `tx`, as UpdateService does for a desiredCount-only change: the
 * service's and its PRIMARY deployment's desired count (task sets rescaled), and the service no longer steady, so the
 * controller (which follows service records) starts or stops tasks. Application Auto Scaling's one write to ECS.
 * Returns the record before the change, or undefined when the service does not exist or is not ACTIVE.
 */
export async function setServiceDesiredCount(tx: Tx, cluster: string, service: string, desired: number, now: number): Promise<ServiceRecord | undefined> {
  const key = keys.service(cluster, service);
  const s = await tx.getRecord(parseServiceRecord, key);
  if (!s || s.status !== 'ACTIVE') return undefined;
  if (s.desiredCount === desired) return s;
  tx.putJson(key, {
    ...s,
    desiredCount: desired,
    deployments: (s.deployments ?? []).map((d) => (d.status === 'PRIMARY' ? { ...d, desiredCount: desired, updatedAt: now / 1000 } : d)),
    ...(s.taskSets ? { taskSets: rescaled(s.taskSets, desired, now) } : {}),
    berth: { ...s.berth, steady: false },
  } satisfies ServiceRecord);
  return s;
}

/** An ACTIVE service's record (for its current desired count), read in `tx`. */
export async function activeService(tx: Tx, cluster: string, service: string): Promise<ServiceRecord | undefined> {
  const s = await tx.getRecord(parseServiceRecord, keys.service(cluster, service));
  return s && s.status === 'ACTIVE' ? s : undefined;
}
