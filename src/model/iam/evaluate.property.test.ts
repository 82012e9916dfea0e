// Properties of identity-policy evaluation that hold whatever the policies say (IAM User Guide, "Policy
// evaluation logic"): an applicable Deny always wins, adding a statement never narrows an Allow, and the order
// of statements and policies never matters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluate, evaluateSession } from './evaluate.js';
import { parsePolicyDocument, type CompiledPolicy } from './policy-document.js';
import type { AuthzRequest } from './request-context.js';

const ACCOUNT = '111122223333';
const CLUSTERS = ['dev', 'prod', 'dev-2'].map((c) => `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/${c}`);
const ACTIONS = ['ecs:RunTask', 'ecs:DescribeClusters', 'ecs:ListClusters', 'iam:CreateUser', 'logs:PutLogEvents'];
const ACTION_PATTERNS = [...ACTIONS, 'ecs:*', 'ecs:Describe*', 'ecs:?unTask', '*', 'iam:*', 'ECS:runtask'];
const RESOURCE_PATTERNS = ['*', ...CLUSTERS, `arn:aws:ecs:us-east-1:${ACCOUNT}:cluster/dev*`, 'arn:aws:ecs:*', `arn:aws:ecs:*:${ACCOUNT}:cluster/\${aws:username}`];

const condition = fc.option(
  fc.oneof(
    fc.constant({ StringEquals: { 'aws:username': 'ana' } }),
    fc.constant({ StringNotEquals: { 'aws:username': 'bob' } }),
    fc.constant({ Bool: { 'aws:SecureTransport': 'true' } }),
    fc.constant({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }),
    fc.constant({ 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } }),
    fc.constant({ StringLikeIfExists: { 'ecs:cluster': '*dev*' } }),
    fc.constant({ DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } }),
  ),
  { nil: undefined },
);

const statement = fc
  .record({
    effect: fc.constantFrom('Allow', 'Deny'),
    not: fc.boolean(),
    notResource: fc.boolean(),
    actions: fc.uniqueArray(fc.constantFrom(...ACTION_PATTERNS), { minLength: 1, maxLength: 3 }),
    resources: fc.uniqueArray(fc.constantFrom(...RESOURCE_PATTERNS), { minLength: 1, maxLength: 2 }),
    condition,
  })
  .map(({ effect, not, notResource, actions, resources, condition }) => ({
    Effect: effect,
    [not ? 'NotAction' : 'Action']: actions,
    [notResource ? 'NotResource' : 'Resource']: resources,
    ...(condition ? { Condition: condition } : {}),
  }));

const policyStatements = fc.array(statement, { minLength: 1, maxLength: 5 });
const policySet = fc.array(policyStatements, { minLength: 0, maxLength: 4 });

const compile = (statements: object[]): CompiledPolicy =>
  parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');

const request = fc
  .record({
    action: fc.constantFrom(...ACTIONS),
    resources: fc.uniqueArray(fc.constantFrom(...CLUSTERS), { maxLength: 2 }),
    user: fc.constantFrom('ana', 'bob', 'dev'),
    secure: fc.option(fc.constantFrom('true', 'false'), { nil: undefined }),
    ip: fc.constantFrom('10.1.2.3', '192.168.0.1'),
    tags: fc.option(fc.subarray(['team', 'env', 'owner']), { nil: undefined }),
    cluster: fc.option(fc.constantFrom(...CLUSTERS), { nil: undefined }),
  })
  .map(({ action, resources, user, secure, ip, tags, cluster }): AuthzRequest => {
    const context = new Map<string, string | readonly string[]>([['aws:SourceIp', ip]]);
    if (secure) context.set('aws:SecureTransport', secure);
    if (tags) context.set('aws:TagKeys', tags);
    if (cluster) context.set('ecs:cluster', cluster);
    return {
      principal: { arn: `arn:aws:iam::${ACCOUNT}:user/${user}`, accountId: ACCOUNT, type: 'User', userName: user },
      action,
      resources,
      context,
      now: Date.parse('2026-06-01T00:00:00Z'),
    };
  });

const effectOf = (r: AuthzRequest, policies: object[][]) => evaluate(r, policies.map(compile)).effect;

describe('evaluation properties', () => {
  it('a Deny that matches the request wins, whatever else the policies say and wherever it sits', () => {
    fc.assert(
      fc.property(policySet, request, fc.nat(), fc.nat(), (policies, r, at, inner) => {
        const deny: object = { Effect: 'Deny', Action: r.action, Resource: r.resources.length ? r.resources : '*' };
        const withDeny: object[][] = policies.map((p) => [...p]);
        if (withDeny.length === 0) withDeny.push([deny]);
        else {
          const target = withDeny[at % withDeny.length]!;
          target.splice(inner % (target.length + 1), 0, deny);
        }
        expect(effectOf(r, withDeny)).toBe('ExplicitDeny');
      }),
      { numRuns: 400 },
    );
  });

  it('adding a statement never narrows an Allow, and adding an Allow never undoes an explicit deny', () => {
    fc.assert(
      fc.property(policySet, request, statement, fc.nat(), (policies, r, extra, at) => {
        const before = effectOf(r, policies);
        const added = policies.length === 0 ? [[extra]] : policies.map((p, i) => (i === at % policies.length ? [...p, extra] : p));
        const after = effectOf(r, added);
        if (before === 'Allow') expect(after === 'Allow' || extra.Effect === 'Deny').toBe(true);
        if (before === 'ExplicitDeny') expect(after).toBe('ExplicitDeny');
        if (extra.Effect === 'Allow' && before === 'Allow') expect(after).toBe('Allow');
      }),
      { numRuns: 400 },
    );
  });

  it('reordering statements and policies never changes the decision', () => {
    fc.assert(
      fc.property(
        policySet.chain((policies) =>
          fc.tuple(
            fc.constant(policies),
            fc.shuffledSubarray(policies, { minLength: policies.length, maxLength: policies.length }).chain((order) =>
              fc.tuple(...order.map((p) => fc.shuffledSubarray(p, { minLength: p.length, maxLength: p.length }))),
            ),
          ),
        ),
        request,
        ([policies, reordered], r) => {
          expect(effectOf(r, reordered as object[][])).toBe(effectOf(r, policies));
        },
      ),
      { numRuns: 400 },
    );
  });

  // IAM User Guide, "Session policies": the session's permissions are the intersection of the role's
  // identity-based policies and the session policies; a session policy can never grant more.
  it('session policies only narrow: allowed with them means allowed by the role policies and by the session policies', () => {
    fc.assert(
      fc.property(policySet, policySet, request, (identity, session, r) => {
        const effect = evaluateSession(r, identity.map(compile), session.map(compile)).effect;
        const byIdentity = effectOf(r, identity);
        const bySession = effectOf(r, session);
        expect(effect === 'Allow').toBe(byIdentity === 'Allow' && bySession === 'Allow');
        expect(effect === 'ExplicitDeny').toBe(byIdentity === 'ExplicitDeny' || bySession === 'ExplicitDeny');
      }),
      { numRuns: 400 },
    );
  });
});
