import { capacityOf, remainingCapacity, type InstanceStatus } from '../model/container-instance.js';
import type { InstanceSnapshot } from '../scheduler/index.js';
import { keys } from './keys.js';
import type { InstanceRecord } from './records/instances.js';
import type { TaskRecord } from './records/tasks.js';
import type { Store } from '../store/store.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import { parseInstanceRecord } from '../state/records/instances.js';

/** The cluster as placement sees it: every instance with its remaining capacity and its live tasks. */
export async function clusterSnapshot(store: Store, cluster: string): Promise<{ records: InstanceRecord[]; snapshots: InstanceSnapshot[] }> {
  const [instances, tasks] = await Promise.all([store.range(keys.containerInstancesOf(cluster)), store.range(keys.tasksOf(cluster))]);
  const records = instances.entries.map((e) => parseInstanceRecord(e.value, e.key));
  const byInstance = new Map<string, { taskId: string; group: string }[]>();
  for (const e of tasks.entries) {
    const t = parseTaskRecord(e.value, e.key);
    if (!t.instanceId || t.task.lastStatus === 'STOPPED') continue;
    const list = byInstance.get(t.instanceId) ?? [];
    list.push({ taskId: t.id, group: t.task.group ?? '' });
    byInstance.set(t.instanceId, list);
  }
  return { records, snapshots: records.map((r) => snapshotOf(r, byInstance.get(r.id) ?? [])) };
}

/** One instance as placement sees it, given its tasks that have not stopped. */
export function snapshotOf(r: InstanceRecord, tasks: readonly { taskId: string; group: string }[]): InstanceSnapshot {
  return {
    id: r.id,
    arn: r.instance.containerInstanceArn!,
    ec2InstanceId: r.ec2InstanceId,
    status: (r.instance.status ?? 'INACTIVE') as InstanceStatus,
    agentConnected: r.instance.agentConnected ?? false,
    agentVersion: r.instance.versionInfo?.agentVersion,
    registeredAt: r.instance.registeredAt,
    attributes: new Map((r.instance.attributes ?? []).map((a) => [a.name!, a.value])),
    remaining: remainingCapacity(capacityOf(r.instance.registeredResources), r.reserved),
    tasks,
  };
}

