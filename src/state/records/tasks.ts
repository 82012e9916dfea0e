import type { Task } from '@aws-sdk/client-ecs';
import type { TaskNeeds } from '../../model/task.js';
import type { Wire } from '../../model/wire.js';
import type { TaskProtection } from '../../model/task-protection.js';
import type { PlacementConstraint, PlacementStrategy, RequiredAttribute } from '../../scheduler/index.js';
import { recordParser } from './codec.js';

/**
 * A task. `task` is the ECS shape as DescribeTasks returns it; `needs` is what it holds on its instance
 * until it stops (then `released` is set, in the transaction that gives the resources back).
 */
export interface TaskRecord {
  readonly cluster: string;
  readonly id: string;
  readonly instanceId?: string;
  readonly task: Wire<Task>;
  readonly needs: TaskNeeds;
  readonly released?: boolean;
  /** Set when the task came from a service (the services issue fills it in). */
  readonly serviceName?: string;
  /** Scale-in protection (UpdateTaskProtection), while enabled; it no longer holds once its time has passed. */
  readonly protection?: TaskProtection;
  /**
   * Set while the task waits in PROVISIONING, without an instance, for room on its capacity provider's group
   * (state/capacity-waits.ts); cleared when it is placed.
   */
  readonly waiting?: WaitingPlacement;
}

/** How a waiting task is placed once capacity appears. */
export interface WaitingPlacement {
  readonly capacityProvider: string;
  /** Epoch ms it began to wait: it gives up after ECS's wait. */
  readonly since: number;
  readonly constraints: readonly PlacementConstraint[];
  readonly strategies: readonly PlacementStrategy[];
  readonly requiredAttributes: readonly RequiredAttribute[];
}

export const parseTaskRecord = recordParser<TaskRecord>('task', { cluster: 'string', id: 'string', task: 'object', 'task.taskArn': 'string', needs: 'object' });
