import { randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreatePolicyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { ECSClient, ListClustersCommand, RunTaskCommand, DescribeClustersCommand } from '@aws-sdk/client-ecs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';

/**
 * AssumeRole against an in-process server through the AWS SDK: a trust policy naming only the account delegates
 * to the caller's identity policies (IAM User Guide, "Cross-account policy evaluation logic"; "How to use trust
 * policies with IAM roles"), and session policies (Policy, PolicyArns) narrow the session they make.
 */

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
let api: ApiFixture;
let iam: IAMClient;
const clients: { destroy(): void }[] = [];
function track<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}
const stsAs = (credentials: Keys) => track(new STSClient({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
const ecsAs = (credentials: Keys) => track(new ECSClient({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const trusting = (principal: string) => doc({ Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' });
const roleArn = (name: string) => `arn:aws:iam::${TEST_ACCOUNT}:role/${name}`;

beforeAll(async () => {
  api = await startApiFixture();
  iam = track(new IAMClient({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 }));
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await api?.stop();
});

async function user(name: string): Promise<Keys> {
  await iam.send(new CreateUserCommand({ UserName: name }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  // Usable once this replica's key cache has it (a plain deadline loop: this also runs in beforeAll, where expect.poll cannot).
  const deadline = Date.now() + 5_000;
  for (;;) {
    const failure = await stsAs(keys).send(new GetCallerIdentityCommand({})).then(() => undefined, (e: Error) => e);
    if (!failure) return keys;
    if (Date.now() > deadline) throw failure;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** AssumeRole's outcome: the credentials, or the error's name and message. */
async function assume(keys: Keys, input: AssumeRoleCommandInput): Promise<Keys | { name: string; message: string }> {
  try {
    const { Credentials } = await stsAs(keys).send(new AssumeRoleCommand(input));
    return { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
}
const outcomeOf = (r: Awaited<ReturnType<typeof assume>>) => ('accessKeyId' in r ? 'assumed' : `${r.name}: ${r.message}`);
/** Credentials AssumeRole must give. */
async function assumed(keys: Keys, input: AssumeRoleCommandInput): Promise<Keys> {
  const r = await assume(keys, input);
  if (!('accessKeyId' in r)) throw new Error(`AssumeRole refused: ${r.name}: ${r.message}`);
  return r;
}

describe('AssumeRole: trust policy and the caller’s identity policies', () => {
  it('a trust naming the account needs the caller’s own policies to allow sts:AssumeRole on the role; one naming the caller does not', async () => {
    const carol = await user('carol');
    const carolArn = `arn:aws:iam::${TEST_ACCOUNT}:user/carol`;
    await iam.send(new CreateRoleCommand({ RoleName: 'by-account', AssumeRolePolicyDocument: trusting(`arn:aws:iam::${TEST_ACCOUNT}:root`) }));
    await iam.send(new CreateRoleCommand({ RoleName: 'by-id', AssumeRolePolicyDocument: trusting(TEST_ACCOUNT) }));
    await iam.send(new CreateRoleCommand({ RoleName: 'by-name', AssumeRolePolicyDocument: trusting(carolArn) }));

    // No identity policy: only the role naming carol lets her in.
    expect(outcomeOf(await assume(carol, { RoleArn: roleArn('by-name'), RoleSessionName: 'ss' }))).toBe('assumed');
    expect(outcomeOf(await assume(carol, { RoleArn: roleArn('by-account'), RoleSessionName: 'ss' }))).toBe(
      `AccessDenied: User: ${carolArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn('by-account')} because no identity-based policy allows the sts:AssumeRole action`,
    );
    expect(outcomeOf(await assume(carol, { RoleArn: roleArn('by-id'), RoleSessionName: 'ss' }))).toMatch(/^AccessDenied: .*because no identity-based policy allows/);

    // Her policy allows one of the two: that one opens, once the change reached the replica.
    await iam.send(new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'assume', PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn('by-account') }) }));
    await expect.poll(async () => outcomeOf(await assume(carol, { RoleArn: roleArn('by-account'), RoleSessionName: 'ss' })), { timeout: 5_000 }).toBe('assumed');
    expect(outcomeOf(await assume(carol, { RoleArn: roleArn('by-id'), RoleSessionName: 'ss' }))).toMatch(/on resource: .*role\/by-id because no identity-based policy/);

    // An explicit deny in her policy does not close a role whose trust names her (the trust alone grants it)…
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'carol', PolicyName: 'deny', PolicyDocument: doc({ Effect: 'Deny', Action: 'sts:AssumeRole', Resource: roleArn('by-account') }) }),
    );
    await expect
      .poll(async () => outcomeOf(await assume(carol, { RoleArn: roleArn('by-account'), RoleSessionName: 'ss' })), { timeout: 5_000 })
      .toMatch(/with an explicit deny in an identity-based policy$/);
    // …and a role that does not exist is refused in the trust's words, giving nothing away.
    expect(outcomeOf(await assume(carol, { RoleArn: roleArn('nowhere'), RoleSessionName: 'ss' }))).toBe(
      `AccessDenied: User: ${carolArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn('nowhere')}`,
    );
  });

  it('a role session (role chaining) is asked the same: its role’s policies decide an account-only trust', async () => {
    const dave = await user('dave');
    await iam.send(new CreateRoleCommand({ RoleName: 'hop', AssumeRolePolicyDocument: trusting(`arn:aws:iam::${TEST_ACCOUNT}:user/dave`) }));
    await iam.send(new CreateRoleCommand({ RoleName: 'target', AssumeRolePolicyDocument: trusting(TEST_ACCOUNT) }));
    const hop = await assumed(dave, { RoleArn: roleArn('hop'), RoleSessionName: 'hh' });
    expect(outcomeOf(await assume(hop, { RoleArn: roleArn('target'), RoleSessionName: 'tt' }))).toMatch(
      new RegExp(`^AccessDenied: User: arn:aws:sts::${TEST_ACCOUNT}:assumed-role/hop/hh is not authorized .* because no identity-based policy allows`),
    );
    await iam.send(new PutRolePolicyCommand({ RoleName: 'hop', PolicyName: 'assume', PolicyDocument: doc({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }) }));
    await expect.poll(async () => outcomeOf(await assume(hop, { RoleArn: roleArn('target'), RoleSessionName: 'tt' })), { timeout: 5_000 }).toBe('assumed');
  });
});

describe('AssumeRole: session policies', () => {
  let eve: Keys;
  beforeAll(async () => {
    eve = await user('eve');
    await iam.send(new CreateRoleCommand({ RoleName: 'ops', AssumeRolePolicyDocument: trusting(`arn:aws:iam::${TEST_ACCOUNT}:user/eve`) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'ops', PolicyName: 'ecs', PolicyDocument: doc({ Effect: 'Allow', Action: 'ecs:*', Resource: '*' }) }));
  });

  it('a session policy allowing only ecs:ListClusters on a role allowing ecs:* refuses RunTask; the role’s other sessions keep ecs:*', async () => {
    const { Credentials, PackedPolicySize } = await stsAs(eve).send(
      new AssumeRoleCommand({ RoleArn: roleArn('ops'), RoleSessionName: 'narrow', Policy: doc({ Effect: 'Allow', Action: 'ecs:ListClusters', Resource: '*' }) }),
    );
    expect(PackedPolicySize).toBeGreaterThan(0);
    expect(PackedPolicySize).toBeLessThan(20);
    const narrow = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    expect((await ecsAs(narrow).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);
    await expect(ecsAs(narrow).send(new RunTaskCommand({ taskDefinition: 'web:1' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: `User: arn:aws:sts::${TEST_ACCOUNT}:assumed-role/ops/narrow is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task-definition/web:1 because no session policy allows the ecs:RunTask action`,
    });
    // A session of the same name without a session policy: the role's ecs:* (RunTask gets past authorization).
    const wide = await assumed(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'narrow' });
    await expect(ecsAs(wide).send(new RunTaskCommand({ taskDefinition: 'web:1' }))).rejects.not.toMatchObject({ name: 'AccessDeniedException' });
    // A session policy never adds: iam:* is still the role's to refuse.
    const widest = await assumed(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'ww', Policy: doc({ Effect: 'Allow', Action: '*', Resource: '*' }) });
    expect(outcomeOf(await assume(widest, { RoleArn: roleArn('ops'), RoleSessionName: 'again' }))).toMatch(/^AccessDenied/);
  });

  it('PolicyArns: a customer managed policy narrows the session to what it allows', async () => {
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'describe-only', PolicyDocument: doc({ Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*' }) }));
    const session = await assumed(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'arns', PolicyArns: [{ arn: Policy!.Arn! }] });
    expect((await ecsAs(session).send(new DescribeClustersCommand({ clusters: ['default'] }))).$metadata.httpStatusCode).toBe(200);
    await expect(ecsAs(session).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringMatching(/no session policy allows/) });
  });

  // The SDK names the error by its shape (PackedPolicyTooLargeException) from the wire code PackedPolicyTooLarge.
  it('bad session policies are refused with STS’s errors', async () => {
    expect(outcomeOf(await assume(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'xx', Policy: '{"Statement": 3}' }))).toMatch(/^MalformedPolicyDocument/);
    const arn = (i: number) => `arn:aws:iam::${TEST_ACCOUNT}:policy/${randomBytes(150).toString('base64url')}-${i}`;
    const many = Array.from({ length: 10 }, (_, i) => ({ arn: arn(i) }));
    expect(outcomeOf(await assume(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'xx', PolicyArns: many }))).toMatch(
      /^PackedPolicyTooLargeException: Packed policy consumes \d{3}% of allotted space/,
    );
    expect(outcomeOf(await assume(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'xx', PolicyArns: [...many, { arn: arn(10) }] }))).toMatch(/^ValidationError: .*policyArns/);
    expect(outcomeOf(await assume(eve, { RoleArn: roleArn('ops'), RoleSessionName: 'xx', PolicyArns: [{ arn: roleArn('ops') }] }))).toMatch(/^ValidationError/);
  });
});
