import { loadServiceModel } from '../protocol/service-model.js';
import type { JsonService } from '../protocol/json-rpc.js';
import { authorizationOperations } from './authorization.js';
import type { EcrEnv } from './env.js';
import { imageOperations } from './images.js';
import { lifecycleOperations } from './lifecycle.js';
import { repositoryOperations } from './repositories.js';
import { tagOperations } from './tags.js';
import { ecrActions } from './iam-actions.js';

export const ECR_TARGET_PREFIX = 'AmazonEC2ContainerRegistry_V20150921';

/**
 * The Amazon ECR API over berth's registry. Actions in the model but not here (image scanning, layer
 * uploads through the API, replication, pull-through caches…) answer UnsupportedFeatureException.
 */
export function ecrService(env: EcrEnv): JsonService {
  return {
    targetPrefix: ECR_TARGET_PREFIX,
    signingNames: ['ecr'],
    model: loadServiceModel('ecr-2015-09-21.json'),
    actions: ecrActions,
    operations: {
      ...repositoryOperations(env),
      ...imageOperations(env),
      ...lifecycleOperations(env),
      ...authorizationOperations(env),
      ...tagOperations(env),
    },
  };
}
