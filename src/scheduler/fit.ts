import type { Capacity, InstanceStatus } from '../model/container-instance.js';
import type { TaskNeeds } from '../model/task.js';
import { place } from './place.js';
import type { InstanceSnapshot as FullSnapshot } from './snapshot.js';

/**
 * The little of an instance that resource-only placement needs. Kept for RunTask until it builds full
 * snapshots (snapshot.ts) and calls `place` with the request's constraints and strategies.
 */
export interface InstanceSnapshot {
  readonly id: string;
  readonly arn: string;
  readonly status: string;
  readonly agentConnected: boolean;
  readonly remaining: Capacity;
}

export interface FitRequest {
  readonly count: number;
  readonly needs: TaskNeeds;
}

export interface FitResult {
  /** The instance id for each task placed, in order. */
  readonly placements: string[];
  /** ECS failure records for the tasks that could not be placed (one per ACTIVE connected instance, with its reason). */
  readonly failures: { arn: string; reason: string }[];
}

/**
 * Resource-fit placement: `place` with no constraints and no strategy, so each task goes to a random ACTIVE,
 * connected instance that still has the CPU, memory and ports it needs (counting tasks placed earlier in the
 * same request). `random` makes it deterministic in tests.
 */
export function fitTasks(instances: readonly InstanceSnapshot[], request: FitRequest, random: () => number): FitResult {
  const full: FullSnapshot[] = instances.map((i) => ({
    id: i.id,
    arn: i.arn,
    ec2InstanceId: undefined,
    status: i.status as InstanceStatus,
    agentConnected: i.agentConnected,
    agentVersion: undefined,
    registeredAt: undefined,
    attributes: new Map(),
    remaining: i.remaining,
    tasks: [],
  }));
  const result = place(full, { count: request.count, needs: request.needs, group: '' }, random);
  // As before `place` existed, instances whose agent is disconnected are left out of the failures (place lists
  // them with reason AGENT); RunTask's callers and tests rely on that until RunTask moves to `place`.
  const failures = result.instanceFailures.filter((f) => f.reason !== 'AGENT').map((f) => ({ arn: f.arn, reason: f.reason }));
  return { placements: [...result.placements], failures };
}
