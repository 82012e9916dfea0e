import type { QueryService } from '../protocol/query-rpc.js';
import { loadServiceModel } from '../protocol/service-model.js';
import { accessKeyOperations } from './access-keys.js';
import { attachmentOperations } from './attachments.js';
import type { IamEnv } from './env.js';
import { groupOperations } from './groups.js';
import { inlinePolicyOperations } from './inline-policies.js';
import { managedPolicyOperations } from './managed-policies.js';
import { roleOperations } from './roles.js';
import { userOperations } from './users.js';
import { iamActions } from './iam-actions.js';

/**
 * AWS Identity and Access Management over the Query protocol: every action berth answers, by name. Actions in the
 * model but not here (login profiles, MFA, SAML/OIDC providers, certificates, …) answer UnsupportedFeatureException.
 */
export function iamService(env: IamEnv): QueryService {
  return {
    signingName: 'iam',
    model: loadServiceModel('iam-2010-05-08.json'),
    actions: iamActions,
    operations: {
      ...userOperations(env),
      ...accessKeyOperations(env),
      ...groupOperations(env),
      ...roleOperations(env),
      ...inlinePolicyOperations(env),
      ...managedPolicyOperations(env),
      ...attachmentOperations(env),
    },
  };
}
