import type { Capacity } from './container-instance.js';
import type { TaskNeeds } from './task.js';

/**
 * FARGATE_SPOT interruption: when an on-demand FARGATE task does not fit the cluster's Fargate pool, spot
 * tasks are interrupted to make room, as AWS reclaims Spot capacity. Pure: which tasks of which pool host.
 */

/** A pool host as the chooser sees it: what is left, and its running FARGATE_SPOT tasks. */
export interface PoolHost {
  readonly instanceId: string;
  readonly remaining: Capacity;
  readonly spotTasks: readonly { readonly taskId: string; readonly needs: TaskNeeds }[];
}

/** ECS's reason for a Spot task stopped by an interruption (stopCode SpotInterruption). */
export const SPOT_INTERRUPTION_REASON = 'Your Spot Task was interrupted.';

/**
 * The fewest spot tasks of one host whose stop leaves room for `needs` (CPU and memory; Fargate tasks hold no
 * host ports), the largest first; the host that needs fewest interruptions wins. Undefined when none can.
 */
export function spotTasksToInterrupt(hosts: readonly PoolHost[], needs: Pick<TaskNeeds, 'cpu' | 'memory'>): { instanceId: string; taskIds: string[] } | undefined {
  let best: { instanceId: string; taskIds: string[] } | undefined;
  for (const host of hosts) {
    let cpu = host.remaining.cpu;
    let memory = host.remaining.memory;
    const taskIds: string[] = [];
    const largestFirst = [...host.spotTasks].sort((a, b) => b.needs.memory - a.needs.memory || b.needs.cpu - a.needs.cpu);
    for (const t of largestFirst) {
      if (cpu >= needs.cpu && memory >= needs.memory) break;
      cpu += t.needs.cpu;
      memory += t.needs.memory;
      taskIds.push(t.taskId);
    }
    if (cpu < needs.cpu || memory < needs.memory || taskIds.length === 0) continue;
    if (!best || taskIds.length < best.taskIds.length) best = { instanceId: host.instanceId, taskIds };
  }
  return best;
}
