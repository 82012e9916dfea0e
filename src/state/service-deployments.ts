/**
 * Service deployments (ECS's deployment history) kept beside the service records.
 *
 * A service deployment's status, read from the service's `deployments` while its deployment is there:
 *
 * ```
 *                        PRIMARY, IN_PROGRESS ──▶ IN_PROGRESS
 *   (CreateService /     PRIMARY, COMPLETED ────▶ SUCCESSFUL
 *    UpdateService)      PRIMARY, FAILED ───────▶ STOPPED            (circuit breaker without rollback; ABORT)
 *         │              ACTIVE, FAILED ────────▶ ROLLBACK_IN_PROGRESS ──(restored PRIMARY COMPLETED)──▶ ROLLBACK_SUCCESSFUL
 *         ▼              gone from the list ────▶ ROLLBACK_SUCCESSFUL (a rolled-back deployment drains only after its rollback completed)
 *   a newer deployment starts: the status then is kept in the record (`final`); one still moving becomes STOPPED.
 * ```
 *
 * Pure derivations, plus the transaction steps the API takes (`recordServiceDeployment`).
 */
import type { Deployment, ServiceDeployment, ServiceDeploymentBrief, ServiceRevision, TaskDefinition } from '@aws-sdk/client-ecs';
import { ecsArn, type ArnScope } from '../model/arn.js';
import { circuitBreakerThreshold, DEPLOYMENT_ID_PREFIX } from '../model/service/service.js';
import type { Wire } from '../model/wire.js';
import type { Tx } from '../store/transact.js';
import { keys } from './keys.js';
import { parseServiceDeploymentRecord, type Outcome, type ServiceDeploymentRecord, type SourceRevision } from './records/service-deployments.js';
import type { ServiceRecord } from './records/services.js';
import { emitDeploymentStateChange } from './ecs-events.js';

/** How many service deployments berth keeps per service (the oldest finished ones go first). */
export const MAX_SERVICE_DEPLOYMENTS = 50;

/** Statuses after which nothing changes. */
const TERMINAL = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);

const digitsOf = (deploymentId: string) => deploymentId.slice(DEPLOYMENT_ID_PREFIX.length);

/** `arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>` */
export const serviceDeploymentArn = (scope: ArnScope, cluster: string, service: string, deploymentId: string) =>
  ecsArn(scope, 'service-deployment', `${cluster}/${service}/${digitsOf(deploymentId)}`);

/** `arn:aws:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id>` */
export const serviceRevisionArn = (scope: ArnScope, cluster: string, service: string, deploymentId: string) =>
  ecsArn(scope, 'service-revision', `${cluster}/${service}/${digitsOf(deploymentId)}`);

/** The revision ARN of another deployment of the same service as `record`. */
const revisionArnBeside = (record: ServiceDeploymentRecord, deploymentId: string) =>
  record.revision.serviceRevisionArn!.replace(/[^/]+$/, digitsOf(deploymentId));

/** `<cluster>/<service>/<digits>` of a service-deployment or service-revision ARN, as a record key's parts. */
export function recordKeyOf(resource: string): { cluster: string; service: string; deploymentId: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})\/(\d{19})$/.exec(resource);
  return m ? { cluster: m[1]!, service: m[2]!, deploymentId: `${DEPLOYMENT_ID_PREFIX}${m[3]!}` } : undefined;
}

/** The status of a service deployment now, from its record and its service's record (if the service is still kept). */
export function outcomeOf(record: ServiceDeploymentRecord, service: ServiceRecord | undefined): Outcome {
  if (record.final) return record.final;
  const deployments = service?.deployments ?? [];
  const own = deployments.find((d) => d.id === record.deploymentId);
  const primary = deployments.find((d) => d.status === 'PRIMARY');
  if (!service) return { status: 'STOPPED', statusReason: 'The service was deleted.', updatedAt: record.createdAt, stoppedAt: record.createdAt };
  if (own?.status === 'PRIMARY') {
    const updatedAt = own.updatedAt ?? record.createdAt;
    if (own.rolloutState === 'COMPLETED') return { status: 'SUCCESSFUL', updatedAt, finishedAt: updatedAt };
    if (own.rolloutState === 'FAILED') return { status: 'STOPPED', statusReason: stopReason(record, own), updatedAt, stoppedAt: updatedAt };
    return { status: 'IN_PROGRESS', updatedAt };
  }
  if (primary && (!own || own.rolloutState === 'FAILED')) {
    // Rolled back (circuit breaker or StopServiceDeployment): the restored deployment is PRIMARY; this one drains.
    const startedAt = record.stop?.at ?? own?.updatedAt ?? primary.updatedAt ?? record.createdAt;
    const rollback = { reason: stopReason(record, own), startedAt, serviceRevisionArn: revisionArnBeside(record, primary.id!) };
    const updatedAt = primary.updatedAt ?? startedAt;
    if (primary.rolloutState === 'COMPLETED') return { status: 'ROLLBACK_SUCCESSFUL', statusReason: rollback.reason, updatedAt, finishedAt: updatedAt, rollback };
    return { status: 'ROLLBACK_IN_PROGRESS', statusReason: rollback.reason, updatedAt, rollback };
  }
  // An older deployment the service moved on from without saying so (a record from before supersession was kept).
  const at = own?.updatedAt ?? record.createdAt;
  return { status: 'STOPPED', statusReason: superseded, updatedAt: at, stoppedAt: at };
}

const superseded = 'A newer service deployment started before this one finished.';

function stopReason(record: ServiceDeploymentRecord, own: Wire<Deployment> | undefined): string {
  if (record.stop) return `Stopped by StopServiceDeployment (${record.stop.type}).`;
  return own?.rolloutStateReason ?? 'ECS deployment circuit breaker: tasks failed to start.';
}

const SHIFTING = new Set(['BLUE_GREEN', 'CANARY', 'LINEAR']);

/**
 * A traffic-shifting deployment's lifecycle stage and the production/test traffic shares of its revision (ECS
 * reports them for BLUE_GREEN, CANARY and LINEAR only): from the controller's shift while it runs, CLEAN_UP and 100 %
 * once it succeeded, 0 % once rolled back or stopped.
 */
function shiftView(record: ServiceDeploymentRecord, service: ServiceRecord | undefined, status: string) {
  if (!SHIFTING.has(record.deploymentConfiguration.strategy ?? '')) return undefined;
  const shift = service?.berth.shift?.deploymentId === record.deploymentId ? service.berth.shift : undefined;
  if (status === 'IN_PROGRESS') {
    const stage = shift?.stage ?? 'SCALE_UP';
    return { lifecycleStage: stage, production: shift?.percent ?? 0, test: stage === 'SCALE_UP' ? 0 : 100 };
  }
  if (status === 'SUCCESSFUL') return { lifecycleStage: 'CLEAN_UP' as const, production: 100, test: 100 };
  return { production: 0, test: 0 };
}

/** The ServiceDeployment shape DescribeServiceDeployments returns. */
export function describeServiceDeployment(record: ServiceDeploymentRecord, service: ServiceRecord | undefined): Wire<ServiceDeployment> {
  const outcome = outcomeOf(record, service);
  const own = service?.deployments?.find((d) => d.id === record.deploymentId);
  const breaker = record.deploymentConfiguration.deploymentCircuitBreaker;
  const breakerStatus = !breaker?.enable
    ? 'DISABLED'
    : own?.rolloutState === 'FAILED' && !record.stop
      ? 'TRIGGERED'
      : TERMINAL.has(outcome.status)
        ? 'MONITORING_COMPLETE'
        : 'MONITORING';
  const shifted = shiftView(record, service, outcome.status);
  return {
    serviceDeploymentArn: record.serviceDeploymentArn,
    serviceArn: record.serviceArn,
    clusterArn: record.clusterArn,
    createdAt: record.createdAt,
    startedAt: record.createdAt,
    ...(shifted?.lifecycleStage ? { lifecycleStage: shifted.lifecycleStage } : {}),
    ...(outcome.finishedAt !== undefined ? { finishedAt: outcome.finishedAt } : {}),
    ...(outcome.stoppedAt !== undefined ? { stoppedAt: outcome.stoppedAt } : {}),
    updatedAt: outcome.updatedAt,
    sourceServiceRevisions: record.sources.map((s) => ({
      arn: s.revisionArn,
      requestedTaskCount: s.requestedTaskCount,
      runningTaskCount: s.runningTaskCount,
      pendingTaskCount: s.pendingTaskCount,
      ...(shifted ? { requestedProductionTrafficWeight: 100 - shifted.production, requestedTestTrafficWeight: 100 - shifted.test } : {}),
    })),
    targetServiceRevision: {
      arn: record.revision.serviceRevisionArn!,
      requestedTaskCount: own?.desiredCount ?? 0,
      runningTaskCount: own?.runningCount ?? 0,
      pendingTaskCount: own?.pendingCount ?? 0,
      ...(shifted ? { requestedProductionTrafficWeight: shifted.production, requestedTestTrafficWeight: shifted.test } : {}),
    },
    status: outcome.status,
    ...(outcome.statusReason !== undefined ? { statusReason: outcome.statusReason } : {}),
    deploymentConfiguration: record.deploymentConfiguration,
    ...(outcome.rollback ? { rollback: outcome.rollback } : {}),
    deploymentCircuitBreaker: {
      status: breakerStatus,
      failureCount: own?.failedTasks ?? 0,
      threshold: circuitBreakerThreshold(own?.desiredCount ?? service?.desiredCount ?? 0),
    },
    alarms: { status: 'DISABLED' },
  };
}

/** The ServiceDeploymentBrief ListServiceDeployments returns. */
export function briefOf(record: ServiceDeploymentRecord, service: ServiceRecord | undefined): Wire<ServiceDeploymentBrief> {
  const outcome = outcomeOf(record, service);
  return {
    serviceDeploymentArn: record.serviceDeploymentArn,
    serviceArn: record.serviceArn,
    clusterArn: record.clusterArn,
    startedAt: record.createdAt,
    createdAt: record.createdAt,
    ...(outcome.finishedAt !== undefined ? { finishedAt: outcome.finishedAt } : {}),
    targetServiceRevisionArn: record.revision.serviceRevisionArn!,
    status: outcome.status,
    ...(outcome.statusReason !== undefined ? { statusReason: outcome.statusReason } : {}),
  };
}

/** The service revision a new PRIMARY deployment of `service` rolls out. */
export function revisionOf(scope: ArnScope, service: ServiceRecord, deployment: Wire<Deployment>, td: Wire<TaskDefinition> | undefined): Wire<ServiceRevision> {
  return {
    serviceRevisionArn: serviceRevisionArn(scope, service.berth.cluster, service.serviceName!, deployment.id!),
    serviceArn: service.serviceArn!,
    clusterArn: service.clusterArn!,
    taskDefinition: deployment.taskDefinition!,
    launchType: deployment.launchType ?? 'EC2',
    loadBalancers: service.loadBalancers ?? [],
    serviceRegistries: service.serviceRegistries ?? [],
    ...(deployment.networkConfiguration ? { networkConfiguration: deployment.networkConfiguration } : {}),
    containerImages: (td?.containerDefinitions ?? []).map((c) => ({ containerName: c.name!, image: c.image! })),
    guardDutyEnabled: false,
    createdAt: deployment.createdAt!,
  };
}

/** Every service-deployment record of one service, oldest first. */
export async function serviceDeploymentsIn(tx: Pick<Tx, 'range'>, cluster: string, service: string): Promise<ServiceDeploymentRecord[]> {
  const records: ServiceDeploymentRecord[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await tx.range(keys.serviceDeploymentsOf(cluster, service), { after, limit: 100 });
    for (const e of page.entries) records.push(parseServiceDeploymentRecord(e.value, e.key));
    if (!page.more || page.entries.length === 0) break;
    after = page.entries.at(-1)!.key;
  }
  return records.sort((a, b) => a.createdAt - b.createdAt || a.deploymentId.localeCompare(b.deploymentId));
}

/**
 * Keep the outcome of every unsettled service deployment of `service` as `service` shows it now (it is about
 * to stop showing it: a newer deployment starts, or the service is deleted); one still moving ends STOPPED.
 */
export async function settleServiceDeployments(tx: Tx, service: ServiceRecord, reason: string, nowMs: number): Promise<ServiceDeploymentRecord[]> {
  const cluster = service.berth.cluster;
  const name = service.serviceName!;
  const kept: ServiceDeploymentRecord[] = [];
  for (const r of await serviceDeploymentsIn(tx, cluster, name)) {
    if (r.final) {
      kept.push(r);
      continue;
    }
    const now = outcomeOf(r, service);
    const at = nowMs / 1000;
    const final: Outcome = TERMINAL.has(now.status) ? now : { ...now, status: 'STOPPED', statusReason: reason, updatedAt: at, stoppedAt: at };
    const settled = { ...r, final };
    tx.putJson(keys.serviceDeployment(cluster, name, digitsOf(r.deploymentId)), settled);
    kept.push(settled);
  }
  return kept;
}

/**
 * In the transaction that starts a deployment of `after` (its PRIMARY one): settle the earlier service
 * deployments as `before` shows them, or forget those of an earlier service of the same name, record the new
 * one, and keep at most {@link MAX_SERVICE_DEPLOYMENTS}.
 */
export async function recordServiceDeployment(
  tx: Tx,
  scope: ArnScope,
  before: ServiceRecord | undefined,
  after: ServiceRecord,
  td: Wire<TaskDefinition> | undefined,
  nowMs: number,
): Promise<void> {
  const cluster = after.berth.cluster;
  const name = after.serviceName!;
  const primary = after.deployments?.find((d) => d.status === 'PRIMARY');
  const earlier = before && before.status !== 'INACTIVE' ? before : undefined;
  let kept: ServiceDeploymentRecord[] = [];
  if (earlier) kept = await settleServiceDeployments(tx, earlier, superseded, nowMs);
  else for (const r of await serviceDeploymentsIn(tx, cluster, name)) tx.delete(keys.serviceDeployment(cluster, name, digitsOf(r.deploymentId)));
  // A service of the EXTERNAL or CODE_DEPLOY controller deploys through task sets: no service deployment, as in ECS.
  if (!primary) return;
  const sources: SourceRevision[] = (earlier?.deployments ?? [])
    .filter((d) => d.id !== primary.id)
    .map((d) => ({
      deploymentId: d.id!,
      revisionArn: serviceRevisionArn(scope, cluster, name, d.id!),
      requestedTaskCount: d.desiredCount ?? 0,
      runningTaskCount: d.runningCount ?? 0,
      pendingTaskCount: d.pendingCount ?? 0,
    }));
  const record: ServiceDeploymentRecord = {
    cluster,
    serviceName: name,
    deploymentId: primary.id!,
    serviceDeploymentArn: serviceDeploymentArn(scope, cluster, name, primary.id!),
    serviceArn: after.serviceArn!,
    clusterArn: after.clusterArn!,
    createdAt: nowMs / 1000,
    sources,
    deploymentConfiguration: after.deploymentConfiguration ?? {},
    revision: revisionOf(scope, after, primary, td),
  };
  tx.putJson(keys.serviceDeployment(cluster, name, digitsOf(primary.id!)), record);
  emitDeploymentStateChange(tx, { serviceArn: after.serviceArn! }, { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', deploymentId: primary.id!, reason: `ECS deployment ${primary.id} in progress.` }, nowMs);
  const excess = kept.length + 1 - MAX_SERVICE_DEPLOYMENTS;
  for (const old of kept.filter((r) => r.final).slice(0, Math.max(0, excess))) {
    tx.delete(keys.serviceDeployment(cluster, name, digitsOf(old.deploymentId)));
  }
}

/** The key of a service deployment's record. */
export const serviceDeploymentKey = (cluster: string, service: string, deploymentId: string) =>
  keys.serviceDeployment(cluster, service, digitsOf(deploymentId));
