import type { ContainerInstance } from '@aws-sdk/client-ecs';
import type { TaskNeeds } from '../../model/task.js';
import type { Wire } from '../../model/wire.js';
import { recordParser } from './codec.js';

/**
 * A registered container instance. `instance` holds the ECS shape except the fields derived on read
 * (remainingResources, runningTasksCount, pendingTasksCount); `reserved` is the sum of the needs of its
 * tasks that have not stopped, changed in the same transaction as the tasks themselves.
 */
export interface InstanceRecord {
  readonly cluster: string;
  readonly id: string;
  readonly instance: Wire<ContainerInstance>;
  readonly reserved: TaskNeeds;
  /** The instance's EC2-style identity, which a restarted agent presents to re-register as itself. */
  readonly ec2InstanceId: string;
  /** Epoch ms of the last sign of life on the agent's session. */
  readonly lastSeenAt?: number;
  /**
   * Epoch ms when the agent's session went away; absent while it is connected. The service controller
   * replaces the service tasks of an instance disconnected longer than `--instance-lost-after`.
   */
  readonly disconnectedAt?: number;
}

export const parseInstanceRecord = recordParser<InstanceRecord>('container instance', {
  cluster: 'string',
  id: 'string',
  ec2InstanceId: 'string',
  instance: 'object',
  'instance.containerInstanceArn': 'string',
  reserved: 'object',
});
