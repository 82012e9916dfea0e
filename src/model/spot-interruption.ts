import type { Capacity } from './container-instance.js';
import type { TaskNeeds } from './task.js';

/**
 * FARGATE_SPOT interruption: when an on-demand FARGATE task — RunTask's or a service's — does not fit the cluster's
 * Fargate pool, spot tasks are interrupted to make room, as AWS reclaims Spot capacity. Pure: which tasks of which
 * pool host.
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

/** One host's interruptions: the spot tasks to stop there, so that one on-demand task fits. */
export interface SpotInterruption {
  readonly instanceId: string;
  readonly taskIds: string[];
}

/**
 * Interruptions that make room for `missing` on-demand tasks of `needs`, one host pick per task (a host may be picked
 * again): after each pick the host is taken as holding the new task and no longer the interrupted ones. Fewer picks
 * than `missing` when the spot tasks cannot make room for all. `hosts` must show what is left once the tasks already
 * placed are counted (see {@link afterPlacements}).
 */
export function planSpotInterruptions(hosts: readonly PoolHost[], needs: Pick<TaskNeeds, 'cpu' | 'memory'>, missing: number): SpotInterruption[] {
  const left = new Map(hosts.map((h) => [h.instanceId, h]));
  const chosen: SpotInterruption[] = [];
  for (let i = 0; i < missing; i++) {
    const pick = spotTasksToInterrupt([...left.values()], needs);
    if (!pick) break;
    chosen.push(pick);
    const h = left.get(pick.instanceId)!;
    const freed = h.spotTasks.filter((t) => pick.taskIds.includes(t.taskId));
    left.set(pick.instanceId, {
      ...h,
      remaining: {
        ...h.remaining,
        cpu: h.remaining.cpu + freed.reduce((a, t) => a + t.needs.cpu, 0) - needs.cpu,
        memory: h.remaining.memory + freed.reduce((a, t) => a + t.needs.memory, 0) - needs.memory,
      },
      spotTasks: h.spotTasks.filter((t) => !pick.taskIds.includes(t.taskId)),
    });
  }
  return chosen;
}

/** The hosts once tasks of `needs` are placed on `placements` (an id per task, repeats allowed). */
export function afterPlacements(hosts: readonly PoolHost[], placements: readonly string[], needs: Pick<TaskNeeds, 'cpu' | 'memory'>): PoolHost[] {
  const placed = new Map<string, number>();
  for (const id of placements) placed.set(id, (placed.get(id) ?? 0) + 1);
  return hosts.map((h) => {
    const n = placed.get(h.instanceId) ?? 0;
    return n === 0 ? h : { ...h, remaining: { ...h.remaining, cpu: h.remaining.cpu - n * needs.cpu, memory: h.remaining.memory - n * needs.memory } };
  });
}
