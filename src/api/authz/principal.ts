import type { AuthzPrincipal, PrincipalType } from '../../model/iam/index.js';
import type { Principal } from '../auth/credentials.js';

/** The root user of an account: `arn:aws:iam::<account>:root`. It is never evaluated (the root key pair is all-powerful). */
export const isRoot = (principal: Principal): boolean => principal.arn.endsWith(':root');

/**
 * The principal as policy evaluation sees it. Credential stores that know more (the IAM state: the user's id,
 * the principal's kind) put it on the principal; otherwise it is read from the ARN: `:user/[path/]name`,
 * `:assumed-role/role/session`, `:root`.
 */
export function authzPrincipalOf(principal: Principal & Partial<AuthzPrincipal>): AuthzPrincipal {
  const type: PrincipalType = principal.type ?? typeFromArn(principal.arn);
  const userName = principal.userName ?? (type === 'User' ? principal.arn.slice(principal.arn.lastIndexOf('/') + 1) : undefined);
  return {
    arn: principal.arn,
    accountId: principal.accountId,
    type,
    ...(userName !== undefined ? { userName } : {}),
    ...(principal.userId !== undefined ? { userId: principal.userId } : {}),
  };
}

function typeFromArn(arn: string): PrincipalType {
  if (arn.endsWith(':root')) return 'Root';
  if (arn.includes(':assumed-role/')) return 'AssumedRole';
  return 'User';
}
