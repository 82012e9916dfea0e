/**
 * Identity-based policy evaluation within one account, as the IAM User Guide's "Policy evaluation logic" page
 * describes it:
 *
 *   every statement of every policy that applies (action, resource and conditions all match)
 *        │
 *        ├── any applicable Deny  ──────────────► ExplicitDeny   (a Deny always wins)
 *        ├── else any applicable Allow ─────────► Allow
 *        └── else ──────────────────────────────► ImplicitDeny   (denied by default)
 *
 * A request naming several resources is allowed only when each one is; the decision names the statement that
 * decided (the first Deny found, or for an Allow the first Allow of the last resource) for tests and messages.
 * Order of statements and policies never changes the effect. A role session given session policies (AssumeRole's
 * Policy and PolicyArns) gets the intersection: `evaluateSession` allows only what both the role's policies and the
 * session policies allow, and a Deny in either wins. Permission boundaries, SCPs and resource-based policies other
 * than a role's trust policy (see trust.ts) are not part of berth.
 */
import type { CompiledPolicy, CompiledStatement } from './policy-document.js';
import type { Matcher } from './wildcard.js';
import type { ContextLookup } from './policy-variables.js';
import { contextLookup, type AuthzRequest } from './request-context.js';

export const decisionEffects = ['Allow', 'ExplicitDeny', 'ImplicitDeny'] as const;
export type DecisionEffect = (typeof decisionEffects)[number];

/** The statement that decided. */
export interface DecidingStatement {
  /** Index of the policy in the list given to {@link evaluate}. */
  readonly policyIndex: number;
  /** Index of the statement in that policy's Statement list. */
  readonly statementIndex: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
}

/** Which kind of policy decided a denial, as AWS names it in AccessDenied messages. */
export const deciderPolicyTypes = ['identity-based', 'session'] as const;
export type DeciderPolicyType = (typeof deciderPolicyTypes)[number];

export interface Decision {
  readonly effect: DecisionEffect;
  /** For a denial decided by a session policy: `session` (absent: identity-based). */
  readonly policyType?: DeciderPolicyType;
  /** Absent for an implicit deny. */
  readonly statement?: DecidingStatement;
  /** The resource refused (for a deny), for the AccessDenied message. */
  readonly resource?: string;
}

const anyMatches = (patterns: readonly Matcher[] | undefined, action: string): boolean => {
  if (!patterns) return false;
  for (let i = 0; i < patterns.length; i++) if (patterns[i]!.test(action)) return true;
  return false;
};

/** The service prefix of a (lower-cased) action, `ecs` of `ecs:runtask`; '' when it has none. */
export const actionService = (action: string): string => action.slice(0, Math.max(action.indexOf(':'), 0));

/**
 * Whether the statement's Action/NotAction covers the (lower-cased) action; `service` is {@link actionService} of
 * it, passed in by callers that test one action against many statements.
 */
export function statementCoversAction(s: CompiledStatement, action: string, service = actionService(action)): boolean {
  let hit = s.exactActions.has(action);
  if (!hit && service !== '' && s.actionPatternsByService.size > 0) hit = anyMatches(s.actionPatternsByService.get(service), action);
  if (!hit) hit = anyMatches(s.actionPatterns, action);
  return hit !== s.notAction;
}

/** Whether the statement's Resource/NotResource covers `resource`; a statement without either covers nothing. */
export function statementCoversResource(s: CompiledStatement, resource: string, lookup: ContextLookup): boolean {
  const resources = s.resources;
  if (!resources) return false;
  let hit = false;
  for (let i = 0; i < resources.length; i++) {
    // A pattern whose variable is missing from the request matches nothing.
    if (resources[i]!.matcher(lookup, 'arn')?.test(resource)) {
      hit = true;
      break;
    }
  }
  return hit !== s.notResource;
}

/** Whether every condition of the statement holds. */
export function conditionsHold(s: CompiledStatement, lookup: ContextLookup): boolean {
  const conditions = s.conditions;
  for (let i = 0; i < conditions.length; i++) if (!conditions[i]!.test(lookup)) return false;
  return true;
}

const decided = (policyIndex: number, s: CompiledStatement): DecidingStatement => ({
  policyIndex,
  statementIndex: s.index,
  ...(s.sid !== undefined ? { sid: s.sid } : {}),
  effect: s.effect,
});

/** Decides one identity-based request against every policy that applies to the principal. */
export function evaluate(request: AuthzRequest, policies: readonly CompiledPolicy[]): Decision {
  const action = request.action.toLowerCase();
  const service = actionService(action);
  const resources = request.resources.length === 0 ? ['*'] : request.resources;
  const lookup = contextLookup(request);
  let implicit: string | undefined;
  let allow: DecidingStatement | undefined;
  for (const resource of resources) {
    let allowedHere: DecidingStatement | undefined;
    for (let p = 0; p < policies.length; p++) {
      const statements = policies[p]!.statements;
      for (let i = 0; i < statements.length; i++) {
        const s = statements[i]!;
        // A Deny must still be looked for after an Allow; a second Allow adds nothing.
        if (s.effect === 'Allow' && allowedHere) continue;
        if (!statementCoversAction(s, action, service) || !statementCoversResource(s, resource, lookup) || !conditionsHold(s, lookup)) continue;
        if (s.effect === 'Deny') return { effect: 'ExplicitDeny', statement: decided(p, s), resource };
        allowedHere = decided(p, s);
      }
    }
    if (!allowedHere) implicit ??= resource;
    else allow = allowedHere;
  }
  if (implicit !== undefined) return { effect: 'ImplicitDeny', resource: implicit };
  return { effect: 'Allow', statement: allow! };
}

/**
 * A role session with session policies (IAM User Guide, "Session policies"): the effective permissions are the
 * intersection of the role's identity-based policies and the session policies. An explicit Deny in either wins;
 * then an action the role's policies do not allow is refused by them, one the session policies do not allow by
 * those (`policyType: 'session'`, so the message says "no session policy allows").
 */
export function evaluateSession(request: AuthzRequest, identity: readonly CompiledPolicy[], session: readonly CompiledPolicy[]): Decision {
  const byIdentity = evaluate(request, identity);
  if (byIdentity.effect === 'ExplicitDeny') return byIdentity;
  const bySession = evaluate(request, session);
  if (bySession.effect === 'ExplicitDeny') return { ...bySession, policyType: 'session' };
  if (byIdentity.effect !== 'Allow') return byIdentity;
  if (bySession.effect !== 'Allow') return { ...bySession, policyType: 'session' };
  return byIdentity;
}
