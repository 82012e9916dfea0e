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

/** A lookup over the request, built lazily: most statements have no condition, so most evaluations never need it. */
export function contextLookup(request: AuthzRequest): ContextLookup {
  let keys: Map<string, string | readonly string[]> | undefined;
  const build = () => {
    const { principal } = request;
    const m = new Map<string, string | readonly string[]>();
    m.set('aws:principalarn', principal.arn);
    m.set('aws:principalaccount', principal.accountId);
    m.set('aws:principaltype', PRINCIPAL_TYPE[principal.type]);
    if (principal.userName !== undefined && principal.type === 'User') m.set('aws:username', principal.userName);
    const userId = principal.userId ?? (principal.type === 'Root' ? principal.accountId : undefined);
    if (userId !== undefined) m.set('aws:userid', userId);
    const now = request.now ?? Date.now();
    m.set('aws:currenttime', new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'));
    m.set('aws:epochtime', String(Math.floor(now / 1000)));
    for (const [k, v] of request.context) m.set(k.toLowerCase(), v);
    return m;
  };
  return (key) => (keys ??= build()).get(key.toLowerCase());
}
