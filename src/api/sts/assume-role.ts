import { ServiceError } from '../../model/errors.js';
import { iamKeys } from '../../state/iam-keys.js';
import { parseIamRole } from '../../state/records/iam.js';
import { readRecord } from '../../store/transact.js';
import type { AssumedRolePrincipal } from '../auth/credentials.js';
import { checked } from '../iam/errors.js';
import { iamArn, parseRoleArn } from '../iam/ids.js';
import { evaluateTrust, parsePolicyDocument } from '../iam/policy-engine.js';
import type { StsEnv } from './env.js';
import type { TemporaryCredentials } from './session-tokens.js';

/** Who asks to assume a role: a principal of the account (AssumeRole), or a service (ECS for a task's roles). */
export type Assumer = Parameters<typeof evaluateTrust>[0];

/**
 * Temporary credentials of `roleArn` for `assumer`, if the role exists in this account and its trust policy
 * allows `assumer` sts:AssumeRole; undefined otherwise (the caller words the refusal: STS gives no hint which).
 */
export async function assumeRole(
  env: StsEnv,
  request: { readonly roleArn: string; readonly assumer: Assumer; readonly sessionName: string; readonly durationSeconds: (role: { maxSessionDuration: number }) => number },
): Promise<{ credentials: TemporaryCredentials; principal: AssumedRolePrincipal } | undefined> {
  const parts = parseRoleArn(request.roleArn);
  if (!parts || parts.account !== env.accountId) return undefined;
  const role = await readRecord(env.store, parseIamRole, iamKeys.role(parts.name));
  if (!role || role.name !== parts.name || role.path !== parts.path) return undefined;
  const trust = checked(() => parsePolicyDocument(role.trustPolicy, 'trust'));
  if (!evaluateTrust(request.assumer, 'sts:AssumeRole', trust)) return undefined;
  const duration = request.durationSeconds(role);
  const principal: AssumedRolePrincipal = {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${env.accountId}:assumed-role/${role.name}/${request.sessionName}`,
    accountId: env.accountId,
    roleArn: iamArn(env.accountId, 'role', role.path, role.name),
    roleName: role.name,
    roleId: role.id,
    sessionName: request.sessionName,
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
      if (!assumed) {
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
