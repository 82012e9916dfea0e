import { loadServiceModel } from '../protocol/service-model.js';
import type { JsonService } from '../protocol/json-rpc.js';
import { accountSettingOperations } from './account-settings.js';
import { attributeOperations } from './attributes.js';
import { clusterOperations } from './clusters.js';
import { containerInstanceOperations } from './container-instances.js';
import type { EcsEnv } from './env.js';
import { serviceOperations } from './services.js';
import { stateChangeOperations } from './state-changes.js';
import { tagOperations } from './tags.js';
import { taskDefinitionOperations } from './task-definitions.js';
import { taskOperations } from './tasks.js';
import { taskProtectionOperations } from './task-protection.js';
import { taskSetOperations } from './task-sets.js';

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113';

/** The Amazon ECS API: every implemented action, by name. Actions in the model but not here answer UnsupportedFeatureException. */
export function ecsService(env: EcsEnv): JsonService {
  return {
    targetPrefix: ECS_TARGET_PREFIX,
    signingNames: ['ecs'],
    model: loadServiceModel('ecs-2014-11-13.json'),
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
      ...taskProtectionOperations(env),
      ...taskSetOperations(env),
    },
  };
}
