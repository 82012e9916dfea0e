import type { Deployment, Service } from '@aws-sdk/client-ecs';
import type { Wire } from '../../model/wire.js';

/**
 * A service. `service` is the ECS shape as DescribeServices returns it — deployments, counts and events
 * included (its tags are shown only when asked for); the other fields are berth's own bookkeeping, written
 * by the API (desired state) and the service controller (progress).
 */
export interface ServiceRecord {
  readonly cluster: string;
  readonly name: string;
  readonly service: Wire<Service>;
  /** CreateService's clientToken: the same token again returns the service instead of failing. */
  readonly clientToken?: string;
  /** True once the controller found the service steady, so "has reached a steady state" is said once per arrival. */
  readonly steady?: boolean;
  /** Per deployment id: what the controller has counted. */
  readonly progress?: Readonly<Record<string, DeploymentProgress>>;
  /** The newest deployment that reached COMPLETED: the circuit breaker's rollback target, kept after it drained. */
  readonly lastCompleted?: Wire<Deployment>;
  /** Failed task launches in a row (any deployment), and when the last one stopped (epoch ms): launches back off. */
  readonly launchFailures?: { readonly consecutive: number; readonly lastAt: number };
  /** When the service became INACTIVE (epoch ms); the record is forgotten an hour later. */
  readonly inactiveAt?: number;
}

export interface DeploymentProgress {
  /** Ids of the deployment's failed tasks already counted in its failedTasks (those still in the store). */
  readonly countedFailures: readonly string[];
}
