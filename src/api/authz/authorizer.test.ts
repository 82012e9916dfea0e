import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../model/errors.js';
import { parsePolicyDocument, type CompiledPolicy } from '../../model/iam/index.js';
import { ecsActions } from '../ecs/iam-actions.js';
import { authorizeCall, Authorizer, sourceIpOf, type AuthorizeRequest } from './authorizer.js';
import { MemoryPolicySource } from './policy-source.js';
import type { Caller } from './principal.js';

const scope = { region: 'us-east-1', accountId: '123456789012' } as const;
const ALICE = 'arn:aws:iam::123456789012:user/alice';
const alice = { type: 'User', arn: ALICE, accountId: scope.accountId, userName: 'alice', userId: 'AIDAALICE' } as const;
const root = { type: 'Root', arn: 'arn:aws:iam::123456789012:root', accountId: scope.accountId } as const;
const ecs = (r: string) => `arn:aws:ecs:us-east-1:123456789012:${r}`;

const policy = (...statements: object[]): CompiledPolicy => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');

function request(op: string, input: object, principal: Caller = alice, sourceIp = '10.0.0.5'): AuthorizeRequest {
  return { principal, declaration: ecsActions[op]!, input, sourceIp, secureTransport: false };
}

/** The outcome of one authorization: 'allowed' or the refusal's message. */
async function outcome(authorizer: Authorizer, req: AuthorizeRequest): Promise<string> {
  try {
    await authorizer.authorize(req);
    return 'allowed';
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).type).toBe('AccessDeniedException');
    return (error as Error).message;
  }
}

function setup(...policies: CompiledPolicy[]) {
  const source = new MemoryPolicySource().set(ALICE, policies);
  let now = Date.parse('2026-06-01T12:00:00Z');
  const authorizer = new Authorizer({ policies: source, scope, now: () => now });
  return { source, authorizer, advance: (ms: number) => (now += ms) };
}

describe('Authorizer', () => {
  it('allows root without asking for policies, synchronously', () => {
    const { source, authorizer } = setup();
    expect(authorizer.authorize(request('RunTask', { taskDefinition: 'web:1' }, root))).toBeUndefined();
    expect(source.lookups).toBe(0);
  });

  it('allows what a policy allows, on the declared resource', async () => {
    const { authorizer } = setup(policy({ Effect: 'Allow', Action: 'ecs:Describe*', Resource: ecs('cluster/prod') }));
    expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['prod'] }))).toBe('allowed');
  });

  it('refuses with an implicit deny in AWS words, naming the resource refused', async () => {
    const { authorizer } = setup(policy({ Effect: 'Allow', Action: 'ecs:Describe*', Resource: ecs('cluster/prod') }));
    expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['prod', 'dev'] }))).toBe(
      `User: ${ALICE} is not authorized to perform: ecs:DescribeClusters on resource: ${ecs('cluster/dev')} because no identity-based policy allows the ecs:DescribeClusters action`,
    );
    expect(await outcome(authorizer, request('RunTask', { cluster: 'prod', taskDefinition: 'web:1' }))).toBe(
      `User: ${ALICE} is not authorized to perform: ecs:RunTask on resource: ${ecs('task-definition/web:1')} because no identity-based policy allows the ecs:RunTask action`,
    );
    expect(await outcome(authorizer, request('ListClusters', {}))).toMatch(/ecs:ListClusters on resource: \* because no identity-based policy/);
  });

  it('refuses an explicit deny even where another statement allows', async () => {
    const { authorizer } = setup(
      policy({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }),
      policy({ Effect: 'Deny', Action: 'ecs:RunTask', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': ecs('cluster/prod') } } }),
    );
    expect(await outcome(authorizer, request('RunTask', { cluster: 'prod', taskDefinition: 'web:1' }))).toBe(
      `User: ${ALICE} is not authorized to perform: ecs:RunTask on resource: ${ecs('task-definition/web:1')} with an explicit deny in an identity-based policy`,
    );
    expect(await outcome(authorizer, request('RunTask', { cluster: 'dev', taskDefinition: 'web:1' }))).toBe('allowed');
  });

  it('gives the evaluator the request keys and those every request gets', async () => {
    const { authorizer } = setup(
      policy({
        Effect: 'Allow',
        Action: 'ecs:CreateCluster',
        Resource: '*',
        Condition: {
          IpAddress: { 'aws:SourceIp': '10.0.0.0/8' },
          StringEquals: { 'aws:username': 'alice', 'aws:PrincipalType': 'User', 'aws:RequestTag/team': 'a', 'aws:SecureTransport': 'false' },
          ArnEquals: { 'aws:PrincipalArn': ALICE },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] },
          DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
          NumericGreaterThan: { 'aws:EpochTime': '1767225600' },
        },
      }),
    );
    expect(await outcome(authorizer, request('CreateCluster', { tags: [{ key: 'team', value: 'a' }] }))).toBe('allowed');
    expect(await outcome(authorizer, request('CreateCluster', { tags: [{ key: 'team', value: 'b' }] }))).toMatch(/no identity-based policy allows/);
    expect(await outcome(authorizer, request('CreateCluster', { tags: [{ key: 'team', value: 'a' }] }, alice, '192.168.1.1'))).toMatch(/no identity-based policy/);
    expect(await outcome(authorizer, request('CreateCluster', { tags: [{ key: 'team', value: 'a' }, { key: 'x', value: 'a' }] }))).toMatch(/no identity/);
  });

  it('checks iam:PassRole for each role passed, with iam:PassedToService', async () => {
    const taskRole = 'arn:aws:iam::123456789012:role/app';
    const { authorizer } = setup(
      policy(
        { Effect: 'Allow', Action: ['ecs:RegisterTaskDefinition', 'ecs:RunTask'], Resource: '*' },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: taskRole, Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
      ),
    );
    expect(await outcome(authorizer, request('RegisterTaskDefinition', { family: 'web', taskRoleArn: taskRole }))).toBe('allowed');
    expect(await outcome(authorizer, request('RegisterTaskDefinition', { family: 'web', taskRoleArn: taskRole, executionRoleArn: 'exec' }))).toBe(
      `User: ${ALICE} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/exec because no identity-based policy allows the iam:PassRole action`,
    );
    expect(await outcome(authorizer, request('RunTask', { taskDefinition: 'web:1', overrides: { taskRoleArn: 'other' } }))).toMatch(
      /iam:PassRole on resource: arn:aws:iam::123456789012:role\/other/,
    );
    // The role is passed to ecs.amazonaws.com for a service: the condition above does not allow that.
    const { authorizer: services } = setup(
      policy({ Effect: 'Allow', Action: ['ecs:CreateService', 'iam:PassRole'], Resource: '*', Condition: { StringEqualsIfExists: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }),
    );
    expect(await outcome(services, request('CreateService', { serviceName: 's', role: 'svc' }))).toMatch(/iam:PassRole on resource: arn:aws:iam::123456789012:role\/svc/);
    expect(await outcome(services, request('CreateService', { serviceName: 's' }))).toBe('allowed');
  });

  it('caches a principal’s policies, decides synchronously once cached, and reads them again when invalidated', async () => {
    const { source, authorizer, advance } = setup(policy({ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: '*' }));
    const req = request('ListClusters', {});
    await authorizer.authorize(req);
    expect(authorizer.authorize(req)).toBeUndefined();
    expect(source.lookups).toBe(1);

    source.set(ALICE, [policy({ Effect: 'Deny', Action: 'ecs:*', Resource: '*' })]);
    expect(authorizer.authorize(req)).toBeUndefined();
    authorizer.invalidate(ALICE);
    expect(await outcome(authorizer, req)).toMatch(/explicit deny/);
    expect(source.lookups).toBe(2);

    // A role, group or policy change drops every principal.
    source.set(ALICE, []);
    authorizer.invalidate('arn:aws:iam::123456789012:policy/shared');
    expect(await outcome(authorizer, req)).toMatch(/no identity-based policy/);
    expect(source.lookups).toBe(3);

    // And entries expire as a safety net.
    advance(61_000);
    const reread = authorizer.authorize(req);
    expect(reread).toBeInstanceOf(Promise);
    await expect(reread).rejects.toThrow(/no identity-based policy/);
    expect(source.lookups).toBe(4);
  });

  it('does not cache a read that an invalidation overtook', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stale = [policy({ Effect: 'Allow', Action: '*', Resource: '*' })];
    let reads = 0;
    const authorizer = new Authorizer({
      scope,
      policies: {
        policiesFor: async () => {
          reads++;
          if (reads === 1) {
            await gate;
            return stale;
          }
          return [];
        },
      },
    });
    const first = authorizer.authorize(request('ListClusters', {}));
    authorizer.invalidate(ALICE);
    release();
    await first;
    expect(await outcome(authorizer, request('ListClusters', {}))).toMatch(/no identity-based policy/);
    expect(reads).toBe(2);
  });

  describe('role sessions with session policies (AssumeRole Policy / PolicyArns)', () => {
    const SESSION = 'arn:aws:sts::123456789012:assumed-role/app/run-1';
    const session = (sessionPolicies?: { document?: string; arns?: string[] }): Caller => ({
      type: 'AssumedRole',
      arn: SESSION,
      accountId: scope.accountId,
      roleArn: 'arn:aws:iam::123456789012:role/app',
      roleName: 'app',
      roleId: 'AROAAPP',
      sessionName: 'run-1',
      ...(sessionPolicies ? { sessionPolicies } : {}),
    });
    const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
    const roleSetup = () => {
      const source = new MemoryPolicySource().set(SESSION, [policy({ Effect: 'Allow', Action: ['ecs:*', 'iam:PassRole'], Resource: '*' })]);
      return { source, authorizer: new Authorizer({ policies: source, scope }) };
    };

    it('a session policy allowing only ecs:ListClusters on a role allowing ecs:* refuses RunTask, in the session policy’s name', async () => {
      const { authorizer } = roleSetup();
      const narrowed = session({ document: doc({ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: '*' }) });
      expect(await outcome(authorizer, request('ListClusters', {}, narrowed))).toBe('allowed');
      expect(await outcome(authorizer, request('RunTask', { taskDefinition: 'web:1' }, narrowed))).toBe(
        `User: ${SESSION} is not authorized to perform: ecs:RunTask on resource: ${ecs('task-definition/web:1')} because no session policy allows the ecs:RunTask action`,
      );
      // The same session ARN without session policies is not narrowed: the cache keeps them apart.
      expect(await outcome(authorizer, request('RunTask', { taskDefinition: 'web:1' }, session()))).toBe('allowed');
      expect(await outcome(authorizer, request('RunTask', { taskDefinition: 'web:1' }, narrowed))).toMatch(/no session policy allows/);
      // A session policy cannot grant what the role does not have.
      const wide = session({ document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) });
      expect(await outcome(authorizer, request('RunTask', { taskDefinition: 'web:1' }, wide))).toBe('allowed');
      const roleless = await authorizer.decision(wide, 'iam:CreateUser', []);
      expect(roleless.effect).toBe('ImplicitDeny');
      expect(roleless.policyType).toBeUndefined();
    });

    it('narrows iam:PassRole too, and reads PolicyArns from the source', async () => {
      const { source, authorizer } = roleSetup();
      source.setManaged('arn:aws:iam::123456789012:policy/register', policy({ Effect: 'Allow', Action: 'ecs:RegisterTaskDefinition', Resource: '*' }));
      const viaArn = session({ arns: ['arn:aws:iam::123456789012:policy/register', 'arn:aws:iam::123456789012:policy/missing'] });
      expect(await outcome(authorizer, request('RegisterTaskDefinition', { family: 'web' }, viaArn))).toBe('allowed');
      expect(await outcome(authorizer, request('RegisterTaskDefinition', { family: 'web', taskRoleArn: 'app' }, viaArn))).toMatch(
        /iam:PassRole on resource: arn:aws:iam::123456789012:role\/app because no session policy allows the iam:PassRole action/,
      );
      expect(await outcome(authorizer, request('ListClusters', {}, viaArn))).toMatch(/no session policy allows/);
      // An explicit deny in the session policy is named as such.
      const denying = session({ document: doc({ Effect: 'Allow', Action: '*', Resource: '*' }, { Effect: 'Deny', Action: 'ecs:DeleteCluster', Resource: '*' }) });
      expect(await outcome(authorizer, request('DeleteCluster', { cluster: 'prod' }, denying))).toMatch(/with an explicit deny in a session policy$/);
    });

    it('invalidating the role’s ARN drops its sessions, not other principals', async () => {
      const { source, authorizer } = roleSetup();
      source.set(ALICE, [policy({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' })]);
      await authorizer.authorize(request('ListClusters', {}, session()));
      await authorizer.authorize(request('ListClusters', {}));
      authorizer.invalidate('arn:aws:iam::123456789012:role/team/app');
      expect(authorizer.authorize(request('ListClusters', {}))).toBeUndefined();
      const reread = authorizer.authorize(request('ListClusters', {}, session()));
      expect(reread).toBeInstanceOf(Promise);
      await reread;
      authorizer.invalidate('arn:aws:iam::123456789012:role/other');
      expect(authorizer.authorize(request('ListClusters', {}, session()))).toBeUndefined();
    });

    it('invalidating a session ARN drops its entries with and without session policies', async () => {
      const { source, authorizer } = roleSetup();
      const narrowed = session({ document: doc({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }) });
      await authorizer.authorize(request('ListClusters', {}, narrowed));
      await authorizer.authorize(request('ListClusters', {}, session()));
      expect(authorizer.authorize(request('ListClusters', {}, narrowed))).toBeUndefined();
      const before = source.lookups;
      authorizer.invalidate(SESSION);
      const rereads = [authorizer.authorize(request('ListClusters', {}, narrowed)), authorizer.authorize(request('ListClusters', {}, session()))];
      for (const reread of rereads) expect(reread).toBeInstanceOf(Promise);
      await Promise.all(rereads);
      expect(source.lookups).toBe(before + 2); // each entry's role policies read again
    });
  });

  describe('aws:ResourceTag/…', () => {
    const tagsByArn: Record<string, Record<string, string>> = { [ecs('cluster/prod')]: { team: 'a' }, [ecs('cluster/dev')]: { team: 'b' } };
    const withTags = (...policies: CompiledPolicy[]) => {
      const source = new MemoryPolicySource().set(ALICE, policies);
      let reads = 0;
      const authorizer = new Authorizer({
        policies: source,
        scope,
        resourceTags: async (arn) => {
          reads++;
          return tagsByArn[arn];
        },
      });
      return { authorizer, reads: () => reads };
    };

    it('decides each resource with its own tags; a resource without the tag does not match', async () => {
      const { authorizer } = withTags(policy({ Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'a' } } }));
      expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['prod'] }))).toBe('allowed');
      expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['prod', 'dev'] }))).toMatch(new RegExp(`on resource: ${ecs('cluster/dev')} because no identity-based policy`));
      expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['gone'] }))).toMatch(/cluster\/gone because no identity-based policy/);
    });

    it('an explicit deny on one resource’s tags wins over the others', async () => {
      const { authorizer } = withTags(
        policy({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }, { Effect: 'Deny', Action: 'ecs:*', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'b' } } }),
      );
      expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['gone', 'prod'] }))).toBe('allowed');
      expect(await outcome(authorizer, request('DescribeClusters', { clusters: ['prod', 'dev'] }))).toMatch(new RegExp(`on resource: ${ecs('cluster/dev')} with an explicit deny`));
    });

    it('reads no tags for principals whose policies never mention the key, and stays synchronous', async () => {
      const { authorizer, reads } = withTags(policy({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }));
      await authorizer.authorize(request('DescribeClusters', { clusters: ['prod'] }));
      expect(authorizer.authorize(request('DescribeClusters', { clusters: ['prod'] }))).toBeUndefined();
      expect(reads()).toBe(0);
    });
  });

  it('reads IPv4 peers without the IPv6-mapped prefix', () => {
    expect(sourceIpOf('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(sourceIpOf('::1')).toBe('::1');
    expect(sourceIpOf(undefined)).toBeUndefined();
  });
});

describe('authorizeCall (the step every codec runs)', () => {
  const call = (action: string, principal: Caller = alice) => ({ principal, action, actions: ecsActions, input: {}, remoteAddress: '::ffff:10.0.0.5', secure: false });

  it('lets root through and, without an authorizer, everyone', () => {
    const { authorizer } = setup();
    expect(authorizeCall(authorizer, call('NoSuchAction', root))).toBeUndefined();
    expect(authorizeCall(undefined, call('NoSuchAction'))).toBeUndefined();
  });

  it("refuses an action that declares no IAM action, naming it, with the codec's own refusal", () => {
    const { authorizer } = setup(policy({ Effect: 'Allow', Action: '*', Resource: '*' }));
    expect(() => authorizeCall(authorizer, call('NoSuchAction'))).toThrow(/alice is not authorized to perform: NoSuchAction: the action declares no IAM action/);
    const refuse = (m: string) => new Error(`query: ${m}`);
    expect(() => authorizeCall(authorizer, call('NoSuchAction'), refuse)).toThrow(/^query: /);
  });

  it('evaluates the rest with the peer address as IAM compares it', async () => {
    const { authorizer } = setup(policy({ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }));
    // Synchronous once the policies are cached: wrapped so both ways of answering are awaited alike.
    const run = async (c: ReturnType<typeof call>) => authorizeCall(authorizer, c);
    await expect(run(call('ListClusters'))).resolves.toBeUndefined();
    await expect(run({ ...call('ListClusters'), remoteAddress: '192.168.1.1' })).rejects.toThrow(/not authorized to perform: ecs:ListClusters/);
  });
});
