import { ServiceError } from '../../model/errors.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamRole } from '../../state/records/iam.js';
import { readRecord } from '../../store/transact.js';
import type { AssumedRolePrincipal, Principal } from '../auth/credentials.js';
import type { IamEnv } from '../iam/env.js';
import { checked } from '../iam/errors.js';
import { iamArn, parseRoleArn } from '../iam/ids.js';
import { evaluateTrust, parsePolicyDocument } from '../iam/policy-engine.js';
import type { QueryService } from '../protocol/query-rpc.js';
import { loadServiceModel } from '../protocol/service-model.js';
import type { SessionTokens, TemporaryCredentials } from './session-tokens.js';
import { stsActions } from './iam-actions.js';

export interface StsEnv extends IamEnv {
  readonly sessions: SessionTokens;
}

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

      async AssumeRole(input: { RoleArn: string; RoleSessionName: string; DurationSeconds?: number; Policy?: string }, call) {
        const caller = call.principal;
        if (caller.type === 'Root') throw new ServiceError('AccessDenied', 'Roles may not be assumed by root accounts.');
        const denied = () => new ServiceError('AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`);
        // A role that does not exist is refused like one that does not trust the caller, as STS does: no probing.
        const parts = parseRoleArn(input.RoleArn);
        if (!parts || parts.account !== env.accountId) throw denied();
        const role = await readRecord(env.store, parseIamRole, iamKeys.role(parts.name));
        if (!role || role.name !== parts.name || role.path !== parts.path) throw denied();
        const trust = checked(() => parsePolicyDocument(role.trustPolicy, 'trust'));
        const trusted = evaluateTrust(
          { kind: 'AWS', arn: caller.arn, accountId: caller.accountId, ...(caller.type === 'AssumedRole' ? { roleArn: caller.roleArn } : {}) },
          'sts:AssumeRole',
          trust,
        );
        if (!trusted) throw denied();
        // A session policy must be a valid document (it would narrow the session; authorization is not built yet).
        if (input.Policy !== undefined) checked(() => parsePolicyDocument(input.Policy!, 'identity'));
        const duration = input.DurationSeconds ?? 3600;
        if (caller.type === 'AssumedRole' && duration > CHAINED_MAX_SECONDS) {
          throw new ServiceError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
        }
        if (duration > role.maxSessionDuration) {
          throw new ServiceError('ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
        }
        const roleArn = iamArn(env.accountId, 'role', role.path, role.name);
        const principal: AssumedRolePrincipal = {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${env.accountId}:assumed-role/${role.name}/${input.RoleSessionName}`,
          accountId: env.accountId,
          roleArn,
          roleName: role.name,
          roleId: role.id,
          sessionName: input.RoleSessionName,
        };
        const credentials = env.sessions.issue(principal, duration);
        return {
          Credentials: credentialsShape(credentials),
          AssumedRoleUser: { AssumedRoleId: `${role.id}:${input.RoleSessionName}`, Arn: principal.arn },
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
