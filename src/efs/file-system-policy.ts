/**
 * A file system policy as PutFileSystemPolicy checks it before storing it (EFS API reference, PutFileSystemPolicy;
 * EFS User Guide, "Resource-based policies within Amazon EFS"):
 * - the IAM grammar of a resource-based policy, with berth's IAM parser (model/iam `parsePolicyDocument`,
 *   `resource` kind): Version, a Statement list, Effect, Principal/NotPrincipal (`*`, AWS accounts, users, roles,
 *   sessions), Action/NotAction, Resource/NotResource, Condition operators; IAM's own message for what is wrong;
 * - what only a file system policy may say: actions of `elasticfilesystem` (EFS's own list; a wildcard must cover
 *   at least one), resources that are `*` or EFS ARNs;
 * - at most 20,000 characters (the model's `Policy` shape; the shape validator answers BadRequest before this runs);
 * - the lockout safety check: a policy that would keep the caller from its next PutFileSystemPolicy on this file
 *   system is refused unless BypassPolicyLockoutSafetyCheck is true.
 * Every refusal is EFS's InvalidPolicyException with a message naming the problem. Pure: the caller reads the
 * identity policies' decision.
 */
import type { Principal } from '../api/auth/credentials.js';
import { parsePolicyDocument, PolicyDocumentError, resourcePolicyMatch, type CompiledPolicy, type Decision } from '../model/iam/index.js';
import { compileGlob } from '../model/iam/wildcard.js';
import { efsErrors } from './errors.js';

/** EFS's actions (Service Authorization Reference, "Actions defined by Amazon Elastic File System"). */
export const EFS_POLICY_ACTIONS = [
  'Backup', 'ClientMount', 'ClientRootAccess', 'ClientWrite', 'CreateAccessPoint', 'CreateFileSystem', 'CreateMountTarget',
  'CreateReplicationConfiguration', 'CreateTags', 'DeleteAccessPoint', 'DeleteFileSystem', 'DeleteFileSystemPolicy',
  'DeleteMountTarget', 'DeleteReplicationConfiguration', 'DeleteTags', 'DescribeAccessPoints', 'DescribeAccountPreferences',
  'DescribeBackupPolicy', 'DescribeFileSystemPolicy', 'DescribeFileSystems', 'DescribeLifecycleConfiguration',
  'DescribeMountTargetSecurityGroups', 'DescribeMountTargets', 'DescribeReplicationConfigurations', 'DescribeTags',
  'ListTagsForResource', 'ModifyMountTargetSecurityGroups', 'PutAccountPreferences', 'PutBackupPolicy',
  'PutFileSystemPolicy', 'PutLifecycleConfiguration', 'ReplicationRead', 'ReplicationWrite', 'Restore', 'TagResource',
  'UntagResource', 'UpdateFileSystem', 'UpdateFileSystemProtection',
].map((a) => `elasticfilesystem:${a}`);

const KNOWN = new Set(EFS_POLICY_ACTIONS.map((a) => a.toLowerCase()));
const PUT_POLICY = 'elasticfilesystem:PutFileSystemPolicy';

const invalid = (message: string) => efsErrors.invalidPolicy(message);

/** The policy compiled as a resource policy, or InvalidPolicyException naming what EFS would refuse. */
export function parseFileSystemPolicy(text: string): CompiledPolicy {
  let policy: CompiledPolicy;
  try {
    policy = parsePolicyDocument(text, 'resource');
  } catch (error) {
    if (error instanceof PolicyDocumentError) throw invalid(`Policy is not a valid file system policy: ${error.message}`);
    throw error;
  }
  const raw = JSON.parse(text) as { Statement: unknown };
  const rawStatements = (Array.isArray(raw.Statement) ? raw.Statement : [raw.Statement]) as Record<string, unknown>[];
  policy.statements.forEach((s, i) => {
    const where = `Statement ${i + 1}${s.sid ? ` (${s.sid})` : ''}`;
    for (const action of s.exactActions) {
      if (!action.startsWith('elasticfilesystem:')) throw invalid(`${where}: action "${action}" is not an elasticfilesystem action; a file system policy can only grant or deny elasticfilesystem actions.`);
      if (!KNOWN.has(action)) throw invalid(`${where}: action "${action}" is not an elasticfilesystem action.`);
    }
    for (const [service, patterns] of s.actionPatternsByService) {
      if (service !== 'elasticfilesystem') throw invalid(`${where}: action "${patterns[0]!.source}" is not an elasticfilesystem action; a file system policy can only grant or deny elasticfilesystem actions.`);
      for (const p of patterns) {
        if (!EFS_POLICY_ACTIONS.some((a) => p.test(a.toLowerCase()))) throw invalid(`${where}: action "${p.source}" matches no elasticfilesystem action.`);
      }
    }
    const statement = rawStatements[i]!;
    const resources = statement.Resource ?? statement.NotResource;
    for (const r of resources === undefined ? [] : typeof resources === 'string' ? [resources] : (resources as string[])) {
      if (r !== '*' && !compileGlob(r.split(':')[2] ?? '', 'string').test('elasticfilesystem')) {
        throw invalid(`${where}: resource "${r}" is not an Amazon EFS resource; a file system policy's Resource must be "*" or an elasticfilesystem ARN.`);
      }
    }
  });
  return policy;
}

/**
 * Whether `policy` would lock `caller` out of PutFileSystemPolicy on the file system (EFS's lockout safety check):
 * a Deny of the policy that applies to it, an explicit deny of its identity policies, or neither the policy nor its
 * identity policies allowing it. berth's root key is never refused (authorization lets it do anything), so it cannot
 * be locked out. Conditions are evaluated with no request keys: a Deny that only holds under a condition
 * (`aws:SecureTransport` false) does not lock out.
 */
export function locksOutCaller(policy: CompiledPolicy, caller: Principal, fileSystemArn: string, identity: Decision | undefined): boolean {
  if (caller.type === 'Root') return false;
  const byPolicy = resourcePolicyMatch(policyPrincipal(caller), PUT_POLICY, fileSystemArn, policy);
  if (byPolicy === 'Deny' || identity?.effect === 'ExplicitDeny') return true;
  return byPolicy !== 'principal' && identity?.effect !== 'Allow';
}

/** The caller as a resource policy names it. */
function policyPrincipal(caller: Principal) {
  return { kind: 'AWS' as const, arn: caller.arn, accountId: caller.accountId, ...(caller.type === 'AssumedRole' ? { roleArn: caller.roleArn } : {}) };
}

/**
 * Whether the file system policy denies `caller` an API action on the file system (a Deny that applies wins over the
 * identity policies' Allow, as in EFS). berth's root key is never refused. Conditions see no request keys.
 */
export function fileSystemPolicyDenies(policy: CompiledPolicy, caller: Principal, action: string, fileSystemArn: string): boolean {
  return caller.type !== 'Root' && resourcePolicyMatch(policyPrincipal(caller), action, fileSystemArn, policy) === 'Deny';
}

/** PutFileSystemPolicy's check of a new policy (InvalidPolicyException when refused). */
export function checkNewFileSystemPolicy(
  text: string,
  request: { readonly caller: Principal; readonly fileSystemArn: string; readonly identity: Decision | undefined; readonly bypassLockoutCheck: boolean },
): void {
  const policy = parseFileSystemPolicy(text);
  if (!request.bypassLockoutCheck && locksOutCaller(policy, request.caller, request.fileSystemArn, request.identity)) {
    throw invalid(
      `The policy would lock ${request.caller.arn} out of elasticfilesystem:PutFileSystemPolicy on ${request.fileSystemArn}; ` +
        'set BypassPolicyLockoutSafetyCheck to true only if that is intended.',
    );
  }
}
