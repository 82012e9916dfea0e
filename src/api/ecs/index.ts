import { loadServiceModel } from '../protocol/service-model.js';
import type { JsonService } from '../protocol/json-rpc.js';
import { accountSettingOperations } from './account-settings.js';
import { attributeOperations } from './attributes.js';
import { capacityProviderOperations } from './capacity-providers.js';
import { clusterOperations } from './clusters.js';
import { containerInstanceOperations } from './container-instances.js';
import type { EcsEnv } from './env.js';
import { notAvailableOperations } from './not-available.js';
import { executeCommandOperations } from './execute-command.js';
import { serviceDeploymentOperations } from './service-deployments.js';
import { serviceOperations } from './services.js';
import { stateChangeOperations } from './state-changes.js';
import { tagOperations } from './tags.js';
import { findTaskDefinition, taskDefinitionOperations } from './task-definitions.js';
import { taskOperations } from './tasks.js';
import { taskProtectionOperations } from './task-protection.js';
import { taskSetOperations } from './task-sets.js';
import { ecsActionsResolving } from './iam-actions.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

/**
 * The Amazon ECS API: every action berth answers, by name (docs/ecs-conformance.md says how fully; its test
 * keeps that table and this one in step). Actions in the model but not here answer UnsupportedFeatureException.
 */
export function ecsService(env: EcsEnv): JsonService {
  return {
    targetPrefix: ECS_TARGET_PREFIX,
    signingNames: ['ecs'],
    model: loadServiceModel('ecs-2014-11-13.json'),
    actions: ecsActionsResolving((family) => findTaskDefinition(env, family).then((record) => record?.taskDefinition.taskDefinitionArn)),
    operations: {
      ...clusterOperations(env),
      ...taskDefinitionOperations(env),
      ...tagOperations(env),
      ...accountSettingOperations(env),
      ...containerInstanceOperations(env),
      ...attributeOperations(env),
      ...taskOperations(env),
      ...stateChangeOperations(env),
      ...serviceOperations(env),
      ...serviceDeploymentOperations(env),
      ...capacityProviderOperations(env),
      ...notAvailableOperations(env),
      ...executeCommandOperations(env),
      ...taskProtectionOperations(env),
      ...taskSetOperations(env),
    },
  };
}
