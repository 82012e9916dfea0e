import { isFargatePoolHost } from '../../model/fargate-pool.js';
import type { Parse } from '../../state/records/codec.js';
import { parseInstanceRecord } from '../../state/records/instances.js';
import { parseServiceRecord } from '../../state/records/services.js';
import { parseTaskRecord } from '../../state/records/tasks.js';
import { keys } from '../../state/keys.js';
import type { InstanceRecord } from '../../state/records/instances.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import type { Store } from '../../store/store.js';


export interface ClusterUsage {
  readonly registeredContainerInstancesCount: number;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  readonly activeServicesCount: number;
  /** Tasks that are not STOPPED yet (any status from PROVISIONING to DEPROVISIONING). */
  readonly liveTasksCount: number;
  /** Services that are ACTIVE or DRAINING. */
  readonly liveServicesCount: number;
  /** ECS's `statistics` list, by launch type. */
  readonly statistics: { name: string; value: string }[];
}

const PENDING = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

/** Count what a cluster holds, from its instance, task and service records. */
export async function clusterUsage(store: Store, cluster: string): Promise<ClusterUsage> {
  const [instanceRecords, taskRecords, services] = await Promise.all([
    values(store, parseInstanceRecord, keys.containerInstancesOf(cluster)),
    values(store, parseTaskRecord, keys.tasksOf(cluster)),
    values(store, parseServiceRecord, keys.servicesOf(cluster)),
  ]);
  const instances = instanceRecords.map((r) => r.instance);
  const tasks = taskRecords.map((r) => r.task);
  const stats = {
    runningEC2TasksCount: 0,
    runningFargateTasksCount: 0,
    runningExternalTasksCount: 0,
    pendingEC2TasksCount: 0,
    pendingFargateTasksCount: 0,
    pendingExternalTasksCount: 0,
    activeEC2ServiceCount: 0,
    activeFargateServiceCount: 0,
    activeExternalServiceCount: 0,
    drainingEC2ServiceCount: 0,
    drainingFargateServiceCount: 0,
    drainingExternalServiceCount: 0,
  };
  const launch = (t: string | undefined) => (t === 'FARGATE' ? 'Fargate' : t === 'EXTERNAL' ? 'External' : 'EC2');
  let running = 0;
  let pending = 0;
  let live = 0;
  for (const t of tasks) {
    if (t.lastStatus !== 'STOPPED') live++;
    if (t.lastStatus === 'RUNNING') {
      running++;
      stats[`running${launch(t.launchType)}TasksCount`]++;
    } else if (PENDING.has(t.lastStatus ?? '')) {
      pending++;
      stats[`pending${launch(t.launchType)}TasksCount`]++;
    }
  }
  let active = 0;
  let liveServices = 0;
  for (const s of services) {
    if (s.status === 'ACTIVE') {
      active++;
      stats[`active${launch(s.launchType)}ServiceCount`]++;
    }
    if (s.status === 'DRAINING') stats[`draining${launch(s.launchType)}ServiceCount`]++;
    if (s.status === 'ACTIVE' || s.status === 'DRAINING') liveServices++;
  }
  return {
    // Fargate pool hosts are berth's, not the cluster's container instances (model/fargate-pool.ts).
    registeredContainerInstancesCount: instances.filter((i) => (i.status === 'ACTIVE' || i.status === 'DRAINING') && !isFargatePoolHost(i.attributes)).length,
    runningTasksCount: running,
    pendingTasksCount: pending,
    activeServicesCount: active,
    liveTasksCount: live,
    liveServicesCount: liveServices,
    statistics: Object.entries(stats).map(([name, value]) => ({ name, value: String(value) })),
  };
}

async function values<T>(store: Store, parse: Parse<T>, prefix: string): Promise<T[]> {
  const { entries } = await store.range(prefix);
  return entries.map((e) => parse(e.value, e.key));
}
