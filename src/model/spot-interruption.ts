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

/**
 * Fargate Spot's warning: an interrupted task is told at once (desiredStatus STOPPED with stopCode
 * SpotInterruption, its containers SIGTERM) and is terminated two minutes later at the latest; a container's
 * stopTimeout (at most 120 s on Fargate) may end it sooner.
 */
export const SPOT_WARNING_MS = 120_000;

/**
 * When an interrupted task's containers are SIGKILLed at the latest (epoch ms), from its task record: its
 * `stoppingAt` (epoch seconds, when the interruption was decided) plus the warning. Undefined for any other task.
 */
export function spotStopDeadline(task: { readonly stopCode?: string; readonly stoppingAt?: number | Date }): number | undefined {
  if (task.stopCode !== 'SpotInterruption' || task.stoppingAt === undefined) return undefined;
  const ms = task.stoppingAt instanceof Date ? task.stoppingAt.getTime() : task.stoppingAt * 1000;
  return ms + SPOT_WARNING_MS;
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
