/**
 * berth's own ECS events on the default EventBridge bus, in the shapes ECS sends them (source `aws.ecs`; the
 * Developer Guide's "Amazon ECS events"): written to the event queue in the transaction that commits the change they
 * report, so a committed change is reported exactly once, even across a kill -9. The detail is the resource as
 * Describe* shows it, its times in ISO-8601 as ECS's events carry them, and `updatedAt` the change's time.
 */
import type { Container, ContainerInstance, Task } from '@aws-sdk/client-ecs';
import type { ArnScope } from '../model/arn.js';
import type { Wire } from '../model/wire.js';
import type { Tx } from '../store/transact.js';
import { enqueueEvent } from './event-queue.js';

export const ECS_SOURCE = 'aws.ecs';
const DEFAULT_BUS = 'default';

const TASK_TIMES = ['createdAt', 'startedAt', 'stoppingAt', 'stoppedAt', 'pullStartedAt', 'pullStoppedAt', 'executionStoppedAt', 'connectivityAt'] as const;

/** Region and account of an ECS ARN (`arn:aws:ecs:<region>:<account>:…`). */
function scopeOfArn(arn: string): ArnScope {
  const [, , , region, accountId] = arn.split(':');
  return { region: region ?? '', accountId: accountId ?? '' };
}

const iso = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : seconds);

function withIsoTimes<T extends object>(value: T, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const f of fields) if (out[f] !== undefined) out[f] = iso(out[f]);
  return out;
}

/** "ECS Task State Change" for the task as it is being written (`nowMs`: the change's time). */
export function emitTaskStateChange(tx: Pick<Tx, 'putJson'>, task: Wire<Task>, nowMs: number): void {
  const { tags: _tags, ...shown } = task;
  const detail = {
    ...withIsoTimes(shown, TASK_TIMES),
    containers: (task.containers ?? []).map((c: Wire<Container>) => ({ ...c })),
    updatedAt: new Date(nowMs).toISOString(),
  };
  enqueueEvent(tx, scopeOfArn(task.taskArn!), DEFAULT_BUS, { source: ECS_SOURCE, detailType: 'ECS Task State Change', detail, resources: [task.taskArn!] }, nowMs);
}

/** "ECS Container Instance State Change" for the instance as it is being written. */
export function emitContainerInstanceStateChange(tx: Pick<Tx, 'putJson'>, instance: Wire<ContainerInstance>, nowMs: number): void {
  const { tags: _tags, ...shown } = instance;
  // arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id> → the cluster's ARN.
  const [prefix, path] = instance.containerInstanceArn!.split(':container-instance/') as [string, string];
  const clusterArn = `${prefix}:cluster/${path.split('/')[0]}`;
  const detail = { ...withIsoTimes(shown, ['registeredAt']), clusterArn, updatedAt: new Date(nowMs).toISOString() };
  enqueueEvent(
    tx,
    scopeOfArn(instance.containerInstanceArn!),
    DEFAULT_BUS,
    { source: ECS_SOURCE, detailType: 'ECS Container Instance State Change', detail, resources: [instance.containerInstanceArn!] },
    nowMs,
  );
}

/** "ECS Service Action" (SERVICE_STEADY_STATE, TASKS_STOPPED, SERVICE_TASK_PLACEMENT_FAILURE…). */
export function emitServiceAction(
  tx: Pick<Tx, 'putJson'>,
  service: { serviceArn: string; clusterArn: string },
  action: { eventType: 'INFO' | 'WARN' | 'ERROR'; eventName: string; reason?: string },
  nowMs: number,
): void {
  const detail = { eventType: action.eventType, eventName: action.eventName, clusterArn: service.clusterArn, createdAt: new Date(nowMs).toISOString(), ...(action.reason ? { reason: action.reason } : {}) };
  enqueueEvent(tx, scopeOfArn(service.serviceArn), DEFAULT_BUS, { source: ECS_SOURCE, detailType: 'ECS Service Action', detail, resources: [service.serviceArn] }, nowMs);
}

/** "ECS Deployment State Change" (SERVICE_DEPLOYMENT_IN_PROGRESS, _COMPLETED, _FAILED). */
export function emitDeploymentStateChange(
  tx: Pick<Tx, 'putJson'>,
  service: { serviceArn: string },
  change: { eventType: 'INFO' | 'ERROR'; eventName: string; deploymentId: string; reason: string },
  nowMs: number,
): void {
  const detail = { eventType: change.eventType, eventName: change.eventName, deploymentId: change.deploymentId, updatedAt: new Date(nowMs).toISOString(), reason: change.reason };
  enqueueEvent(tx, scopeOfArn(service.serviceArn), DEFAULT_BUS, { source: ECS_SOURCE, detailType: 'ECS Deployment State Change', detail, resources: [service.serviceArn] }, nowMs);
}

/**
 * The EventBridge events ECS sends for service event messages the controller just recorded (oldest first):
 * steady state, placement failures and impaired starts as "ECS Service Action"; a deployment completed or failed as
 * "ECS Deployment State Change". Other messages (tasks started or stopped, targets registered) have no event.
 */
export function emitServiceEvents(tx: Pick<Tx, 'putJson'>, service: { serviceArn: string; clusterArn: string }, messages: readonly string[], nowMs: number): void {
  for (const message of messages) {
    const deployment = /\(deployment ([^)]+)\)/.exec(message)?.[1];
    if (message.endsWith('has reached a steady state.')) emitServiceAction(tx, service, { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE' }, nowMs);
    else if (message.includes('was unable to place a task')) emitServiceAction(tx, service, { eventType: 'WARN', eventName: 'SERVICE_TASK_PLACEMENT_FAILURE', reason: message }, nowMs);
    else if (message.includes('is unable to consistently start tasks')) emitServiceAction(tx, service, { eventType: 'WARN', eventName: 'SERVICE_TASK_START_IMPAIRED' }, nowMs);
    else if (deployment && message.endsWith('deployment completed.')) {
      emitDeploymentStateChange(tx, service, { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_COMPLETED', deploymentId: deployment, reason: `ECS deployment ${deployment} completed.` }, nowMs);
    } else if (deployment && message.includes('deployment failed')) {
      emitDeploymentStateChange(tx, service, { eventType: 'ERROR', eventName: 'SERVICE_DEPLOYMENT_FAILED', deploymentId: deployment, reason: message }, nowMs);
    }
  }
}
