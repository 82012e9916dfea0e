import type { QueryService } from '../api/protocol/query-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import type { HostGroupEnv } from './env.js';
import { groupOperations } from './groups.js';
import { hostGroupActions } from './iam-actions.js';
import { instanceOperations } from './instances.js';
import { launchConfigurationOperations } from './launch-configurations.js';

/**
 * EC2 Auto Scaling over the Query protocol (SigV4 service `autoscaling`): host groups, berth's Auto Scaling
 * groups of hosts made by a provisioner (docs/capacity.md). Actions of the model not here (launch templates'
 * instance refresh, lifecycle hooks, warm pools, scaling policies, …) answer UnsupportedFeatureException.
 */
export function hostGroupsService(env: HostGroupEnv): QueryService {
  return {
    signingName: 'autoscaling',
    model: loadServiceModel('autoscaling-2011-01-01.json'),
    actions: hostGroupActions,
    operations: {
      ...launchConfigurationOperations(env),
      ...groupOperations(env),
      ...instanceOperations(env),
    },
  };
}
