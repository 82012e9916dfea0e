import { describe, expect, it } from 'vitest';
import { parsePolicyDocument, PolicyDocumentError, policySizeLimits, type PolicyKind } from './policy-document.js';

const doc = (statement: unknown, version: string | null = '2012-10-17') =>
  JSON.stringify(version === null ? { Statement: statement } : { Version: version, Statement: statement });

function errorOf(text: string, kind: PolicyKind = 'identity', limit?: Parameters<typeof parsePolicyDocument>[2]) {
  try {
    parsePolicyDocument(text, kind, limit);
  } catch (e) {
    if (e instanceof PolicyDocumentError) return { code: e.code, message: e.message };
    throw e;
  }
  return undefined;
}

const allow = { Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*' };

describe('parsePolicyDocument: what IAM accepts', () => {
  it('takes a statement object or a list, with or without a Version', () => {
    expect(parsePolicyDocument(doc(allow), 'identity').statements).toHaveLength(1);
    expect(parsePolicyDocument(doc([allow, { ...allow, Effect: 'Deny' }]), 'identity').statements).toHaveLength(2);
    expect(parsePolicyDocument(doc(allow, null), 'identity').version).toBe('2008-10-17');
    expect(parsePolicyDocument(doc(allow, '2008-10-17'), 'identity').version).toBe('2008-10-17');
  });

  it('accepts unknown actions, as IAM does', () => {
    expect(() => parsePolicyDocument(doc({ ...allow, Action: ['ecs:NoSuchOperation', 'madeup:Thing'] }), 'identity')).not.toThrow();
  });

  it('keeps the text as written and the Sids', () => {
    const text = doc([{ Sid: 'One', ...allow }, { Sid: '', ...allow }]);
    const p = parsePolicyDocument(text, 'identity');
    expect(p.document).toBe(text);
    expect(p.statements.map((s) => s.sid)).toEqual(['One', undefined]);
  });

  it('accepts a role trust policy with account, ARN and service principals', () => {
    const trust = doc([
      { Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
      { Effect: 'Allow', Principal: { AWS: ['123456789012', 'arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:user/ana'] }, Action: ['sts:AssumeRole', 'sts:TagSession'] },
      { Effect: 'Deny', Principal: '*', Action: 'sts:*', Condition: { Bool: { 'aws:SecureTransport': false } } },
    ]);
    const p = parsePolicyDocument(trust, 'trust');
    expect(p.statements[0]!.principals?.service).toEqual(['ecs-tasks.amazonaws.com']);
    expect(p.statements[2]!.principals?.any).toBe(true);
  });
});

describe('parsePolicyDocument: IAM MalformedPolicyDocument messages', () => {
  const cases: Array<[string, string, PolicyKind, string]> = [
    ['not JSON', '{"Version": "2012-10-17", "Statement": [', 'identity', 'Syntax errors in policy.'],
    ['a JSON array', '[]', 'identity', 'Syntax errors in policy.'],
    ['an unknown top-level element', JSON.stringify({ Version: '2012-10-17', Statement: allow, Extra: 1 }), 'identity', 'Syntax errors in policy.'],
    ['no Statement', JSON.stringify({ Version: '2012-10-17' }), 'identity', 'Syntax errors in policy.'],
    ['an unknown Version', doc(allow, '2010-01-01'), 'identity', 'The policy failed legacy parsing'],
    ['an unknown statement element', doc({ ...allow, Effects: 'Allow' }), 'identity', 'Syntax errors in policy.'],
    ['a bad Effect', doc({ ...allow, Effect: 'allow' }), 'identity', 'Syntax errors in policy.'],
    ['no Effect', doc({ Action: 'ecs:*', Resource: '*' }), 'identity', 'Syntax errors in policy.'],
    ['no Action', doc({ Effect: 'Allow', Resource: '*' }), 'identity', 'Policy statement must contain actions.'],
    ['Action and NotAction', doc({ ...allow, NotAction: 'iam:*' }), 'identity', 'Syntax errors in policy.'],
    ['an empty Action list', doc({ ...allow, Action: [] }), 'identity', 'Syntax errors in policy.'],
    ['an action without a vendor', doc({ ...allow, Action: 'RunTask' }), 'identity', 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['an action with two colons', doc({ ...allow, Action: 'ecs:Run:Task' }), 'identity', 'Actions/Condition can contain only one colon.'],
    ['a bad vendor', doc({ ...allow, Action: 'e c s:RunTask' }), 'identity', 'Vendor e c s is not valid'],
    ['no Resource', doc({ Effect: 'Allow', Action: 'ecs:*' }), 'identity', 'Policy statement must contain resources.'],
    ['a resource that is no ARN', doc({ ...allow, Resource: 'my-cluster' }), 'identity', 'Resource my-cluster must be in ARN format or "*".'],
    ['a resource with too few ARN parts', doc({ ...allow, Resource: 'arn:aws:ecs' }), 'identity', 'Resource arn:aws:ecs must be in ARN format or "*".'],
    ['a Principal in an identity policy', doc({ ...allow, Principal: { AWS: '123456789012' } }), 'identity', 'Policy document should not specify a principal.'],
    ['a non-alphanumeric Sid', doc({ Sid: 'my-sid', ...allow }), 'identity', 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*'],
    ['duplicate Sids', doc([{ Sid: 'A', ...allow }, { Sid: 'A', ...allow }]), 'identity', 'Statement IDs (SID) in a single policy must be unique.'],
    ['an unknown condition operator', doc({ ...allow, Condition: { StringEqualz: { 'aws:username': 'a' } } }), 'identity', 'Syntax errors in policy.'],
    ['NullIfExists', doc({ ...allow, Condition: { NullIfExists: { 'aws:username': 'true' } } }), 'identity', 'Syntax errors in policy.'],
    ['a condition key without a vendor', doc({ ...allow, Condition: { StringEquals: { username: 'a' } } }), 'identity', 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.'],
    ['an object as condition value', doc({ ...allow, Condition: { StringEquals: { 'aws:username': { a: 1 } } } }), 'identity', 'Syntax errors in policy.'],
    ['a Resource in a trust policy', doc({ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole', Resource: '*' }), 'trust', 'Has prohibited field Resource.'],
    ['no Principal in a trust policy', doc({ Effect: 'Allow', Action: 'sts:AssumeRole' }), 'trust', 'Missing required field Principal.'],
    ['a non-STS action in a trust policy', doc({ Effect: 'Allow', Principal: '*', Action: 'ecs:RunTask' }), 'trust', 'AssumeRole policy may only specify STS AssumeRole actions.'],
    ['a bad AWS principal', doc({ Effect: 'Allow', Principal: { AWS: 'ana' }, Action: 'sts:AssumeRole' }), 'trust', 'Invalid principal in policy: "AWS":"ana"'],
    ['an unknown principal type', doc({ Effect: 'Allow', Principal: { Robot: 'x' }, Action: 'sts:AssumeRole' }), 'trust', 'Syntax errors in policy.'],
  ];
  it.each(cases)('refuses %s', (_name, text, kind, message) => {
    expect(errorOf(text, kind)).toEqual({ code: 'MalformedPolicyDocument', message });
  });
});

describe('parsePolicyDocument: size quotas (white space not counted)', () => {
  /** A valid document of exactly `size` non-white-space characters, padded with white space. */
  function sized(size: number): string {
    const base = doc({ Sid: '', ...allow });
    const short = size - base.replace(/\s/g, '').length;
    return `${doc({ Sid: 'x'.repeat(short), ...allow })}\n${' '.repeat(5000)}`;
  }

  it.each([
    ['a user inline policy', policySizeLimits.userInline('ana'), 2048, 'Maximum policy size of 2048 bytes exceeded for user ana'],
    ['a group inline policy', policySizeLimits.groupInline('ops'), 5120, 'Maximum policy size of 5120 bytes exceeded for group ops'],
    ['a role inline policy', policySizeLimits.roleInline('app'), 10240, 'Maximum policy size of 10240 bytes exceeded for role app'],
    ['a managed policy', policySizeLimits.managed(), 6144, 'Cannot exceed quota for PolicySize: 6144'],
  ])('%s: up to the quota is fine, one more is LimitExceeded', (_n, limit, max, message) => {
    expect(() => parsePolicyDocument(sized(max), 'identity', limit)).not.toThrow();
    expect(errorOf(sized(max + 1), 'identity', limit)).toEqual({ code: 'LimitExceeded', message });
  });

  it('checks the quota before the syntax, as IAM does', () => {
    expect(errorOf(`{${'x'.repeat(3000)}`, 'identity', policySizeLimits.userInline('ana'))?.code).toBe('LimitExceeded');
  });
});
