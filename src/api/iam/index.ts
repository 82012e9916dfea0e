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
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamGroup, parseIamRole, parseIamUser } from '../../state/records/iam.js';
import { readRecord } from '../../store/transact.js';
import { iamActionsWithPaths, type EntityLookup } from './iam-actions.js';

/** Each kind's parse, seen as what the lookup needs of any entity. */
const PARSE: Readonly<Record<'user' | 'group' | 'role', (value: string, key: string) => { name: string; path: string }>> = {
  user: parseIamUser,
  group: parseIamGroup,
  role: parseIamRole,
};

/** An entity's stored name and path, for the authorization step (a user at /team/ is `user/team/<name>`). */
const entityLookup =
  (env: IamEnv): EntityLookup =>
  async (kind, name) =>
    readRecord(env.store, PARSE[kind], iamKeys[kind](name));

/**
 * AWS Identity and Access Management over the Query protocol: every action berth answers, by name. Actions in the
 * model but not here (login profiles, MFA, SAML/OIDC providers, certificates, …) answer UnsupportedFeatureException.
 */
export function iamService(env: IamEnv): QueryService {
  return {
    signingName: 'iam',
    model: loadServiceModel('iam-2010-05-08.json'),
    actions: iamActionsWithPaths(entityLookup(env)),
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
