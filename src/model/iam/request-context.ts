/**
 * The request context conditions and policy variables read: what the caller puts in `AuthzRequest.context`
 * (aws:SourceIp, aws:SecureTransport, aws:RequestTag/…, aws:ResourceTag/…, aws:TagKeys, ecs:cluster,
 * iam:PassedToService, any service key) plus the keys IAM derives from the principal and the clock
 * (aws:username, aws:userid, aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:CurrentTime,
 * aws:EpochTime) when the caller did not set them. Key names are case-insensitive, values are not.
 */
import type { ContextLookup } from './policy-variables.js';

export const principalTypes = ['Root', 'User', 'AssumedRole'] as const;
export type PrincipalType = (typeof principalTypes)[number];

/** Who is calling. */
export interface AuthzPrincipal {
  readonly arn: string;
  readonly accountId: string;
  readonly type: PrincipalType;
  /** IAM users only: the user's name (aws:username). */
  readonly userName?: string;
  /** The unique id (AIDA… for users, AROA…:session for role sessions, the account id for root): aws:userid. */
  readonly userId?: string;
}

/** One authorization question: may `principal` perform `action` on every one of `resources`? */
export interface AuthzRequest {
  readonly principal: AuthzPrincipal;
  /** `service:Operation`, e.g. `ecs:RunTask`. */
  readonly action: string;
  /** Every resource must be allowed; none means the action has no resource (`*`). */
  readonly resources: readonly string[];
  readonly context: ReadonlyMap<string, string | readonly string[]>;
  /** Epoch milliseconds for aws:CurrentTime and aws:EpochTime; the wall clock when absent. */
  readonly now?: number;
}

/** aws:PrincipalType as IAM names it (root is an "Account"). */
const PRINCIPAL_TYPE: Readonly<Record<PrincipalType, string>> = { Root: 'Account', User: 'User', AssumedRole: 'AssumedRole' };

/**
 * A lookup over the request. Cheap to make and lazy, because most evaluations read few keys or none: the
 * caller's context is indexed by lower-cased key on the first read, and the clock keys are formatted only when a
 * condition reads them.
 */
export function contextLookup(request: AuthzRequest): ContextLookup {
  let keys: Map<string, string | readonly string[]> | undefined;
  let currentTime: string | undefined;
  const { principal } = request;
  const now = () => request.now ?? Date.now();
  return (key) => {
    if (!keys) {
      keys = new Map();
      for (const [k, v] of request.context) keys.set(k.toLowerCase(), v);
    }
    const lower = key.toLowerCase();
    const given = keys.get(lower);
    if (given !== undefined) return given;
    switch (lower) {
      case 'aws:principalarn':
        return principal.arn;
      case 'aws:principalaccount':
        return principal.accountId;
      case 'aws:principaltype':
        return PRINCIPAL_TYPE[principal.type];
      case 'aws:username':
        return principal.type === 'User' ? principal.userName : undefined;
      case 'aws:userid':
        return principal.userId ?? (principal.type === 'Root' ? principal.accountId : undefined);
      case 'aws:currenttime':
        return (currentTime ??= new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z'));
      case 'aws:epochtime':
        return String(Math.floor(now() / 1000));
      default:
        return undefined;
    }
  };
}
