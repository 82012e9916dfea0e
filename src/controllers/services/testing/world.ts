import type { Deployment, Service } from '@aws-sdk/client-ecs';
import { withEvents } from '../../../model/service/events.js';
import { newDeployment, type DeploymentLimits } from '../../../model/service/service.js';
import type { Wire } from '../../../model/wire.js';
import type { InstanceSnapshot } from '../../../scheduler/index.js';
import { instance } from '../../../scheduler/testing/instances.js';
import type { ServiceRecord } from '../../../state/records/services.js';
import type { TaskRecord } from '../../../state/records/tasks.js';
import { reconcileService } from '../reconcile.js';
import type { ServicePlan, ServiceState, TaskDefinitionFacts } from '../state.js';

/**
 * A pretend cluster for testing the pure reconcile: instances, tasks and one service, with the agent's side
 * (tasks starting, failing, stopping) and the shell's (applying a plan) done by hand, so that tests and
 * property tests can interleave them as they like.
 */
export interface World {
  record: ServiceRecord;
  tasks: TaskRecord[];
  instances: InstanceSnapshot[];
  disconnectedAt: Map<string, number>;
  taskDefinitions: Map<string, TaskDefinitionFacts>;
  now: number;
  nextId: number;
  seed: number;
  settings: ServiceState['settings'];
}

/** Task definitions of the pretend cluster: two revisions without health checks, one with. */
export const TD1 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:1';
export const TD2 = 'arn:aws:ecs:us-east-1:000000000000:task-definition/web:2';
export const TD_HEALTH = 'arn:aws:ecs:us-east-1:000000000000:task-definition/checked:1';

/** A task definition as the reconcile sees it. */
export const facts = (arn: string, healthChecked = false, memory = 64): TaskDefinitionFacts => ({
  arn,
  needs: { cpu: 0, memory, ports: [], portsUdp: [] },
  healthChecked,
  constraints: [],
  requiredAttributes: [],
});

export interface WorldOptions {
  readonly desired?: number;
  readonly limits?: Partial<Pick<DeploymentLimits, 'minimumHealthyPercent' | 'maximumPercent'>> & { circuitBreaker?: DeploymentLimits['circuitBreaker'] };
  readonly strategy?: 'REPLICA' | 'DAEMON';
  readonly instances?: InstanceSnapshot[];
  readonly taskDefinition?: string;
  readonly service?: Partial<Wire<Service>>;
}

/** A pretend cluster with one service (REPLICA, desired 3 by default) and two instances in two zones. */
export function world(options: WorldOptions = {}): World {
  const now = 1_700_000_000_000;
  const td = options.taskDefinition ?? TD1;
  const daemon = options.strategy === 'DAEMON';
  const desired = daemon ? 0 : (options.desired ?? 3);
  const record: ServiceRecord = {
    berth: { cluster: 'c' },
    serviceName: 'web',
    serviceArn: 'arn:aws:ecs:us-east-1:000000000000:service/c/web',
    status: 'ACTIVE',
    desiredCount: desired,
    runningCount: 0,
    pendingCount: 0,
    taskDefinition: td,
    schedulingStrategy: daemon ? 'DAEMON' : 'REPLICA',
    deploymentConfiguration: {
      minimumHealthyPercent: options.limits?.minimumHealthyPercent ?? (daemon ? 0 : 100),
      maximumPercent: options.limits?.maximumPercent ?? (daemon ? 100 : 200),
      deploymentCircuitBreaker: options.limits?.circuitBreaker ?? { enable: false, rollback: false },
    },
    deployments: [newDeployment('ecs-svc/1000000000000000001', td, desired, now)],
    events: [],
    placementConstraints: [],
    placementStrategy: [],
    ...options.service,
  };
  return {
    record,
    tasks: [],
    instances: options.instances ?? [instance('i1', { attributes: { 'ecs.availability-zone': 'a' } }), instance('i2', { attributes: { 'ecs.availability-zone': 'b' } })],
    disconnectedAt: new Map(),
    taskDefinitions: new Map([TD1, TD2].map((arn) => [arn, facts(arn)])).set(TD_HEALTH, facts(TD_HEALTH, true)),
    now,
    nextId: 1,
    seed: 7,
    settings: { instanceLostAfterMs: 60_000, maxLaunchesPerPass: 100 },
  };
}

/** The state a pass would read. */
export function stateOf(w: World): ServiceState {
  const groups = new Map<string, { taskId: string; group: string }[]>();
  for (const t of w.tasks) {
    if (t.task.lastStatus === 'STOPPED' || !t.instanceId) continue;
    groups.set(t.instanceId, [...(groups.get(t.instanceId) ?? []), { taskId: t.id, group: t.task.group ?? '' }]);
  }
  return {
    record: w.record,
    tasks: w.tasks,
    instances: w.instances.map((i) => ({ ...i, tasks: groups.get(i.id) ?? [] })),
    disconnectedAt: w.disconnectedAt,
    taskDefinitions: w.taskDefinitions,
    now: w.now,
    settings: w.settings,
    seed: w.seed,
  };
}

/** Run one pass and apply its plan as the shell would (stops, launches, record and events). */
export function pass(w: World): ServicePlan {
  const plan = reconcileService(stateOf(w));
  if (plan.forget) return plan;
  for (const stop of plan.stops) {
    const t = w.tasks.find((x) => x.id === stop.taskId)!;
    t.task.desiredStatus = 'STOPPED';
    t.task.stoppedReason = stop.reason;
    t.task.stopCode = 'ServiceSchedulerInitiated';
    t.task.stoppingAt = w.now / 1000;
  }
  const started: string[] = [];
  const deployment = [...(plan.record.deployments ?? []), ...(plan.record.taskSets ?? [])].find((d) => d.id === plan.launchDeploymentId);
  for (const instanceId of plan.launches) started.push(addTask(w, instanceId, deployment!).id);
  w.record = {
    ...plan.record,
    events: withEvents(plan.record.events ?? [], [...plan.events, ...(started.length ? [{ message: `started ${started.join(' ')}` }] : [])], w.now, () => `e${w.nextId++}`),
  };
  return plan;
}

/** A task of `deployment` on `instanceId`, PROVISIONING. */
export function addTask(w: World, instanceId: string, deployment: Pick<Wire<Deployment>, 'id' | 'taskDefinition'>, lastStatus = 'PROVISIONING'): TaskRecord {
  const id = `t${String(w.nextId++).padStart(3, '0')}`;
  const record: TaskRecord = {
    cluster: 'c',
    id,
    instanceId,
    serviceName: 'web',
    needs: w.taskDefinitions.get(deployment.taskDefinition!)?.needs ?? { cpu: 0, memory: 0, ports: [], portsUdp: [] },
    task: {
      taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/${id}`,
      taskDefinitionArn: deployment.taskDefinition!,
      lastStatus,
      desiredStatus: 'RUNNING',
      group: 'service:web',
      startedBy: deployment.id!,
      healthStatus: 'UNKNOWN',
      createdAt: w.now / 1000,
      ...(lastStatus === 'RUNNING' ? { startedAt: w.now / 1000 } : {}),
    },
  };
  w.tasks.push(record);
  return record;
}

/** The agent's side for one task: a PROVISIONING task starts (or fails to), a task asked to stop stops. */
export function agentStep(w: World, t: TaskRecord, outcome: 'start' | 'fail' = 'start'): void {
  const task = t.task;
  if (task.lastStatus === 'STOPPED') return;
  // Held running by the control plane while its load balancer targets drain (the agent is told RUNNING).
  if (task.lastStatus === 'DEACTIVATING' && outcome === 'start') return;
  if (task.desiredStatus === 'STOPPED' || outcome === 'fail') {
    if (outcome === 'fail' && task.desiredStatus !== 'STOPPED') {
      task.desiredStatus = 'STOPPED';
      task.stopCode = task.lastStatus === 'RUNNING' ? 'EssentialContainerExited' : 'TaskFailedToStart';
      task.stoppedReason = 'Essential container in task exited';
    }
    task.lastStatus = 'STOPPED';
    task.stoppedAt = w.now / 1000;
    task.executionStoppedAt = w.now / 1000;
    return;
  }
  task.lastStatus = 'RUNNING';
  task.startedAt ??= w.now / 1000;
}

/** Start a new deployment of `taskDefinition`, as UpdateService does. */
export function deploy(w: World, taskDefinition: string, id = `ecs-svc/2${String(w.nextId++).padStart(18, '0')}`): string {
  const s = w.record;
  w.record = {
    ...s,
    taskDefinition,
    deployments: [newDeployment(id, taskDefinition, s.desiredCount ?? 0, w.now), ...(s.deployments ?? []).map((d) => (d.status === 'PRIMARY' ? { ...d, status: 'ACTIVE' } : d))],
    berth: { ...s.berth, steady: false },
  };
  return id;
}

/** Pass and let every task move until nothing changes (at most `rounds` rounds). */
export function settle(w: World, rounds = 50): void {
  for (let i = 0; i < rounds; i++) {
    const plan = pass(w);
    const moving = w.tasks.filter((t) => t.task.lastStatus !== 'STOPPED' && (t.task.lastStatus !== 'RUNNING' || t.task.desiredStatus === 'STOPPED'));
    for (const t of moving) agentStep(w, t);
    if (plan.launches.length === 0 && plan.stops.length === 0 && moving.length === 0) return;
  }
  throw new Error('the service did not settle');
}

/** Tasks RUNNING (stopping ones included), live ones (desired RUNNING, not stopped), the service's event messages. */
export const running = (w: World) => w.tasks.filter((t) => t.task.lastStatus === 'RUNNING');
export const live = (w: World) => w.tasks.filter((t) => t.task.lastStatus !== 'STOPPED' && t.task.desiredStatus === 'RUNNING');
export const messages = (w: World) => (w.record.events ?? []).map((e) => e.message!);
