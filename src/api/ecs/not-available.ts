import type {
  ContinueServiceDeploymentRequest,
  UpdateContainerAgentRequest,
} from '@aws-sdk/client-ecs';
import { clientError, invalidParameter, ServiceError } from '../../model/errors.js';
import { keys } from '../../state/keys.js';
import { parseInstanceRecord } from '../../state/records/instances.js';
import { readRecord } from '../../store/transact.js';
import { activeCluster } from './clusters.js';
import { instanceIdOf } from './container-instances.js';
import type { EcsEnv } from './env.js';
import { findServiceDeployment } from './service-deployments.js';

/**
 * The actions whose feature needs a part berth does not have (yet): each answers what ECS answers where that
 * part is missing, after checking what berth can check (the cluster, the task, the instance). These are the
 * actions docs/ecs-conformance.md lists as not implemented (its test reads this table), with the issue that
 * builds each part.
 */

/** ECS Managed Daemons run only on Managed Instances capacity providers, which berth does not have. */
const DAEMONS = 'ECS Managed Daemons is only supported for Amazon ECS Managed Instances capacity providers, which are not available in this Region.';
/** Express Mode services are compositions of load balancers and auto scaling, which berth does not have yet. */
const EXPRESS = 'Amazon ECS Express Mode services are not available in this Region.';

const unsupported = (message: string) => () => Promise.reject(new ServiceError('UnsupportedFeatureException', message));

/** The daemon and Express Mode actions whose model lists UnsupportedFeatureException. */
export const regionUnsupportedActions = [
  'CreateDaemon',
  'UpdateDaemon',
  'DeleteDaemon',
  'DescribeDaemon',
  'ListDaemons',
  'DescribeDaemonDeployments',
  'ListDaemonDeployments',
  'DescribeDaemonRevisions',
  'CreateExpressGatewayService',
  'UpdateExpressGatewayService',
  'DeleteExpressGatewayService',
  'DescribeExpressGatewayService',
] as const;

export function notAvailableOperations(env: EcsEnv) {
  const byRegion = Object.fromEntries(
    regionUnsupportedActions.map((action) => [action, unsupported(action.includes('Express') ? EXPRESS : DAEMONS)]),
  ) as Record<(typeof regionUnsupportedActions)[number], () => Promise<never>>;

  return {
    ...byRegion,

    // The daemon task-definition actions do not list UnsupportedFeatureException: no daemon task definition
    // can exist, so there is none to list, describe or delete, and registering one is refused.
    async ListDaemonTaskDefinitions() {
      return { daemonTaskDefinitions: [] };
    },
    async DescribeDaemonTaskDefinition() {
      throw clientError('Unable to describe daemon task definition.');
    },
    async DeleteDaemonTaskDefinition() {
      throw clientError('The specified daemon task definition does not exist.');
    },
    async RegisterDaemonTaskDefinition() {
      throw clientError(DAEMONS);
    },

    /**
     * berth's agent is updated with berth itself (a new package on the host), not through ECS's agent update
     * path: a berth agent has no update to take. An instance that never said its version cannot be updated.
     */
    async UpdateContainerAgent(input: UpdateContainerAgentRequest) {
      const cluster = (await activeCluster(env, input.cluster)).clusterName;
      const id = instanceIdOf(env, cluster, input.containerInstance!);
      const record = id ? await readRecord(env.store, parseInstanceRecord, keys.containerInstance(cluster, id)) : undefined;
      if (!record || record.instance.status === 'INACTIVE') {
        throw invalidParameter(`The container instance ${input.containerInstance} does not exist in cluster ${cluster}.`);
      }
      if (!record.instance.versionInfo?.agentVersion) {
        throw new ServiceError('MissingVersionException', 'The container instance did not report its agent version, so it cannot be updated.');
      }
      throw new ServiceError(
        'NoUpdateAvailableException',
        `There is no update available for the agent (version ${record.instance.versionInfo.agentVersion}) on this container instance.`,
      );
    },

    /** berth refuses lifecycle hooks (CreateService/UpdateService), so no deployment ever waits at one. */
    async ContinueServiceDeployment(input: ContinueServiceDeploymentRequest) {
      if (!(await findServiceDeployment(env, input.serviceDeploymentArn!))) {
        throw new ServiceError('ServiceDeploymentNotFoundException', 'The service deployment does not exist. Use ListServiceDeployments to find its ARN.');
      }
      throw invalidParameter(`hookId: the service deployment is not paused at lifecycle hook '${input.hookId}'.`);
    },

  };
}
