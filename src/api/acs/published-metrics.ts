import type { PublishMetricsRequest } from '../../model/acs.js';
import type { ClusterCapacity, TaskFigures } from '../../metrics/ecs-utilization.js';
import { capacityOf } from '../../model/container-instance.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';

/**
 * The gateway's check of an agent's PublishMetricsRequest: an agent speaks only for its own running tasks. A figure
 * for a task of another instance (or another cluster, or unknown, or not RUNNING) is refused, as is one that is not
 * a finite number ≥ 0; what is accepted carries the task's reservation and service from the control plane's own
 * record, never from the agent.
 */
export interface CheckedFigures {
  readonly accepted: TaskFigures[];
  /** Task ARNs (or what was sent in their place) refused, with why. */
  readonly refused: { readonly taskArn: string; readonly reason: string }[];
}

/**
 * @param lookup the task record by task id in the session's cluster (the informer's view).
 */
export function checkPublishedMetrics(
  message: PublishMetricsRequest,
  session: { readonly cluster: string; readonly instanceId: string },
  lookup: (taskId: string) => TaskRecord | undefined,
): CheckedFigures {
  const accepted: TaskFigures[] = [];
  const refused: { taskArn: string; reason: string }[] = [];
  const entries: unknown = (message as { taskMetrics?: unknown }).taskMetrics;
  if (!Array.isArray(entries)) return { accepted, refused: [{ taskArn: '', reason: 'taskMetrics is not a list' }] };
  for (const entry of entries as unknown[]) {
    const e = (entry ?? {}) as Record<string, unknown>;
    const taskArn = typeof e.taskArn === 'string' ? e.taskArn : '';
    const number = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (!number(e.cpuUsed) || !number(e.memoryUsed)) {
      refused.push({ taskArn, reason: 'cpuUsed and memoryUsed must be numbers ≥ 0' });
      continue;
    }
    const [, cluster, id] = /^arn:[^:]+:ecs:[^:]*:[^:]*:task\/([^/]+)\/([^/]+)$/.exec(taskArn) ?? [];
    const record = cluster === session.cluster && id ? lookup(id) : undefined;
    if (!record || record.instanceId !== session.instanceId) {
      refused.push({ taskArn, reason: 'not a task of this container instance' });
      continue;
    }
    if (record.task.lastStatus !== 'RUNNING') {
      refused.push({ taskArn, reason: `the task is ${record.task.lastStatus ?? 'not running'}` });
      continue;
    }
    accepted.push({
      taskArn: record.task.taskArn!,
      ...(record.serviceName !== undefined ? { serviceName: record.serviceName } : {}),
      cpuUsed: e.cpuUsed as number,
      memoryUsed: e.memoryUsed as number,
      cpuReserved: record.needs.cpu,
      memoryReserved: record.needs.memory,
    });
  }
  return { accepted, refused };
}

/**
 * A cluster's registered and reserved CPU and memory over its ACTIVE and DRAINING instances (the only ones ECS counts
 * in CPUReservation/MemoryReservation and cluster utilization); `reserved` is the instance record's sum of its live
 * tasks' needs. Undefined when the cluster has no such instance.
 */
export function clusterCapacityOf(instances: Iterable<InstanceRecord>, cluster: string): ClusterCapacity | undefined {
  let found = false;
  let cpuRegistered = 0;
  let memoryRegistered = 0;
  let cpuReserved = 0;
  let memoryReserved = 0;
  for (const r of instances) {
    if (r.cluster !== cluster || (r.instance.status !== 'ACTIVE' && r.instance.status !== 'DRAINING')) continue;
    const registered = capacityOf(r.instance.registeredResources);
    found = true;
    cpuRegistered += registered.cpu;
    memoryRegistered += registered.memory;
    cpuReserved += r.reserved.cpu;
    memoryReserved += r.reserved.memory;
  }
  return found ? { cpuRegistered, memoryRegistered, cpuReserved, memoryReserved } : undefined;
}
