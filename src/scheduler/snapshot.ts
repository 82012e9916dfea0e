import type { Capacity, InstanceStatus } from '../model/container-instance.js';

/** A task that has not stopped, as placement sees it. */
export interface TaskSummary {
  readonly taskId: string;
  /** `service:<name>` for service tasks, `family:<family>` or a custom group for standalone ones. */
  readonly group: string;
}

/**
 * What placement sees of one container instance: a read-only copy taken from the store before placing.
 * Only ACTIVE instances take part; of those, only the ones whose agent is connected receive tasks.
 */
export interface InstanceSnapshot {
  /** The id at the end of the container-instance ARN. */
  readonly id: string;
  readonly arn: string;
  readonly ec2InstanceId: string | undefined;
  readonly status: InstanceStatus;
  readonly agentConnected: boolean;
  /** versionInfo.agentVersion; compared as a version by `agentVersion` expressions. */
  readonly agentVersion: string | undefined;
  /** Epoch seconds. */
  readonly registeredAt: number | undefined;
  /** Attribute name → value (built-in ecs.* ones and custom ones); presence alone satisfies `exists`. */
  readonly attributes: ReadonlyMap<string, string | undefined>;
  /** What is left for new tasks: registered resources minus what its tasks reserve. */
  readonly remaining: Capacity;
  /** Its tasks that have not stopped (pending ones included). */
  readonly tasks: readonly TaskSummary[];
  /**
   * `tasks` counted by group. Optional (counted from `tasks` when absent); a snapshot kept between calls
   * carries it so that a placement costs in instances, not in tasks (thousands of them live in a big cluster).
   */
  readonly groupCounts?: ReadonlyMap<string, number>;
}
