import type {
  DescribeServiceDeploymentsRequest,
  DescribeServiceRevisionsRequest,
  ListServiceDeploymentsRequest,
  StopServiceDeploymentRequest,
} from '@aws-sdk/client-ecs';
import { parseOwnEcsArn } from '../../model/arn.js';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { stopDeployment } from '../../model/service/stop-deployment.js';
import { keys } from '../../state/keys.js';
import { parseServiceDeploymentRecord, type ServiceDeploymentRecord } from '../../state/records/service-deployments.js';
import { parseServiceRecord, type ServiceRecord } from '../../state/records/services.js';
import {
  briefOf,
  describeServiceDeployment,
  outcomeOf,
  recordKeyOf,
  serviceDeploymentKey,
  serviceDeploymentsIn,
} from '../../state/service-deployments.js';
import { readRecord, transact } from '../../store/transact.js';
import { pageOfList } from '../pagination.js';
import { activeCluster } from './clusters.js';
import type { EcsEnv } from './env.js';
import { serviceNameOf } from './services.js';

const deploymentNotFound = () =>
  new ServiceError('ServiceDeploymentNotFoundException', 'The service deployment does not exist. Use ListServiceDeployments to find its ARN.');

/** A service-deployment or service-revision ARN of this region and account, as the key of its record. */
function recordRef(env: EcsEnv, arn: string, type: 'service-deployment' | 'service-revision') {
  const resource = parseOwnEcsArn(env.scope, arn, type);
  return resource === undefined ? undefined : recordKeyOf(resource);
}

/** A service deployment (or the deployment of a service revision) by ARN, with its service's record if kept. */
async function lookupRecord(env: EcsEnv, arn: string, type: 'service-deployment' | 'service-revision') {
  const ref = recordRef(env, arn, type);
  if (!ref) return undefined;
  const record = await readRecord(env.store, parseServiceDeploymentRecord, serviceDeploymentKey(ref.cluster, ref.service, ref.deploymentId));
  if (!record) return undefined;
  const service = await readRecord(env.store, parseServiceRecord, keys.service(ref.cluster, ref.service));
  return { record, service };
}

/** The service deployment an ARN names, if berth has it. */
export const findServiceDeployment = (env: EcsEnv, arn: string) => lookupRecord(env, arn, 'service-deployment');

/** 1 to 20 ARNs, as ECS takes them. */
function arnList(field: string, arns: readonly string[] | undefined): readonly string[] {
  if (!arns || arns.length < 1 || arns.length > 20) throw invalidParameter(`${field} must list between 1 and 20 ARNs.`);
  return arns;
}

/**
 * The service deployments API over berth's deployment history (`state/service-deployments.ts`): list,
 * describe, their service revisions, and StopServiceDeployment (ROLLBACK to the last completed deployment,
 * or ABORT). ContinueServiceDeployment (lifecycle hooks) only refuses: `not-available.ts`.
 */
export function serviceDeploymentOperations(env: EcsEnv) {
  const lookup = (arn: string, type: 'service-deployment' | 'service-revision') => lookupRecord(env, arn, type);

  return {
    async ListServiceDeployments(input: ListServiceDeploymentsRequest) {
      if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 100)) throw invalidParameter('maxResults must be between 1 and 100.');
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const name = serviceNameOf(env, cluster, input.service!);
      const service = name ? await readRecord(env.store, parseServiceRecord, keys.service(cluster, name)) : undefined;
      if (!service) throw new ServiceError('ServiceNotFoundException', 'Service not found.');
      const after = input.createdAt?.after as unknown as number | undefined;
      const before = input.createdAt?.before as unknown as number | undefined;
      const records = (await serviceDeploymentsIn(env.store, cluster, service.serviceName!))
        .filter((r) => (after === undefined || r.createdAt >= after) && (before === undefined || r.createdAt <= before))
        .map((r) => briefOf(r, service))
        .filter((b) => !input.status?.length || input.status.includes(b.status!))
        .reverse();
      const page = pageOfList(records, input, { defaultSize: 20, maxSize: 100 });
      return { serviceDeployments: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async DescribeServiceDeployments(input: DescribeServiceDeploymentsRequest) {
      const serviceDeployments = [];
      const failures = [];
      for (const arn of arnList('serviceDeploymentArns', input.serviceDeploymentArns)) {
        const found = await lookup(arn, 'service-deployment');
        if (found) serviceDeployments.push(describeServiceDeployment(found.record, found.service));
        else failures.push({ arn, reason: 'MISSING' });
      }
      return { serviceDeployments, failures };
    },

    async DescribeServiceRevisions(input: DescribeServiceRevisionsRequest) {
      const serviceRevisions = [];
      const failures = [];
      for (const arn of arnList('serviceRevisionArns', input.serviceRevisionArns)) {
        const found = await lookup(arn, 'service-revision');
        // Which target groups the revision's tasks are in (traffic shifting alternates them), while its service knows.
        const lbs = found?.service?.berth.deploymentLoadBalancers?.[found.record.deploymentId];
        const resolved = lbs?.some((lb) => lb.advancedConfiguration)
          ? { resolvedConfiguration: { loadBalancers: lbs.map((lb) => ({ targetGroupArn: lb.targetGroupArn!, ...(lb.advancedConfiguration?.productionListenerRule ? { productionListenerRule: lb.advancedConfiguration.productionListenerRule } : {}) })) } }
          : {};
        if (found) serviceRevisions.push({ ...found.record.revision, ...resolved });
        else failures.push({ arn, reason: 'MISSING' });
      }
      return { serviceRevisions, failures };
    },

    async StopServiceDeployment(input: StopServiceDeploymentRequest) {
      const ref = recordRef(env, input.serviceDeploymentArn!, 'service-deployment');
      if (!ref) throw deploymentNotFound();
      const type = input.stopType ?? 'ROLLBACK';
      const nowMs = env.now();
      await transact(env.store, async (tx) => {
        const key = serviceDeploymentKey(ref.cluster, ref.service, ref.deploymentId);
        const record = await tx.getRecord(parseServiceDeploymentRecord, key);
        if (!record) throw deploymentNotFound();
        const service = await tx.getRecord(parseServiceRecord, keys.service(ref.cluster, ref.service));
        const status = outcomeOf(record, service).status;
        if (!service || service.status !== 'ACTIVE' || status !== 'IN_PROGRESS') {
          throw new ServiceError('ConflictException', `The service deployment is ${status}: only an IN_PROGRESS service deployment can be stopped.`);
        }
        const last = service.berth.lastCompleted;
        const target = type === 'ROLLBACK' && last && last.id !== record.deploymentId ? last : undefined;
        if (type === 'ROLLBACK' && !target) {
          throw new ServiceError('ConflictException', 'The service has no earlier service revision that completed to roll back to; stop it with stopType ABORT.');
        }
        const outcome = stopDeployment(service.deployments ?? [], record.deploymentId, type, target, service.desiredCount ?? 0, nowMs);
        const next: ServiceRecord = {
          ...service,
          taskDefinition: outcome.taskDefinition,
          networkConfiguration: outcome.networkConfiguration,
          deployments: outcome.deployments,
          berth: { ...service.berth, steady: false, ...(target ? { lastCompleted: undefined } : {}) },
        };
        tx.putJson(keys.service(ref.cluster, ref.service), next);
        const stopped: ServiceDeploymentRecord = { ...record, stop: { at: nowMs / 1000, type, ...(target ? { to: target.id! } : {}) } };
        tx.putJson(key, stopped);
      });
      return { serviceDeploymentArn: input.serviceDeploymentArn! };
    },
  };
}
