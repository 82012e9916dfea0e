import type { Deployment, LoadBalancer, Service } from '@aws-sdk/client-ecs';
import type { Wire } from '../../model/wire.js';
import { recordParser } from './codec.js';

/**
 * A service: the Service shape as DescribeServices returns it — deployments, counts, events and tags (shown
 * only when asked for) — and, under `berth`, the bookkeeping DescribeServices never shows. The API writes the
 * desired state, the service controller the progress. (Cluster counts and the task-definition reaper read the
 * Service fields of these records too.)
 */
export type ServiceRecord = Wire<Service> & { readonly berth: ServiceBookkeeping };

export interface ServiceBookkeeping {
  readonly cluster: string;
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
  /** CreateTaskSet's clientTokens, each with the id of the task set it created (the same token again returns it). */
  readonly taskSetTokens?: Readonly<Record<string, string>>;
  /**
   * Tasks the controller is stopping behind a load balancer: deregistered from their target groups, each is asked
   * to stop (with `reason`) once the groups' deregistration delay has passed, at `stopAt` (epoch ms).
   */
  readonly deregistering?: Readonly<Record<string, DeferredStop>>;
  /**
   * The `loadBalancers` the tasks of older deployments were registered with, by deployment id, written by an
   * UpdateService that changed them (tasks of other deployments use the service's): they stay in, and are
   * deregistered from, the target groups they were started for.
   */
  readonly deploymentLoadBalancers?: Readonly<Record<string, readonly Wire<LoadBalancer>[]>>;
  /** The traffic shift of the PRIMARY deployment in progress (BLUE_GREEN, CANARY, LINEAR; controllers/services/traffic-shift.ts). */
  readonly shift?: ShiftState;
  /**
   * Which of each `loadBalancers` entry's two groups (its own, its advancedConfiguration's alternate) is production now,
   * keyed by the entry's own group: the roles swap after each completed shift. Absent: the entry's own group.
   */
  readonly productionTargetGroups?: Readonly<Record<string, string>>;
  /**
   * Cloud Map services an UpdateService took out of `serviceRegistries` (registry ARNs): the controller deregisters
   * the service's instances there, then forgets them.
   */
  readonly formerRegistries?: readonly string[];
}

/** A traffic shift in progress: its lifecycle stage (ECS's names), the production share of the new revision, since when. */
export interface ShiftState {
  readonly deploymentId: string;
  readonly strategy: string;
  readonly stage: 'SCALE_UP' | 'TEST_TRAFFIC_SHIFT' | 'PRODUCTION_TRAFFIC_SHIFT' | 'BAKE_TIME' | 'CLEAN_UP';
  /** Percent of production traffic on the new revision (0–100, tenths). */
  readonly percent: number;
  /** When the current stage or step began (epoch ms). */
  readonly since: number;
}

export interface DeferredStop {
  readonly reason: string;
  readonly stopAt: number;
}

export interface DeploymentProgress {
  /** Ids of the deployment's failed tasks already counted in its failedTasks (those still in the store). */
  readonly countedFailures: readonly string[];
}

/**
 * The service as DescribeServices shows it: without berth's bookkeeping, with tags only when asked for, and
 * with its current service deployment (the PRIMARY deployment's) and the revisions its deployments run.
 */
export function describedService(record: ServiceRecord, withTags: boolean): Wire<Service> {
  // As ECS: `tags` only when asked for (include TAGS), not an empty list; the same for each task set's.
  const { berth: _berth, tags, ...service } = record;
  // `…:service/<cluster>/<name>` → `…:service-deployment/<cluster>/<name>/<digits>` (and service-revision).
  const arnOf = (type: string, deploymentId: string) => `${record.serviceArn!.replace(':service/', `:${type}/`)}/${deploymentId.split('/')[1]}`;
  const primary = record.deployments?.find((d) => d.status === 'PRIMARY');
  const current = {
    ...(primary ? { currentServiceDeployment: arnOf('service-deployment', primary.id!) } : {}),
    currentServiceRevisions: (record.deployments ?? []).map((d) => ({
      arn: arnOf('service-revision', d.id!),
      requestedTaskCount: d.desiredCount ?? 0,
      runningTaskCount: d.runningCount ?? 0,
      pendingTaskCount: d.pendingCount ?? 0,
    })),
  };
  if (withTags) return { ...service, ...current, tags: tags ?? [] };
  return { ...service, ...current, ...(service.taskSets ? { taskSets: service.taskSets.map(({ tags: _tags, ...set }) => set) } : {}) };
}

export const parseServiceRecord = recordParser<ServiceRecord>('service', { serviceName: 'string', serviceArn: 'string', berth: 'object', 'berth.cluster': 'string' });
