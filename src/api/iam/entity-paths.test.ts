import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, GetRoleCommand, GetUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';

/**
 * IAM actions on an entity named by its name are authorized on its real ARN, path included: a user created at
 * /team/ is `arn:aws:iam::<account>:user/team/<name>`, which is what policies scoped to `user/team/*` name.
 */
let api: ApiFixture;
let iam: IAMClient;
let admin: IAMClient;
const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const arn = (rest: string) => `arn:aws:iam::${TEST_ACCOUNT}:${rest}`;

beforeAll(async () => {
  api = await startApiFixture();
  iam = new IAMClient({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
  await iam.send(new CreateUserCommand({ UserName: 'lead' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'lead' }));
  admin = new IAMClient({ endpoint: api.server.url, region: TEST_REGION, credentials: { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! }, maxAttempts: 1 });
  await iam.send(new CreateUserCommand({ UserName: 'Ana', Path: '/team/' }));
  await iam.send(new CreateUserCommand({ UserName: 'bo' }));
  await iam.send(new CreateRoleCommand({ RoleName: 'svc', Path: '/team/ops/', AssumeRolePolicyDocument: doc({ Effect: 'Allow', Principal: { AWS: TEST_ACCOUNT }, Action: 'sts:AssumeRole' }) }));
});
afterAll(async () => {
  admin?.destroy();
  iam?.destroy();
  await api?.stop();
});

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'allowed',
    (e: Error) => `${e.name}: ${e.message}`,
  );

describe('IAM entities under a path', () => {
  it('a policy on user/team/* and role/team/* covers the entities there, named by name (any case), and no others', async () => {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'lead',
        PolicyName: 'team',
        PolicyDocument: doc({ Effect: 'Allow', Action: ['iam:GetUser', 'iam:GetRole'], Resource: [arn('user/team/*'), arn('role/team/*')] }),
      }),
    );
    await expect.poll(() => outcome(admin.send(new GetUserCommand({ UserName: 'Ana' }))), { timeout: 5_000 }).toBe('allowed');
    // IAM names are case-insensitive: the ARN is the stored name's.
    expect(await outcome(admin.send(new GetUserCommand({ UserName: 'ana' })))).toBe('allowed');
    expect(await outcome(admin.send(new GetRoleCommand({ RoleName: 'svc' })))).toBe('allowed');
    expect(await outcome(admin.send(new GetUserCommand({ UserName: 'bo' })))).toBe(
      `AccessDenied: User: ${arn('user/lead')} is not authorized to perform: iam:GetUser on resource: ${arn('user/bo')} because no identity-based policy allows the iam:GetUser action`,
    );
    // One that does not exist is authorized under the root path, then (if allowed) not found.
    expect(await outcome(admin.send(new GetUserCommand({ UserName: 'ghost' })))).toMatch(/on resource: arn:aws:iam::\d+:user\/ghost because/);
  });

  it('a Deny on user/team/* refuses the entity there although an Allow on * lets the rest through', async () => {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'lead',
        PolicyName: 'team',
        PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }, { Effect: 'Deny', Action: 'iam:GetUser', Resource: arn('user/team/*') }),
      }),
    );
    await expect.poll(() => outcome(admin.send(new GetUserCommand({ UserName: 'bo' }))), { timeout: 5_000 }).toBe('allowed');
    expect(await outcome(admin.send(new GetUserCommand({ UserName: 'Ana' })))).toBe(
      `AccessDenied: User: ${arn('user/lead')} is not authorized to perform: iam:GetUser on resource: ${arn('user/team/Ana')} with an explicit deny in an identity-based policy`,
    );
  });
});
