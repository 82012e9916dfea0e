import type { QueryService } from '../api/protocol/query-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import type { ElbEnv } from './env.js';
import { elbActions } from './iam-actions.js';
import { listenerOperations } from './listeners.js';
import { loadBalancerOperations } from './load-balancers.js';
import { ruleOperations } from './rules.js';
import { tagOperations } from './tags.js';
import { targetGroupOperations } from './target-groups.js';
import { targetOperations } from './targets.js';

/**
 * Elastic Load Balancing v2 over the Query protocol (SigV4 service `elasticloadbalancing`): load balancers,
 * target groups and their targets, listeners, rules and tags — the control plane; `berth lb` serves the
 * listeners. Actions in the model but not here (trust stores, listener certificates and attributes, capacity
 * reservations, SetSubnets/SetSecurityGroups/SetIpAddressType, …) answer UnsupportedFeatureException.
 */
export function elbv2Service(env: ElbEnv): QueryService {
  return {
    signingName: 'elasticloadbalancing',
    model: loadServiceModel('elbv2-2015-12-01.json'),
    actions: elbActions,
    operations: {
      ...loadBalancerOperations(env),
      ...targetGroupOperations(env),
      ...targetOperations(env),
      ...listenerOperations(env),
      ...ruleOperations(env),
      ...tagOperations(env),
    },
  };
}
