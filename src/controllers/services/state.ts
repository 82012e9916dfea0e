import type { TaskNeeds } from '../../model/task.js';
import { isProtected } from '../../model/task-protection.js';
import type { NewEvent } from '../../model/service/events.js';
import type { InstanceSnapshot, PlacementConstraint, RequiredAttribute } from '../../scheduler/index.js';
import type { ServiceRecord } from '../../state/records/services.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import type { RegistryChange, RegistryView } from './registry-view.js';
import { elbVerdict, entriesFor, type GroupView, type TargetChange } from './target-of.js';

/** What one reconcile pass sees of a service and its cluster: read from the store, then left alone. */
export interface ServiceState {
  readonly record: ServiceRecord;
  /** The service's tasks (any status, those not yet forgotten). */
  readonly tasks: readonly TaskRecord[];
  /** Every container instance of the cluster as placement sees it (with the tasks of every group). */
  readonly instances: readonly InstanceSnapshot[];
  /** The cluster's Fargate pool hosts (model/fargate-pool.ts): where Fargate tasks are placed and run. */
  readonly fargatePool?: readonly InstanceSnapshot[];
  /** When each disconnected instance's agent went away (epoch ms). */
  readonly disconnectedAt: ReadonlyMap<string, number>;
  /** What the controller needs of each task definition the service's deployments and tasks use, by ARN. */
  readonly taskDefinitions: ReadonlyMap<string, TaskDefinitionFacts>;
  /** Epoch ms. */
  readonly now: number;
  readonly settings: ReconcileSettings;
  /** Seeds placement's and scale-in's tie-breaking. */
  readonly seed: number;
  /** The target groups of the service's `loadBalancers`, with their targets, by ARN. */
  readonly targetGroups?: ReadonlyMap<string, GroupView>;
  /** The Cloud Map services of its `serviceRegistries` (and former ones it may still be in), by ARN. */
  readonly registries?: ReadonlyMap<string, RegistryView>;
  /** A service with a capacity provider strategy: each provider's hosts, by the EC2 instance ids of its group. */
  readonly providerHosts?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Tasks of one capacity provider to start: on these instances (repeats allowed), and `waiting` more that wait for room. */
export interface ProviderLaunchPlan {
  readonly provider: string;
  readonly instanceIds: readonly string[];
  readonly waiting: number;
}

export interface TaskDefinitionFacts {
  readonly arn: string;
  readonly needs: TaskNeeds;
  /** Some essential container has a health check: its tasks count as healthy only when HEALTHY. */
  readonly healthChecked: boolean;
  readonly constraints: readonly PlacementConstraint[];
  readonly requiredAttributes: readonly RequiredAttribute[];
}

export interface ReconcileSettings {
  /** An instance whose agent has been disconnected this long is lost: its service tasks are replaced. */
  readonly instanceLostAfterMs: number;
  /** At most this many tasks are started by one pass (the next pass starts more). */
  readonly maxLaunchesPerPass: number;
}

export const DEFAULT_RECONCILE_SETTINGS: ReconcileSettings = { instanceLostAfterMs: 5 * 60_000, maxLaunchesPerPass: 100 };

/** What a pass decided: the tasks to start and stop, the service record to write, and when to look again. */
export interface ServicePlan {
  /** Instances to start the PRIMARY deployment's tasks on (an instance may repeat). */
  readonly launches: readonly string[];
  /** A service with a capacity provider strategy: its launches by provider (then `launches` is empty). */
  readonly providerLaunches?: readonly ProviderLaunchPlan[];
  readonly launchDeploymentId?: string;
  readonly stops: readonly PlannedStop[];
  /** Stops held back until the task's targets drain: the task is DEACTIVATING, desired STOPPED, meanwhile. */
  readonly deactivations?: readonly PlannedStop[];
  /** Targets to register (tasks that reached RUNNING) and to deregister (tasks being stopped). */
  readonly registrations?: readonly TargetChange[];
  readonly deregistrations?: readonly TargetChange[];
  /** Cloud Map instances to register, deregister and mark healthy or not (`serviceRegistries`), idempotent. */
  readonly registryChanges?: readonly RegistryChange[];
  /** Forward weights to set on listener rules (traffic-shifting deployments), idempotent. */
  readonly forwards?: readonly ForwardChange[];
  /** The service record with counts, deployments and bookkeeping brought up to date (events not yet added). */
  readonly record: ServiceRecord;
  /** Events to add, oldest first (the shell adds "has started" after launching). */
  readonly events: readonly NewEvent[];
  /**
   * Tasks counted healthy when deciding to stop healthy ones (the floor): if any of them changed before the
   * plan is committed, the plan is stale and the pass must start again.
   */
  readonly reliesOn: readonly string[];
  /** Look again after this long even if nothing changes (grace periods, lost instances, back-off, capacity). */
  readonly requeueAfterMs?: number;
  /** The service has been INACTIVE long enough to be forgotten. */
  readonly forget: boolean;
}

/** A listener rule (or listener) and the forward weights it should have (traffic-shifting deployments). */
export interface ForwardChange {
  readonly ruleArn: string;
  readonly weights: readonly { readonly targetGroupArn: string; readonly weight: number }[];
}

export interface PlannedStop {
  readonly taskId: string;
  readonly reason: string;
}

/** A task as the reconcile sees it: where it stands and what it counts for. */
export interface TaskView {
  readonly record: TaskRecord;
  readonly id: string;
  readonly deploymentId: string;
  readonly instanceId: string | undefined;
  /** Its instance's agent has been gone longer than allowed. */
  readonly lost: boolean;
  /** Its instance is not ACTIVE (DRAINING, deregistered) or gone. */
  readonly leaving: boolean;
  /** Not stopped, but its instance is deregistered or gone: no agent will ever report it; it is stopped here. */
  readonly orphaned: boolean;
  readonly stopped: boolean;
  /** Desired STOPPED, not stopped yet. */
  readonly stopping: boolean;
  /** Desired RUNNING, not stopped, its instance not lost. */
  readonly live: boolean;
  /** Holds a place under the ceiling: not stopped, its instance not lost. */
  readonly occupies: boolean;
  readonly pending: boolean;
  readonly running: boolean;
  /** Live, RUNNING and passing its health checks (HEALTHY when its task definition has them). */
  readonly healthy: boolean;
  /** Live and UNHEALTHY (container or load balancer health checks) past the grace period: to be replaced. */
  readonly failedHealthChecks: boolean;
  /** When it failed a target group's health checks (not its containers'): that group's ARN. */
  readonly failedElbIn?: string;
  /** When the grace period of an UNHEALTHY task ends (epoch ms), while it lasts. */
  readonly graceEndsAt?: number;
  /** While its scale-in protection holds: when it ends (epoch ms). Scale-in and deployments leave it alone. */
  readonly protectedUntil?: number;
}

const PENDING = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

/** Classify the service's tasks for a pass. */
export function viewTasks(state: ServiceState): TaskView[] {
  const byId = new Map([...state.instances, ...(state.fargatePool ?? [])].map((i) => [i.id, i]));
  const graceMs = (state.record.healthCheckGracePeriodSeconds ?? 0) * 1000;
  const deregistering = state.record.berth.deregistering ?? {};
  return state.tasks.map((record) => {
    const t = record.task;
    const instance = record.instanceId ? byId.get(record.instanceId) : undefined;
    const lost = instance !== undefined && isLost(state, instance);
    const stopped = t.lastStatus === 'STOPPED';
    // A task deregistered from its target groups is on its way out: it waits for them to drain, then stops.
    const stopping = !stopped && (t.desiredStatus === 'STOPPED' || deregistering[record.id] !== undefined);
    // A task waiting for its capacity provider's room has no instance yet (state/capacity-waits.ts): not orphaned.
    const waiting = record.waiting !== undefined && !record.instanceId;
    const orphaned = !stopped && !waiting && (instance === undefined || instance.status === 'INACTIVE');
    const live = !stopped && !stopping && !lost && !orphaned;
    const running = t.lastStatus === 'RUNNING';
    const facts = state.taskDefinitions.get(t.taskDefinitionArn ?? '');
    const health = t.healthStatus ?? 'UNKNOWN';
    // Behind load balancers a task counts as healthy only once every target of it is healthy.
    const elb = live && running && entriesFor(state.record, t.startedBy).length > 0 ? elbVerdict(state, record) : undefined;
    const elbFailed = elb?.state === 'unhealthy' ? elb.targetGroupArn : undefined;
    const healthy = live && running && (facts?.healthChecked ? health === 'HEALTHY' : health !== 'UNHEALTHY') && (elb === undefined || elb.state === 'healthy');
    const unhealthy = live && running && (health === 'UNHEALTHY' || elbFailed !== undefined);
    const graceEndsAt = unhealthy && t.startedAt !== undefined ? t.startedAt * 1000 + graceMs : undefined;
    const inGrace = graceEndsAt !== undefined && state.now < graceEndsAt;
    return {
      record,
      id: record.id,
      deploymentId: t.startedBy ?? '',
      instanceId: record.instanceId,
      lost,
      leaving: !waiting && instance?.status !== 'ACTIVE',
      orphaned,
      stopped,
      stopping,
      live,
      occupies: !stopped && !lost && !orphaned,
      pending: PENDING.has(t.lastStatus ?? ''),
      running,
      healthy,
      failedHealthChecks: unhealthy && !inGrace,
      ...(elbFailed !== undefined && health !== 'UNHEALTHY' && !inGrace ? { failedElbIn: elbFailed } : {}),
      ...(inGrace ? { graceEndsAt } : {}),
      ...(live && isProtected(record.protection, state.now) ? { protectedUntil: record.protection.expiresAt } : {}),
    };
  });
}

/** The instance's agent has been disconnected for at least the allowed time. */
export function isLost(state: Pick<ServiceState, 'disconnectedAt' | 'now' | 'settings'>, instance: InstanceSnapshot): boolean {
  if (instance.agentConnected) return false;
  const since = state.disconnectedAt.get(instance.id);
  return since !== undefined && state.now - since >= state.settings.instanceLostAfterMs;
}
