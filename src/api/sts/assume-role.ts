import { ServiceError } from '../../model/errors.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamRole } from '../../state/records/iam.js';
import { readRecord } from '../../store/transact.js';
import { accessDeniedMessage, trustMatch, type TrustPrincipal } from '../../model/iam/index.js';
import type { AssumedRolePrincipal, Principal, SessionPolicies } from '../auth/credentials.js';
import { checked } from '../iam/errors.js';
import { iamArn, parseRoleArn } from '../iam/ids.js';
import { parsePolicyDocument } from '../iam/policy-engine.js';
import type { StsEnv } from './env.js';
import type { TemporaryCredentials } from './session-tokens.js';

/** Who asks to assume a role: a principal of the account (AssumeRole), or a service (ECS for a task's roles). */
export type Assumer = TrustPrincipal;

/** Why a role was not assumed: its trust policy (or its absence), or the caller's own identity policies. */
export type AssumeRefusal = { readonly by: 'trust' } | { readonly by: 'identity'; readonly message: string };

/**
 * Temporary credentials of `roleArn` for `assumer`, if the role exists in this account and its trust policy
 * allows `assumer` sts:AssumeRole — and, when the trust policy names only the caller's account, the caller's
 * identity-based policies allow it too (IAM User Guide, "Cross-account policy evaluation logic": role trust
 * policies are the exception where naming the account delegates to the account's policies, even within it).
 * A refusal says which; STS words a trust refusal without saying whether the role exists.
 */
export async function assumeRole(
  env: StsEnv,
  request: {
    readonly roleArn: string;
    readonly assumer: Assumer;
    /** The caller as SigV4 found it (absent for a service): its identity policies decide an account-only trust. */
    readonly caller?: Principal;
    readonly sessionName: string;
    readonly durationSeconds: (role: { maxSessionDuration: number }) => number;
    readonly sessionPolicies?: SessionPolicies;
  },
): Promise<{ credentials: TemporaryCredentials; principal: AssumedRolePrincipal } | AssumeRefusal> {
  const trusted = { by: 'trust' } as const;
  const parts = parseRoleArn(request.roleArn);
  if (!parts || parts.account !== env.accountId) return trusted;
  const role = await readRecord(env.store, parseIamRole, iamKeys.role(parts.name));
  if (!role || role.name !== parts.name || role.path !== parts.path) return trusted;
  const trust = checked(() => parsePolicyDocument(role.trustPolicy, 'trust'));
  const match = trustMatch(request.assumer, 'sts:AssumeRole', trust, new Map([['sts:RoleSessionName', request.sessionName]]));
  if (match === undefined) return trusted;
  const roleArn = iamArn(env.accountId, 'role', role.path, role.name);
  if (match === 'account') {
    if (!request.caller || !env.identityDecision) return trusted;
    const decision = await env.identityDecision(request.caller, 'sts:AssumeRole', [roleArn], new Map([['sts:RoleSessionName', request.sessionName]]));
    if (decision.effect !== 'Allow') return { by: 'identity', message: accessDeniedMessage(request.caller.arn, 'sts:AssumeRole', decision) };
  }
  const duration = request.durationSeconds(role);
  const principal: AssumedRolePrincipal = {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${env.accountId}:assumed-role/${role.name}/${request.sessionName}`,
    accountId: env.accountId,
    roleArn,
    roleName: role.name,
    roleId: role.id,
    sessionName: request.sessionName,
    ...(request.sessionPolicies ? { sessionPolicies: request.sessionPolicies } : {}),
  };
  return { credentials: env.sessions.issue(principal, duration), principal };
}

/** How long a task's role credentials last: the role's maximum session, at most 6 hours (they are renewed at half). */
const TASK_SESSION_MAX_SECONDS = 6 * 3600;

/**
 * Credentials of a task's role, as ECS gets them: assumed by the service principal `ecs-tasks.amazonaws.com`
 * (which the role's trust policy must allow), the session named after the task's id. Shaped as the agent
 * gateway's TaskRoleIssuer wants them.
 */
export function taskRoleIssuer(env: StsEnv) {
  return {
    async issue({ roleArn, taskArn }: { roleArn: string; taskArn: string }) {
      const assumed = await assumeRole(env, {
        roleArn,
        assumer: { kind: 'Service', service: 'ecs-tasks.amazonaws.com' },
        sessionName: taskArn.split('/').at(-1)!,
        durationSeconds: (role) => Math.min(role.maxSessionDuration, TASK_SESSION_MAX_SECONDS),
      });
      if (!('credentials' in assumed)) {
        throw new ServiceError(
          'AccessDenied',
          `ECS was unable to assume the role '${roleArn}' that was provided for this task. Please verify that the role being passed has the proper trust relationship and permissions and that your IAM user has permissions to pass this role.`,
        );
      }
      const c = assumed.credentials;
      return { roleArn, accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration * 1000).toISOString() };
    },
  };
}
