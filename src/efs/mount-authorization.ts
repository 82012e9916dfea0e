/**
 * ResolveMount's authorization of a task's mount (`authorizationConfig.iam`), decided in the control plane and
 * enforced by the agent (agent/efs-mounts.ts: no mount, a read-only mount, root squashed): with IAM the client is
 * the task's role (the task definition's taskRoleArn, or the task's override), judged by the file system policy
 * and the role's identity policies; without it the client is anonymous to the file system policy. The rules are
 * client-access.ts's; this file reads what they need from the store.
 */
import type { IdentityDecision } from '../api/sts/env.js';
import type { AssumedRolePrincipal } from '../api/auth/credentials.js';
import { parseArn, roleArn as fullRoleArn, type ArnScope } from '../model/arn.js';
import { ServiceError } from '../model/errors.js';
import { parsePolicyDocument, type CompiledPolicy, type Decision } from '../model/iam/index.js';
import { iamKeys } from '../state/iam-keys.js';
import { keys } from '../state/keys.js';
import type { AccessPointRecord, FileSystemRecord } from '../state/records/efs.js';
import { parseIamRole } from '../state/records/iam.js';
import { parseTaskDefinitionRecord } from '../state/records/task-definitions.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import type { Store } from '../store/store.js';
import { readRecord } from '../store/transact.js';
import { clientAccess, clientActions, clientContext, type ClientAccess, type ClientAction } from './client-access.js';
import { efsErrors } from './errors.js';
import { accessPointArn } from './ids.js';

export interface MountAuthorizationEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** The identity policies' decision for a principal (the server's authorizer); without it roles are allowed nothing. */
  readonly identityDecision?: IdentityDecision;
}

export interface MountRequest {
  readonly fs: FileSystemRecord;
  readonly accessPoint?: AccessPointRecord;
  /** The task mounting (needed with IAM: its role is the client). */
  readonly taskArn?: string;
  readonly iam: boolean;
  readonly transitEncryption: boolean;
}

/** What the client may do; a refused mount throws AccessDeniedException naming the client and the action. */
export async function authorizeMount(env: MountAuthorizationEnv, request: MountRequest): Promise<ClientAccess> {
  const { fs } = request;
  const context = clientContext(request.transitEncryption, request.accessPoint ? accessPointArn(env.scope, request.accessPoint.id) : undefined);
  const policy = fs.policy === undefined ? undefined : compiledPolicy(fs.policy, fs.id);
  if (!request.iam) {
    const access = clientAccess({ fileSystemArn: fs.arn, ...(policy ? { policy } : {}), context });
    if (!access.mount) throw refused(fs.id, 'an anonymous client (authorizationConfig.iam is not ENABLED)');
    return access;
  }
  const principal = await taskRolePrincipal(env, request.taskArn);
  const decisions = new Map<ClientAction, Decision>();
  for (const action of clientActions) {
    decisions.set(action, env.identityDecision ? await env.identityDecision(principal, action, [fs.arn], context) : { effect: 'ImplicitDeny' });
  }
  const access = clientAccess({
    fileSystemArn: fs.arn,
    ...(policy ? { policy } : {}),
    principal: { kind: 'AWS', arn: principal.arn, accountId: principal.accountId, roleArn: principal.roleArn },
    identity: (action) => decisions.get(action)!,
    context,
  });
  if (!access.mount) throw refused(fs.id, `task role ${principal.roleArn}`);
  return access;
}

function refused(fsId: string, who: string): ServiceError {
  return new ServiceError(
    'AccessDeniedException',
    `access denied by server while mounting ${fsId}: neither the file system policy nor the identity policies allow ${who} elasticfilesystem:ClientMount`,
  );
}

function compiledPolicy(text: string, fsId: string): CompiledPolicy {
  try {
    return parsePolicyDocument(text, 'resource');
  } catch (error) {
    throw efsErrors.badRequest(`The file system policy of '${fsId}' cannot be evaluated: ${(error as Error).message}`);
  }
}

/** The session of the task's role, as the task's containers hold it (session name: the task id). */
async function taskRolePrincipal(env: MountAuthorizationEnv, taskArn: string | undefined): Promise<AssumedRolePrincipal> {
  const parsed = taskArn === undefined ? undefined : parseArn(taskArn);
  const [cluster, taskId] = parsed?.resourceType === 'task' ? parsed.resource.split('/') : [];
  if (cluster === undefined || taskId === undefined) throw efsErrors.badRequest('TaskArn is required to mount with authorizationConfig.iam ENABLED.');
  const task = await readRecord(env.store, parseTaskRecord, keys.task(cluster, taskId));
  if (!task) throw efsErrors.badRequest(`Task '${taskArn}' does not exist.`);
  const [family, revision] = (task.task.taskDefinitionArn?.split('/')[1] ?? '').split(':');
  const td = family && revision ? await readRecord(env.store, parseTaskDefinitionRecord, keys.taskDefinition(family, Number(revision))) : undefined;
  const role = task.task.overrides?.taskRoleArn ?? td?.taskDefinition.taskRoleArn;
  if (!role) throw new ServiceError('AccessDeniedException', `authorizationConfig.iam is ENABLED but task ${taskId} has no task role (taskRoleArn) to mount with`);
  const arn = fullRoleArn(env.scope, role);
  const roleName = arn.slice(arn.lastIndexOf('/') + 1);
  const record = await readRecord(env.store, parseIamRole, iamKeys.role(roleName));
  if (!record) throw new ServiceError('AccessDeniedException', `the task role ${arn} does not exist`);
  return {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${env.scope.accountId}:assumed-role/${roleName}/${taskId}`,
    accountId: env.scope.accountId,
    roleArn: arn,
    roleName,
    roleId: record.id,
    sessionName: taskId,
  };
}
