/**
 * IAM policy documents: parsed and validated the way IAM validates them on CreatePolicy, Put*Policy, CreateRole
 * and UpdateAssumeRolePolicy, then compiled into the form `evaluate` runs (wildcards precompiled, policy variables
 * left to resolve per request). Two kinds:
 * - `identity`: attached to users, groups and roles. Needs Action/NotAction and Resource/NotResource; a Principal
 *   is refused ("Policy document should not specify a principal.").
 * - `trust`: a role's AssumeRolePolicyDocument. Needs Principal/NotPrincipal and only STS actions; a Resource is
 *   refused ("Has prohibited field Resource.").
 * - `resource`: a resource-based policy of another service (an EFS file system policy): Principal/NotPrincipal as in
 *   a trust policy, any actions, Resource/NotResource optional (absent: the resource the policy is attached to).
 * Unknown actions (`ecs:NoSuchThing`) are accepted, as IAM accepts them. Error texts are IAM's.
 */
import { compileCondition, parseOperator, type CompiledCondition } from './conditions.js';
import { parseTemplate, type Template } from './policy-variables.js';
import { compileGlob, type Matcher } from './wildcard.js';

export type PolicyKind = 'identity' | 'trust' | 'resource';
export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;
export type PolicyVersion = (typeof POLICY_VERSIONS)[number];

export const policyErrorCodes = ['MalformedPolicyDocument', 'LimitExceeded'] as const;
export type PolicyErrorCode = (typeof policyErrorCodes)[number];

/** A document IAM would refuse; `code` and `message` are what IAM answers. */
export class PolicyDocumentError extends Error {
  constructor(
    readonly code: PolicyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PolicyDocumentError';
  }
}

/** A size quota: characters other than white space, as IAM counts them. */
export interface PolicySizeLimit {
  readonly maxSize: number;
  readonly message: string;
}

/** IAM's default quotas and the message each answers with (IAM User Guide, "IAM and AWS STS quotas"). */
export const policySizeLimits = {
  userInline: (userName: string): PolicySizeLimit => ({ maxSize: 2048, message: `Maximum policy size of 2048 bytes exceeded for user ${userName}` }),
  groupInline: (groupName: string): PolicySizeLimit => ({ maxSize: 5120, message: `Maximum policy size of 5120 bytes exceeded for group ${groupName}` }),
  roleInline: (roleName: string): PolicySizeLimit => ({ maxSize: 10240, message: `Maximum policy size of 10240 bytes exceeded for role ${roleName}` }),
  managed: (): PolicySizeLimit => ({ maxSize: 6144, message: 'Cannot exceed quota for PolicySize: 6144' }),
  trust: (): PolicySizeLimit => ({ maxSize: 2048, message: 'Cannot exceed quota for ACLSizePerRole: 2048' }),
} as const;

/** The principals a trust statement names (`"*"` sets `any`). */
export interface CompiledPrincipals {
  readonly any: boolean;
  readonly aws: readonly string[];
  readonly service: readonly string[];
  readonly federated: readonly string[];
  readonly canonicalUser: readonly string[];
}

/** One statement, ready to evaluate. */
export interface CompiledStatement {
  /** Position in the document's Statement list. */
  readonly index: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly notAction: boolean;
  /** Lower-cased exact actions. */
  readonly exactActions: ReadonlySet<string>;
  /**
   * Wildcard actions whose service prefix is literal (`ecs:Describe*`), by lower-cased service: a request for
   * `ecs:…` only tries the `ecs` ones. ReadOnlyAccess has some 2,000 such patterns; scanning them all would cost
   * every request that reaches the statement microseconds.
   */
  readonly actionPatternsByService: ReadonlyMap<string, readonly Matcher[]>;
  /** Wildcard actions without a service of their own, i.e. `*` (validateAction refuses `ec*:Get*`): tried always. */
  readonly actionPatterns: readonly Matcher[];
  readonly notResource: boolean;
  /** Absent in trust policies, and in resource policies' statements without Resource (the policy's own resource). */
  readonly resources?: readonly Template[];
  readonly notPrincipal: boolean;
  /** Present in trust and resource policies only. */
  readonly principals?: CompiledPrincipals;
  readonly conditions: readonly CompiledCondition[];
}

export interface CompiledPolicy {
  readonly kind: PolicyKind;
  /** The document's Version; absent documents are read as 2008-10-17 (no policy variables), as IAM reads them. */
  readonly version: PolicyVersion;
  readonly id?: string;
  readonly statements: readonly CompiledStatement[];
  /** The text as given (IAM returns documents as they were written). */
  readonly document: string;
}

const SYNTAX = 'Syntax errors in policy.';
const VENDOR = 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);
const PRINCIPAL_KEYS = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const AWS_PRINCIPAL = /^(\*|\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+|role\/.+)|arn:aws[a-z-]*:sts::\d{12}:(assumed-role|federated-user)\/.+)$/;

const malformed = (message: string) => new PolicyDocumentError('MalformedPolicyDocument', message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string or a non-empty list of strings, as the grammar allows for Action, Resource and principal values. */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return value as string[];
  throw malformed(SYNTAX);
}

function validateAction(action: string): void {
  if (action === '*') return;
  const parts = action.split(':');
  if (parts.length < 2) throw malformed(VENDOR);
  if (parts.length > 2) throw malformed('Actions/Condition can contain only one colon.');
  if (!/^[a-zA-Z0-9-]+$/.test(parts[0]!)) throw malformed(`Vendor ${parts[0]} is not valid`);
}

function validateResource(resource: string): void {
  if (resource === '*') return;
  // arn:partition:service:region:account:resource, where a trailing wildcard may stand for the rest
  // (`arn:aws:ecs:*`), so at least a partition, a service and one more segment.
  if (!/^arn:[^:]+:[^:]+:/.test(resource)) throw malformed(`Resource ${resource} must be in ARN format or "*".`);
}

function compilePrincipals(value: unknown): CompiledPrincipals {
  if (value === '*') return { any: true, aws: [], service: [], federated: [], canonicalUser: [] };
  if (!isObject(value) || Object.keys(value).length === 0) throw malformed(SYNTAX);
  const out = { any: false, aws: [] as string[], service: [] as string[], federated: [] as string[], canonicalUser: [] as string[] };
  for (const [type, raw] of Object.entries(value)) {
    if (!PRINCIPAL_KEYS.has(type)) throw malformed(SYNTAX);
    const ids = stringList(raw);
    for (const id of ids) {
      if (type === 'AWS' && !AWS_PRINCIPAL.test(id)) throw malformed(`Invalid principal in policy: "AWS":"${id}"`);
      if (type === 'Service' && !/^[a-z0-9.-]+$/.test(id)) throw malformed(`Invalid principal in policy: "SERVICE":"${id}"`);
    }
    if (type === 'AWS') {
      out.aws.push(...ids);
      if (ids.includes('*')) out.any = true;
    } else if (type === 'Service') out.service.push(...ids);
    else if (type === 'Federated') out.federated.push(...ids);
    else out.canonicalUser.push(...ids);
  }
  return out;
}

function conditionValues(raw: unknown): string[] {
  const one = (v: unknown): string => {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    throw malformed(SYNTAX);
  };
  if (Array.isArray(raw)) return raw.map(one);
  return [one(raw)];
}

function compileConditions(value: unknown, variables: boolean): CompiledCondition[] {
  if (!isObject(value)) throw malformed(SYNTAX);
  const out: CompiledCondition[] = [];
  for (const [operator, block] of Object.entries(value)) {
    if (!parseOperator(operator) || !isObject(block)) throw malformed(SYNTAX);
    for (const [key, raw] of Object.entries(block)) {
      if (!key.includes(':')) throw malformed(VENDOR);
      out.push(compileCondition(operator, key, conditionValues(raw), variables));
    }
  }
  return out;
}

function compileStatement(raw: unknown, index: number, kind: PolicyKind, variables: boolean): CompiledStatement {
  if (!isObject(raw)) throw malformed(SYNTAX);
  for (const key of Object.keys(raw)) if (!STATEMENT_KEYS.has(key)) throw malformed(SYNTAX);
  const { Sid, Effect } = raw;
  if (Sid !== undefined && typeof Sid !== 'string') throw malformed(SYNTAX);
  if (typeof Sid === 'string' && !/^[0-9A-Za-z]*$/.test(Sid)) {
    throw malformed('Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*');
  }
  if (Effect !== 'Allow' && Effect !== 'Deny') throw malformed(SYNTAX);

  const hasPrincipal = 'Principal' in raw || 'NotPrincipal' in raw;
  if (kind === 'identity' && hasPrincipal) throw malformed('Policy document should not specify a principal.');
  if (kind === 'trust') {
    if ('Resource' in raw) throw malformed('Has prohibited field Resource.');
    if ('NotResource' in raw) throw malformed('Has prohibited field NotResource.');
  }
  if (kind !== 'identity') {
    if (!hasPrincipal) throw malformed('Missing required field Principal.');
    if ('Principal' in raw && 'NotPrincipal' in raw) throw malformed(SYNTAX);
  }

  if ('Action' in raw && 'NotAction' in raw) throw malformed(SYNTAX);
  if (!('Action' in raw) && !('NotAction' in raw)) throw malformed('Policy statement must contain actions.');
  const notAction = 'NotAction' in raw;
  const actions = stringList(notAction ? raw.NotAction : raw.Action);
  actions.forEach(validateAction);
  if (kind === 'trust' && actions.some((a) => a !== '*' && !a.toLowerCase().startsWith('sts:'))) {
    throw malformed('AssumeRole policy may only specify STS AssumeRole actions.');
  }
  const exactActions = new Set<string>();
  const actionPatterns: Matcher[] = [];
  const actionPatternsByService = new Map<string, Matcher[]>();
  for (const a of actions) {
    if (!a.includes('*') && !a.includes('?')) {
      exactActions.add(a.toLowerCase());
      continue;
    }
    const matcher = compileGlob(a, 'action');
    // validateAction allows one colon and a literal service, so such a pattern only matches that service's actions.
    const service = a.slice(0, Math.max(a.indexOf(':'), 0)).toLowerCase();
    if (service === '') actionPatterns.push(matcher);
    else {
      const list = actionPatternsByService.get(service);
      if (list) list.push(matcher);
      else actionPatternsByService.set(service, [matcher]);
    }
  }

  let resources: Template[] | undefined;
  const notResource = 'NotResource' in raw;
  if (kind === 'identity' || (kind === 'resource' && ('Resource' in raw || notResource))) {
    if ('Resource' in raw && notResource) throw malformed(SYNTAX);
    if (!('Resource' in raw) && !notResource) throw malformed('Policy statement must contain resources.');
    const list = stringList(notResource ? raw.NotResource : raw.Resource);
    list.forEach(validateResource);
    resources = list.map((r) => parseTemplate(r, variables));
  }

  const notPrincipal = 'NotPrincipal' in raw;
  const principals = kind !== 'identity' ? compilePrincipals(notPrincipal ? raw.NotPrincipal : raw.Principal) : undefined;
  const conditions = raw.Condition === undefined ? [] : compileConditions(raw.Condition, variables);
  return {
    index,
    ...(typeof Sid === 'string' && Sid !== '' ? { sid: Sid } : {}),
    effect: Effect,
    notAction,
    exactActions,
    actionPatternsByService,
    actionPatterns,
    notResource,
    ...(resources ? { resources } : {}),
    notPrincipal,
    ...(principals ? { principals } : {}),
    conditions,
  };
}

/** Characters IAM counts against size quotas: everything but white space. */
export const policySize = (text: string): number => text.replace(/\s/g, '').length;

/**
 * Parses, validates and compiles a policy document. Throws {@link PolicyDocumentError}: `LimitExceeded` when
 * `limit` is given and exceeded (checked first, as IAM does), `MalformedPolicyDocument` otherwise.
 */
export function parsePolicyDocument(text: string, kind: PolicyKind, limit?: PolicySizeLimit): CompiledPolicy {
  if (limit && policySize(text) > limit.maxSize) throw new PolicyDocumentError('LimitExceeded', limit.message);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed(SYNTAX);
  }
  if (!isObject(json)) throw malformed(SYNTAX);
  for (const key of Object.keys(json)) if (key !== 'Version' && key !== 'Id' && key !== 'Statement') throw malformed(SYNTAX);
  const { Version, Id, Statement } = json;
  if (Version !== undefined && !POLICY_VERSIONS.includes(Version as PolicyVersion)) {
    // IAM reads anything but the current version with its legacy parser, which knows no other version either.
    throw malformed('The policy failed legacy parsing');
  }
  if (Id !== undefined && typeof Id !== 'string') throw malformed(SYNTAX);
  const version: PolicyVersion = (Version as PolicyVersion | undefined) ?? '2008-10-17';
  const list = Array.isArray(Statement) ? Statement : isObject(Statement) ? [Statement] : undefined;
  if (!list || list.length === 0) throw malformed(SYNTAX);
  const variables = version === '2012-10-17';
  const statements = list.map((s, i) => compileStatement(s, i, kind, variables));
  const sids = statements.flatMap((s) => (s.sid ? [s.sid] : []));
  if (new Set(sids).size !== sids.length) throw malformed('Statement IDs (SID) in a single policy must be unique.');
  return { kind, version, ...(typeof Id === 'string' ? { id: Id } : {}), statements, document: text };
}
