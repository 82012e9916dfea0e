/**
 * PROVISIONAL: the names of the pure policy engine (`src/model/iam/`, built on the iam-policy branch) that the IAM
 * and STS APIs use, with a minimal stand-in until that branch is merged; then this file becomes a re-export.
 */

export type PolicyKind = 'identity' | 'trust';

export class PolicyDocumentError extends Error {
  constructor(
    readonly code: 'MalformedPolicyDocument' | 'LimitExceeded',
    message: string,
  ) {
    super(message);
    this.name = 'PolicyDocumentError';
  }
}

export interface PolicySizeLimit {
  readonly maxSize: number;
  readonly message: string;
}

export const policySizeLimits = {
  userInline: (userName: string): PolicySizeLimit => ({ maxSize: 2048, message: `Maximum policy size of 2048 bytes exceeded for user ${userName}` }),
  groupInline: (groupName: string): PolicySizeLimit => ({ maxSize: 5120, message: `Maximum policy size of 5120 bytes exceeded for group ${groupName}` }),
  roleInline: (roleName: string): PolicySizeLimit => ({ maxSize: 10240, message: `Maximum policy size of 10240 bytes exceeded for role ${roleName}` }),
  managed: (): PolicySizeLimit => ({ maxSize: 6144, message: 'Cannot exceed quota for PolicySize: 6144' }),
  trust: (): PolicySizeLimit => ({ maxSize: 2048, message: 'Cannot exceed quota for ACLSizePerRole: 2048' }),
} as const;

interface Statement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly principals: readonly string[];
  readonly anyPrincipal: boolean;
}

export interface CompiledPolicy {
  readonly statements: readonly Statement[];
}

const malformed = (message: string) => new PolicyDocumentError('MalformedPolicyDocument', message);
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export function parsePolicyDocument(text: string, kind: PolicyKind, limit?: PolicySizeLimit): CompiledPolicy {
  if (limit && text.replace(/\s/g, '').length > limit.maxSize) throw new PolicyDocumentError('LimitExceeded', limit.message);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw malformed('Syntax errors in policy.');
  const doc = json as Record<string, unknown>;
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17') throw malformed('The policy must contain a valid version string');
  const raw = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? undefined : [doc.Statement];
  if (!raw) throw malformed('Syntax errors in policy.');
  const statements = raw.map((s: unknown) => {
    if (typeof s !== 'object' || s === null) throw malformed('Syntax errors in policy.');
    const st = s as Record<string, unknown>;
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw malformed('Invalid effect');
    const p = st.Principal;
    if (kind === 'identity' && p !== undefined) throw malformed('Policy document should not specify a principal.');
    if (kind === 'trust' && p === undefined) throw malformed('Missing required field Principal');
    const principals = typeof p === 'object' && p !== null ? Object.values(p as Record<string, unknown>).flatMap(list) : list(p);
    return { effect: st.Effect, actions: list(st.Action), principals, anyPrincipal: p === '*' || principals.includes('*') } as Statement;
  });
  return { statements };
}

export type TrustPrincipal =
  | { readonly kind: 'AWS'; readonly arn: string; readonly accountId: string; readonly roleArn?: string }
  | { readonly kind: 'Service'; readonly service: string };

const wildcard = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i').test(value);

export function evaluateTrust(principal: TrustPrincipal, action: string, trustPolicy: CompiledPolicy): boolean {
  let allowed = false;
  for (const s of trustPolicy.statements) {
    if (!s.actions.some((a) => wildcard(a, action))) continue;
    const named =
      s.anyPrincipal ||
      s.principals.some((entry) =>
        principal.kind === 'Service'
          ? entry.toLowerCase() === principal.service.toLowerCase()
          : entry === principal.accountId || entry === `arn:aws:iam::${principal.accountId}:root` || entry === principal.arn || entry === principal.roleArn,
      );
    if (!named) continue;
    if (s.effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

export interface ManagedPolicy {
  readonly name: string;
  readonly arn: string;
  readonly path: string;
  readonly policyId: string;
  readonly description: string;
  readonly defaultVersionId: string;
  readonly createDate: string;
  readonly updateDate: string;
  readonly document: string;
}

export const MANAGED_POLICIES: ReadonlyMap<string, ManagedPolicy> = new Map([
  [
    'AdministratorAccess',
    {
      name: 'AdministratorAccess',
      arn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      path: '/',
      policyId: 'ANPAIWMBCKSKIEE64ZLYK',
      description: 'Provides full access to AWS services and resources.',
      defaultVersionId: 'v1',
      createDate: '2015-02-06T18:39:46Z',
      updateDate: '2015-02-06T18:39:46Z',
      document: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
    },
  ],
]);

export function managedPolicyByArn(arn: string): ManagedPolicy | undefined {
  for (const p of MANAGED_POLICIES.values()) if (p.arn === arn) return p;
  return undefined;
}
