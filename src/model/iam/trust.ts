/**
 * A role's trust policy (its resource-based AssumeRolePolicyDocument), as AssumeRole checks it. A statement
 * applies when its action covers the request (`sts:AssumeRole`), its Principal names the caller (NotPrincipal:
 * does not name it) and its conditions hold; a Deny that applies wins, else an Allow that applies lets the caller
 * in. Principal entries, per the IAM User Guide's "AWS JSON policy elements: Principal":
 * - `"*"` or `{"AWS": "*"}`: anyone;
 * - an account (`"123456789012"` or `arn:aws:iam::123456789012:root`): any principal of that account. The trust
 *   policy then only delegates: the caller's own identity policies must also allow sts:AssumeRole (the API does
 *   that check with `evaluate`);
 * - a user or role ARN: that user, or any session of that role; an assumed-role session ARN: that session;
 * - `{"Service": "ecs-tasks.amazonaws.com"}`: that AWS service acting for the account.
 */
import { conditionsHold, statementCoversAction, statementCoversResource } from './evaluate.js';
import type { CompiledPolicy, CompiledPrincipals } from './policy-document.js';
import type { ContextLookup } from './policy-variables.js';

/** Who asks to assume the role. */
export type TrustPrincipal =
  | {
      readonly kind: 'AWS';
      /** The caller's ARN: a user, the account root, or an assumed-role session (`arn:aws:sts::…:assumed-role/R/s`). */
      readonly arn: string;
      readonly accountId: string;
      /** For a role session: the role's own ARN (with its path), which trust policies name. */
      readonly roleArn?: string;
    }
  | { readonly kind: 'Service'; readonly service: string }
  /** A caller who shows no identity (an EFS client mounting without IAM): only `"*"` names it. */
  | { readonly kind: 'Anonymous' };

const ROOT = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;

/**
 * How a trust policy let the caller in:
 * - `principal`: an Allow names the caller itself (its user, role or session ARN, a service, or `*`): within the
 *   account the trust policy alone grants sts:AssumeRole;
 * - `account`: the Allows that apply name only the caller's account, which delegates the decision to the account:
 *   the caller's identity-based policies must also allow sts:AssumeRole on the role (IAM User Guide, "Cross-account
 *   policy evaluation logic": role trust policies are the exception where naming the account is not enough).
 */
export const trustMatches = ['principal', 'account'] as const;
export type TrustMatch = (typeof trustMatches)[number];

/** Which way `p` names `who`, if it does (a principal entry wins over an account entry). */
function names(p: CompiledPrincipals, who: TrustPrincipal): TrustMatch | undefined {
  if (p.any) return 'principal';
  if (who.kind === 'Anonymous') return undefined;
  if (who.kind === 'Service') return p.service.some((s) => s.toLowerCase() === who.service.toLowerCase()) ? 'principal' : undefined;
  let match: TrustMatch | undefined;
  for (const entry of p.aws) {
    if (entry === who.arn || (who.roleArn !== undefined && entry === who.roleArn)) return 'principal';
    const account = /^\d{12}$/.test(entry) ? entry : ROOT.exec(entry)?.[1];
    if (account !== undefined && account === who.accountId) match = 'account';
  }
  return match;
}

function lookupFor(who: TrustPrincipal, context: ReadonlyMap<string, string | readonly string[]>): ContextLookup {
  const keys = new Map<string, string | readonly string[]>();
  if (who.kind === 'AWS') {
    keys.set('aws:principalarn', who.roleArn ?? who.arn);
    keys.set('aws:principalaccount', who.accountId);
  } else if (who.kind === 'Service') keys.set('aws:principalservicename', who.service);
  for (const [k, v] of context) keys.set(k.toLowerCase(), v);
  return (key) => keys.get(key.toLowerCase());
}

/**
 * Whether the trust policy lets `principal` perform `action` (e.g. `sts:AssumeRole`) on the role, and how
 * ({@link TrustMatch}); undefined when it does not. A NotPrincipal that excludes the caller matches as `principal`.
 */
export function trustMatch(
  principal: TrustPrincipal,
  action: string,
  trustPolicy: CompiledPolicy,
  context: ReadonlyMap<string, string | readonly string[]> = new Map(),
): TrustMatch | undefined {
  const decision = resourcePolicyMatch(principal, action, undefined, trustPolicy, context);
  return decision === 'Deny' ? undefined : decision;
}

/**
 * A resource-based policy's answer for `principal` performing `action` on `resource`: `Deny` when a Deny applies
 * (it wins), else how an Allow that applies names the caller ({@link TrustMatch}), else undefined (nothing applies).
 * A statement without Resource/NotResource (a trust policy's, or a file system policy's) covers the policy's own
 * resource; `resource` undefined checks no statement's Resource.
 */
export function resourcePolicyMatch(
  principal: TrustPrincipal,
  action: string,
  resource: string | undefined,
  policy: CompiledPolicy,
  context: ReadonlyMap<string, string | readonly string[]> = new Map(),
): TrustMatch | 'Deny' | undefined {
  const lowered = action.toLowerCase();
  const lookup = lookupFor(principal, context);
  let allowed: TrustMatch | undefined;
  for (const s of policy.statements) {
    if (!s.principals) continue;
    const named = names(s.principals, principal);
    // NotPrincipal: the statement applies to whoever it does not name.
    const applies: TrustMatch | undefined = s.notPrincipal ? (named === undefined ? 'principal' : undefined) : named;
    if (applies === undefined) continue;
    if (!statementCoversAction(s, lowered) || !conditionsHold(s, lookup)) continue;
    if (resource !== undefined && s.resources && !statementCoversResource(s, resource, lookup)) continue;
    if (s.effect === 'Deny') return 'Deny';
    if (allowed !== 'principal') allowed = applies;
  }
  return allowed;
}

/** Whether the trust policy lets `principal` perform `action` on the role at all (see {@link trustMatch} for how). */
export function evaluateTrust(
  principal: TrustPrincipal,
  action: string,
  trustPolicy: CompiledPolicy,
  context: ReadonlyMap<string, string | readonly string[]> = new Map(),
): boolean {
  return trustMatch(principal, action, trustPolicy, context) !== undefined;
}
