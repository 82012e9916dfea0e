import type { AuthzPrincipal, PrincipalType } from '../../model/iam/index.js';
import type { Principal, SessionPolicies } from '../auth/credentials.js';

/**
 * Who the authorization step evaluates: a principal from SigV4 (root, an IAM user, a role session), or one
 * carried in a registry token's signed claims (its type may be absent in tokens issued before it was kept).
 */
export type Caller = Principal | (Omit<AuthzPrincipal, 'type'> & { readonly type?: PrincipalType; readonly sessionPolicies?: SessionPolicies });

/** The root user of an account: `arn:aws:iam::<account>:root`. It is never evaluated (the root key pair is all-powerful). */
export const isRoot = (caller: Caller): boolean => caller.type === 'Root' || (caller.type === undefined && caller.arn.endsWith(':root'));

/**
 * The principal as policy evaluation sees it: aws:username for users, aws:userid (`AIDA…` for a user,
 * `<role id>:<session>` for a role session), aws:PrincipalType.
 */
export function authzPrincipalOf(caller: Caller): AuthzPrincipal {
  if (caller.type === 'AssumedRole' && 'roleId' in caller) {
    return { arn: caller.arn, accountId: caller.accountId, type: 'AssumedRole', userId: `${caller.roleId}:${caller.sessionName}` };
  }
  const type: PrincipalType = caller.type ?? typeFromArn(caller.arn);
  const userName = 'userName' in caller && caller.userName !== undefined ? caller.userName : type === 'User' ? caller.arn.slice(caller.arn.lastIndexOf('/') + 1) : undefined;
  const userId = 'userId' in caller ? caller.userId : undefined;
  return {
    arn: caller.arn,
    accountId: caller.accountId,
    type,
    ...(userName !== undefined ? { userName } : {}),
    ...(userId !== undefined ? { userId } : {}),
  };
}

function typeFromArn(arn: string): PrincipalType {
  if (arn.endsWith(':root')) return 'Root';
  if (arn.includes(':assumed-role/')) return 'AssumedRole';
  return 'User';
}
