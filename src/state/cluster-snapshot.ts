import { capacityOf, remainingCapacity, type InstanceStatus } from '../model/container-instance.js';
import type { InstanceSnapshot } from '../scheduler/index.js';
import type { InstanceRecord } from './records/instances.js';

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
    groupCounts: countGroups(tasks),
  };
}

function countGroups(tasks: readonly { group: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(t.group, (counts.get(t.group) ?? 0) + 1);
  return counts;
}
