/**
 * The authorization step of the request pipeline: after SigV4 and input validation, before the operation.
 *
 *   principal is root ─────────────────────────────► allowed (the root key pair stays all-powerful)
 *   else policies (cached per principal) + the operation's declaration (action, resources, request keys)
 *        + the keys every request gets (aws:SourceIp, aws:SecureTransport; the engine adds the principal's
 *          and the clock's) ─► evaluate ─► Allow ─► each role the request passes: iam:PassRole with
 *                                  │                 iam:PassedToService ─► Allow ─► the operation runs
 *                                  └─ ExplicitDeny / ImplicitDeny ─► AccessDenied, nothing changed
 *   a role session given session policies (AssumeRole's Policy/PolicyArns, carried in its token) is evaluated
 *   against the intersection of its role's policies and them (model/iam evaluateSession)
 *
 * Cached policies make the step synchronous: `authorize` returns undefined when it allowed at once and a
 * promise only when the principal's policies had to be read, so an authorized call costs no extra promise.
 * The IAM state calls `invalidate` whenever what applies to a principal changes; entries also expire after
 * `maxAgeMs` as a safety net for a change another replica made that this one was not told of.
 */
import type { ArnScope } from '../../model/arn.js';
import { ServiceError } from '../../model/errors.js';
import {
  accessDeniedMessage,
  evaluate,
  evaluateSession,
  parsePolicyDocument,
  type AuthzPrincipal,
  type AuthzRequest,
  type CompiledPolicy,
  type Decision,
} from '../../model/iam/index.js';
import type { SessionPolicies } from '../auth/credentials.js';
import type { ActionDeclaration, ActionTable, RequestContext } from './declarations.js';
import type { PolicySource } from './policy-source.js';
import { policiesReadResourceTags, withResourceTags, type ResourceTagLookup } from './resource-tags.js';
import { authzPrincipalOf, isRoot, type Caller } from './principal.js';

/** One request to authorize. */
export interface AuthorizeRequest {
  readonly principal: Caller;
  readonly declaration: ActionDeclaration;
  /** The operation's input, already checked against its shape. */
  readonly input: unknown;
  /** The peer's address (aws:SourceIp). */
  readonly sourceIp: string | undefined;
  /** Whether the request came over TLS (aws:SecureTransport). */
  readonly secureTransport: boolean;
}

/** How a refusal is thrown: each front end has its own error (AccessDeniedException, the OCI DENIED). */
export type Refusal = (message: string) => Error;

export const accessDeniedException: Refusal = (message) => new ServiceError('AccessDeniedException', message);

export interface AuthorizerOptions {
  readonly policies: PolicySource;
  readonly scope: ArnScope;
  /** Epoch milliseconds (aws:CurrentTime, cache ages). Default Date.now. */
  readonly now?: () => number;
  /** The longest a principal's cached policies are used without being read again (default 60 s). */
  readonly maxAgeMs?: number;
  /** Resources' tags (aws:ResourceTag/…), read only for principals whose policies could read them. */
  readonly resourceTags?: ResourceTagLookup;
}

interface Entry {
  readonly principal: AuthzPrincipal;
  readonly policies: readonly CompiledPolicy[];
  /** A role session's session policies, when it was given any. */
  readonly session?: readonly CompiledPolicy[];
  /** Whether a policy could read aws:ResourceTag/… (then each request reads its resources' tags first). */
  readonly readsResourceTags: boolean;
  readonly loadedAt: number;
}

const sessionPoliciesOf = (caller: Caller): SessionPolicies | undefined => ('sessionPolicies' in caller ? caller.sessionPolicies : undefined);

/**
 * What a caller's cached policies are kept under: its ARN, and for a session with session policies those too
 * (two sessions may share an ARN — same role, same session name — and differ in their session policies).
 */
function cacheKeyOf(caller: Caller): string {
  const session = sessionPoliciesOf(caller);
  return session ? `${caller.arn}\n${session.document ?? ''}\n${(session.arns ?? []).join('\n')}` : caller.arn;
}

const PASS_ROLE = 'iam:PassRole';
/** A role's ARN (`arn:aws:iam::<account>:role<path><name>`): its account and name, which its sessions' ARNs carry. */
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[^/]+\/)*([^/]+)$/;

export class Authorizer {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Entry>>();
  /** Bumped by every invalidation: a read begun before one is not cached after it. */
  private generation = 0;
  private readonly now: () => number;
  private readonly maxAgeMs: number;

  constructor(private readonly options: AuthorizerOptions) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
  }

  /**
   * Allow or refuse `request`. Returns undefined when allowed at once, throws `refuse(message)` when denied at
   * once, and returns a promise (settling the same way) when the principal's policies had to be read first.
   */
  authorize(request: AuthorizeRequest, refuse: Refusal = accessDeniedException): Promise<void> | undefined {
    if (isRoot(request.principal) || request.declaration.unchecked) return undefined;
    const now = this.now();
    const entry = this.entries.get(cacheKeyOf(request.principal));
    if (entry && now - entry.loadedAt < this.maxAgeMs) return this.withEntry(entry, request, refuse, now);
    return this.load(request.principal).then((loaded) => this.withEntry(loaded, request, refuse, this.now()));
  }

  /** The resources (read from the store when the declaration says so), then their tags if a policy reads them. */
  private withEntry(entry: Entry, request: AuthorizeRequest, refuse: Refusal, now: number): Promise<void> | undefined {
    const { declaration, input } = request;
    const { scope } = this.options;
    if (declaration.resolveResources) {
      return declaration.resolveResources(input, scope, entry.principal).then((resources) => this.withResources(entry, request, refuse, now, resources));
    }
    return this.withResources(entry, request, refuse, now, declaration.resources(input, scope, entry.principal));
  }

  private withResources(entry: Entry, request: AuthorizeRequest, refuse: Refusal, now: number, resources: readonly string[]): Promise<void> | undefined {
    const lookup = this.options.resourceTags;
    if (entry.readsResourceTags && lookup && resources.length > 0) {
      return Promise.all(resources.map((arn) => lookup(arn))).then((tags) => this.decide(entry, request, refuse, now, resources, tags));
    }
    this.decide(entry, request, refuse, now, resources);
    return undefined;
  }

  /**
   * The invalidation hook the IAM state calls when what applies to a principal changed. A user's or a role
   * session's ARN drops that principal; a role's ARN drops every session of that role; anything else (a group, a
   * managed policy) or nothing drops every principal, since members of a group are not known here.
   */
  invalidate(arn?: string): void {
    this.generation++;
    const role = arn === undefined ? null : ROLE_ARN.exec(arn);
    if (role) {
      this.drop((key) => key.startsWith(`arn:aws:sts::${role[1]}:assumed-role/${role[2]}/`));
      return;
    }
    if (arn !== undefined && (arn.includes(':user/') || arn.includes(':assumed-role/'))) {
      const sessions = `${arn}\n`;
      this.drop((key) => key === arn || key.startsWith(sessions));
      return;
    }
    this.entries.clear();
    this.loading.clear();
  }

  private drop(matches: (key: string) => boolean): void {
    for (const map of [this.entries, this.loading]) {
      for (const key of map.keys()) if (matches(key)) map.delete(key);
    }
  }

  /**
   * The decision on one action for `principal`, with its cached policies (and session policies): STS's
   * AssumeRole asks it of the caller's identity policies when the role's trust policy names only the account.
   */
  async decision(principal: Caller, action: string, resources: readonly string[], context: RequestContext = new Map()): Promise<Decision> {
    if (isRoot(principal)) return { effect: 'Allow' };
    const cached = this.entries.get(cacheKeyOf(principal));
    const entry = cached && this.now() - cached.loadedAt < this.maxAgeMs ? cached : await this.load(principal);
    return this.judge(entry, { principal: entry.principal, action, resources, context, now: this.now() });
  }

  private judge(entry: Entry, request: AuthzRequest): Decision {
    return entry.session ? evaluateSession(request, entry.policies, entry.session) : evaluate(request, entry.policies);
  }

  private load(principal: Caller): Promise<Entry> {
    const key = cacheKeyOf(principal);
    const inFlight = this.loading.get(key);
    if (inFlight) return inFlight;
    const generation = this.generation;
    const subject = authzPrincipalOf(principal);
    const read = Promise.all([this.options.policies.policiesFor(subject), this.sessionPolicies(sessionPoliciesOf(principal))]).then(
      ([policies, session]) => {
        const readsResourceTags = policiesReadResourceTags(policies) || (session !== undefined && policiesReadResourceTags(session));
        const entry: Entry = { principal: subject, policies, ...(session ? { session } : {}), readsResourceTags, loadedAt: this.now() };
        if (generation === this.generation) {
          this.entries.set(key, entry);
          this.loading.delete(key);
        }
        return entry;
      },
      (error: unknown) => {
        if (generation === this.generation) this.loading.delete(key);
        throw error;
      },
    );
    this.loading.set(key, read);
    return read;
  }

  /** A session's policies compiled: its document (checked by STS when issued) and its managed policies' defaults. */
  private async sessionPolicies(session: SessionPolicies | undefined): Promise<readonly CompiledPolicy[] | undefined> {
    if (!session) return undefined;
    const compiled: CompiledPolicy[] = [];
    if (session.document !== undefined) {
      // Checked when the session was issued; one that no longer parses grants nothing (the session stays narrowed).
      try {
        compiled.push(parsePolicyDocument(session.document, 'identity'));
      } catch {
        // nothing granted
      }
    }
    if (session.arns && session.arns.length > 0 && this.options.policies.managedPolicies) {
      compiled.push(...(await this.options.policies.managedPolicies(session.arns)));
    }
    return compiled;
  }

  /** `tags[i]`, when given, are `resources[i]`'s: each resource is then decided with its own aws:ResourceTag/… keys. */
  private decide(entry: Entry, request: AuthorizeRequest, refuse: Refusal, now: number, resources: readonly string[], tags?: readonly (Readonly<Record<string, string>> | undefined)[]): void {
    const { declaration, input } = request;
    const { scope } = this.options;
    const context: RequestContext = new Map();
    if (request.sourceIp !== undefined) context.set('aws:SourceIp', request.sourceIp);
    context.set('aws:SecureTransport', request.secureTransport ? 'true' : 'false');
    declaration.context?.(input, scope, context);
    const principal = entry.principal;
    const action = declaration.action;
    let decision: Decision | undefined;
    if (tags) {
      // Every resource must be allowed; an explicit deny on any wins over an implicit one on another.
      for (let i = 0; i < resources.length && decision?.effect !== 'ExplicitDeny'; i++) {
        const one = this.judge(entry, { principal, action, resources: [resources[i]!], context: withResourceTags(context, tags[i]), now });
        if (one.effect !== 'Allow' && (decision === undefined || one.effect === 'ExplicitDeny')) decision = one;
      }
      decision ??= { effect: 'Allow' };
    } else {
      decision = this.judge(entry, { principal, action, resources, context, now });
    }
    if (decision.effect !== 'Allow') throw refuse(accessDeniedMessage(principal.arn, action, decision));

    const roles = declaration.passedRoles?.(input, scope);
    if (!roles) return;
    for (const role of roles) {
      const passContext: RequestContext = new Map(context);
      passContext.set('iam:PassedToService', role.service);
      const pass = this.judge(entry, { principal, action: PASS_ROLE, resources: [role.roleArn], context: passContext, now });
      if (pass.effect !== 'Allow') throw refuse(accessDeniedMessage(principal.arn, PASS_ROLE, pass));
    }
  }
}

/** A peer address as IAM compares it: an IPv4 peer on a dual-stack socket without its `::ffff:` prefix. */
export function sourceIpOf(remoteAddress: string | undefined): string | undefined {
  return remoteAddress?.startsWith('::ffff:') && remoteAddress.includes('.') ? remoteAddress.slice(7) : remoteAddress;
}

/** One API call as every codec (JSON, RPC v2 CBOR, Query) hands it to the authorization step. */
export interface ApiCall {
  readonly principal: Caller;
  readonly action: string;
  /** The service's IAM declarations, by operation name. */
  readonly actions: ActionTable;
  readonly input: unknown;
  readonly remoteAddress: string | undefined;
  readonly secure: boolean;
}

/**
 * The authorization step of every API codec: root passes without a lookup; an operation that declares no IAM
 * action is refused to everyone else; the rest is `authorizer.authorize` (undefined when decided at once, a
 * promise when the caller's policies had to be read). Without an authorizer (tests of a protocol alone) every
 * authenticated call runs.
 */
export function authorizeCall(authorizer: Authorizer | undefined, call: ApiCall, refuse: Refusal = accessDeniedException): Promise<void> | undefined {
  if (!authorizer || isRoot(call.principal)) return undefined;
  const declaration = Object.hasOwn(call.actions, call.action) ? call.actions[call.action] : undefined;
  if (!declaration) throw refuse(`User: ${call.principal.arn} is not authorized to perform: ${call.action}: the action declares no IAM action.`);
  return authorizer.authorize(
    { principal: call.principal, declaration, input: call.input, sourceIp: sourceIpOf(call.remoteAddress), secureTransport: call.secure },
    refuse,
  );
}
