import { ServiceError } from '../../model/errors.js';
import type { Principal } from '../auth/credentials.js';
import type { QueryService } from '../protocol/query-rpc.js';
import { assumeRole } from './assume-role.js';
import { loadServiceModel } from '../protocol/service-model.js';
import type { StsEnv } from './env.js';
import type { TemporaryCredentials } from './session-tokens.js';
import { stsActions } from './iam-actions.js';
import { sessionPoliciesOf, type SessionPolicyInput } from './session-policies.js';

export type { StsEnv } from './env.js';

/** STS caps sessions of a role assumed by a role session (role chaining) at one hour. */
const CHAINED_MAX_SECONDS = 3600;

/** The caller's user id as GetCallerIdentity shows it. */
function userIdOf(p: Principal): string {
  switch (p.type) {
    case 'Root':
      return p.accountId;
    case 'User':
      return p.userId;
    case 'AssumedRole':
      return `${p.roleId}:${p.sessionName}`;
  }
}

const credentialsShape = (c: TemporaryCredentials) => ({
  AccessKeyId: c.accessKeyId,
  SecretAccessKey: c.secretAccessKey,
  SessionToken: c.sessionToken,
  Expiration: c.expiration,
});

/** The AWS Security Token Service: GetCallerIdentity, AssumeRole, GetSessionToken. */
export function stsService(env: StsEnv): QueryService {
  return {
    signingName: 'sts',
    model: loadServiceModel('sts-2011-06-15.json'),
    actions: stsActions,
    operations: {
      async GetCallerIdentity(_input, call) {
        const p = call.principal;
        return { UserId: userIdOf(p), Account: p.accountId, Arn: p.arn };
      },

      async AssumeRole(input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number } & SessionPolicyInput, call) {
        const caller = call.principal;
        if (caller.type === 'Root') throw new ServiceError('AccessDenied', 'Roles may not be assumed by root accounts.');
        const denied = () => new ServiceError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
        // Session policies narrow the session: checked (document, ARNs, packed size) and carried in its token.
        const session = sessionPoliciesOf(input);
        const duration = input.DurationSeconds ?? 3600;
        if (caller.type === 'AssumedRole' && duration > CHAINED_MAX_SECONDS) {
          throw new ServiceError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
        }
        // A role that does not exist is refused like one that does not trust the caller, as STS does: no probing.
        const assumed = await assumeRole(env, {
          roleArn: input.RoleArn,
          assumer: { kind: 'AWS', arn: caller.arn, accountId: caller.accountId, ...(caller.type === 'AssumedRole' ? { roleArn: caller.roleArn } : {}) },
          caller,
          sessionName: input.RoleSessionName,
          ...(session ? { sessionPolicies: session.policies } : {}),
          durationSeconds: (role) => {
            if (duration > role.maxSessionDuration) {
              throw new ServiceError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
            }
            return duration;
          },
        });
        if (!('credentials' in assumed)) throw assumed.by === 'identity' ? new ServiceError('AccessDenied', assumed.message) : denied();
        const { credentials, principal } = assumed;
        return {
          Credentials: credentialsShape(credentials),
          AssumedRoleUser: { AssumedRoleId: `${principal.roleId}:${input.RoleSessionName}`, Arn: principal.arn },
          ...(session ? { PackedPolicySize: session.packedPercent } : {}),
        };
      },

      async GetSessionToken(input: { DurationSeconds?: number }, call) {
        const caller = call.principal;
        if (caller.type === 'AssumedRole') throw new ServiceError('AccessDenied', 'Cannot call GetSessionToken with session credentials');
        // The root user's sessions last an hour at most, as AWS's.
        const max = caller.type === 'Root' ? 3600 : 129_600;
        const duration = Math.min(input.DurationSeconds ?? 43_200, max);
        return { Credentials: credentialsShape(env.sessions.issue(caller, duration)) };
      },
    },
  };
}
