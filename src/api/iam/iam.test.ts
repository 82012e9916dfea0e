import {
  AddUserToGroupCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateGroupCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeletePolicyCommand,
  DeletePolicyVersionCommand,
  DeleteRoleCommand,
  DeleteUserCommand,
  DetachUserPolicyCommand,
  GetGroupCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListEntitiesForPolicyCommand,
  ListGroupsForUserCommand,
  ListPoliciesCommand,
  ListPolicyVersionsCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  RemoveUserFromGroupCommand,
  SetDefaultPolicyVersionCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateUserCommand,
  DeleteUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { ListClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';

/**
 * IAM and STS through the AWS SDK against an in-process server (responses checked against the models' output
 * shapes): the state each action keeps, IAM's limits and conflicts, and the credentials they issue accepted by SigV4.
 */

let api: ApiFixture;
let iam: IAMClient;
let sts: STSClient;
type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
const clients: { destroy(): void }[] = [];
const stsAs = (credentials: Keys) => track(new STSClient({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
const iamAs = (credentials: Keys) => track(new IAMClient({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
const ecsAs = (credentials: Keys) => track(new ECSClient({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));
function track<T extends { destroy(): void }>(c: T): T {
  clients.push(c);
  return c;
}
const trustFor = (arn: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: arn }, Action: 'sts:AssumeRole' }] });
const allowAll = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

beforeAll(async () => {
  api = await startApiFixture();
  iam = iamAs(TEST_KEYS);
  sts = stsAs(TEST_KEYS);
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await api?.stop();
});

/** An identity policy allowing `actions` on every resource. */
const allow = (actions: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] });

describe('users and access keys', () => {
  it('creates, reads, lists, tags, renames and deletes a user', async () => {
    const { User } = await iam.send(new CreateUserCommand({ UserName: 'alice', Path: '/team/', Tags: [{ Key: 'k', Value: 'v' }] }));
    expect(User).toMatchObject({ UserName: 'alice', Path: '/team/', Arn: `arn:aws:iam::${TEST_ACCOUNT}:user/team/alice` });
    expect(User!.UserId).toMatch(/^AIDA[A-Z2-7]{17}$/);
    expect(User!.CreateDate).toBeInstanceOf(Date);
    await expect(iam.send(new CreateUserCommand({ UserName: 'ALICE' }))).rejects.toMatchObject({ name: 'EntityAlreadyExistsException', $metadata: { httpStatusCode: 409 } });
    expect((await iam.send(new GetUserCommand({ UserName: 'alice' }))).User).toMatchObject({ UserId: User!.UserId, Tags: [{ Key: 'k', Value: 'v' }] });
    await iam.send(new TagUserCommand({ UserName: 'alice', Tags: [{ Key: 'a', Value: '1' }] }));
    await iam.send(new UntagUserCommand({ UserName: 'alice', TagKeys: ['k'] }));
    expect((await iam.send(new ListUserTagsCommand({ UserName: 'alice' }))).Tags).toEqual([{ Key: 'a', Value: '1' }]);
    expect((await iam.send(new ListUsersCommand({ PathPrefix: '/team/' }))).Users!.map((u) => u.UserName)).toEqual(['alice']);
    expect((await iam.send(new ListUsersCommand({ PathPrefix: '/other/' }))).Users).toEqual([]);
    await iam.send(new UpdateUserCommand({ UserName: 'alice', NewUserName: 'alice2', NewPath: '/' }));
    await expect(iam.send(new GetUserCommand({ UserName: 'alice' }))).rejects.toMatchObject({ name: 'NoSuchEntityException', $metadata: { httpStatusCode: 404 } });
    await iam.send(new DeleteUserCommand({ UserName: 'alice2' }));
    await expect(iam.send(new DeleteUserCommand({ UserName: 'alice2' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
  });

  it('pages users with Marker and MaxItems', async () => {
    for (const n of ['p1', 'p2', 'p3']) await iam.send(new CreateUserCommand({ UserName: n, Path: '/paged/' }));
    const first = await iam.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 2 }));
    expect(first.Users!.map((u) => u.UserName)).toEqual(['p1', 'p2']);
    expect(first.IsTruncated).toBe(true);
    const second = await iam.send(new ListUsersCommand({ PathPrefix: '/paged/', MaxItems: 2, Marker: first.Marker! }));
    expect(second.Users!.map((u) => u.UserName)).toEqual(['p3']);
    expect(second.IsTruncated).toBe(false);
    for (const n of ['p1', 'p2', 'p3']) await iam.send(new DeleteUserCommand({ UserName: n }));
  });

  it('issues at most two keys, which sign requests while Active, and none once Inactive or deleted', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'bob' }));
    // What bob's keys are used for below (authorization is a step of every call: a user without policies may do nothing).
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'calls', PolicyDocument: allow(['ecs:ListClusters', 'iam:ListAccessKeys', 'iam:GetUser']) }),
    );
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    expect(AccessKey!.AccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(AccessKey!.SecretAccessKey).toHaveLength(40);
    await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
    await expect(iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }))).rejects.toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 409 } });
    const keys: Keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };

    const identity = await stsAs(keys).send(new GetCallerIdentityCommand({}));
    expect(identity).toMatchObject({ Account: TEST_ACCOUNT, Arn: `arn:aws:iam::${TEST_ACCOUNT}:user/bob` });
    expect(identity.UserId).toMatch(/^AIDA/);
    expect((await ecsAs(keys).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);
    // Without a name, the access-key actions are about the caller.
    expect((await iamAs(keys).send(new ListAccessKeysCommand({}))).AccessKeyMetadata).toHaveLength(2);
    expect((await iamAs(keys).send(new GetUserCommand({}))).User!.UserName).toBe('bob');

    await iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: keys.accessKeyId, Status: 'Inactive' }));
    await expect(ecsAs(keys).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(stsAs(keys).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } });
    await iam.send(new UpdateAccessKeyCommand({ UserName: 'bob', AccessKeyId: keys.accessKeyId, Status: 'Active' }));
    expect((await ecsAs(keys).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);

    await expect(iam.send(new DeleteUserCommand({ UserName: 'bob' }))).rejects.toMatchObject({ name: 'DeleteConflictException', $metadata: { httpStatusCode: 409 } });
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: keys.accessKeyId }));
    await expect(ecsAs(keys).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    const left = (await iam.send(new ListAccessKeysCommand({ UserName: 'bob' }))).AccessKeyMetadata!;
    expect(left).toHaveLength(1);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: left[0]!.AccessKeyId! }));
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'bob', PolicyName: 'calls' }));
    await iam.send(new DeleteUserCommand({ UserName: 'bob' }));
  });

  it('keeps secrets sealed in the store', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'sealed' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'sealed' }));
    const { entries } = await api.server.store.range('iam/');
    const all = entries.map((e) => e.value).join('\n');
    expect(all).toContain(AccessKey!.AccessKeyId!);
    expect(all).not.toContain(AccessKey!.SecretAccessKey!);
  });
});

describe('groups and policies', () => {
  it('puts users in groups and refuses to delete a group with members', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'carol' }));
    await iam.send(new CreateGroupCommand({ GroupName: 'devs' }));
    await iam.send(new AddUserToGroupCommand({ GroupName: 'devs', UserName: 'carol' }));
    const group = await iam.send(new GetGroupCommand({ GroupName: 'devs' }));
    expect(group.Group!.GroupId).toMatch(/^AGPA/);
    expect(group.Users!.map((u) => u.UserName)).toEqual(['carol']);
    expect((await iam.send(new ListGroupsForUserCommand({ UserName: 'carol' }))).Groups!.map((g) => g.GroupName)).toEqual(['devs']);
    await expect(iam.send(new DeleteUserCommand({ UserName: 'carol' }))).rejects.toMatchObject({ name: 'DeleteConflictException' });
    await iam.send(new RemoveUserFromGroupCommand({ GroupName: 'devs', UserName: 'carol' }));
    await iam.send(new DeleteUserCommand({ UserName: 'carol' }));
  });

  it('keeps inline policies, returned URL-encoded, and refuses malformed ones', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'dave' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'dave', PolicyName: 'all', PolicyDocument: allowAll }));
    const got = await iam.send(new GetUserPolicyCommand({ UserName: 'dave', PolicyName: 'all' }));
    expect(decodeURIComponent(got.PolicyDocument!)).toBe(allowAll);
    expect(got.PolicyDocument).toContain('%22');
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'dave' }))).PolicyNames).toEqual(['all']);
    await expect(iam.send(new PutUserPolicyCommand({ UserName: 'dave', PolicyName: 'bad', PolicyDocument: '{"Statement": 1' }))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(iam.send(new GetUserPolicyCommand({ UserName: 'dave', PolicyName: 'bad' }))).rejects.toMatchObject({ name: 'NoSuchEntityException' });
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'dave', PolicyName: 'all' }));
    await iam.send(new DeleteUserCommand({ UserName: 'dave' }));
  });

  it('refuses oversized and malformed documents and writes nothing; accepts actions it does not know, as IAM does', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'erin' }));
    const statement = (i: number) => ({ Sid: `S${i}`, Effect: 'Allow', Action: `ecs:DescribeClusters`, Resource: `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/c${i}` });
    // A user's inline policies may hold 2,048 characters (white space not counted).
    const big = JSON.stringify({ Version: '2012-10-17', Statement: Array.from({ length: 25 }, (_, i) => statement(i)) });
    expect(big.length).toBeGreaterThan(2_048);
    await expect(iam.send(new PutUserPolicyCommand({ UserName: 'erin', PolicyName: 'big', PolicyDocument: big }))).rejects.toMatchObject({
      name: 'LimitExceededException',
      $metadata: { httpStatusCode: 409 },
    });
    const localPolicies = async () => (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies!.map((p) => p.PolicyName);
    const before = await localPolicies();
    await expect(iam.send(new CreatePolicyCommand({ PolicyName: 'broken', PolicyDocument: '{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}' }))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
    });
    expect(await localPolicies()).toEqual(before);
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'erin' }))).PolicyNames).toEqual([]);
    const unknown = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:NoSuchActionYet', Resource: '*' }] });
    await iam.send(new PutUserPolicyCommand({ UserName: 'erin', PolicyName: 'future', PolicyDocument: unknown }));
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'erin' }))).PolicyNames).toEqual(['future']);
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'erin', PolicyName: 'future' }));
    await iam.send(new DeleteUserCommand({ UserName: 'erin' }));
  });

  it('versions managed policies (five at most), attaches them and refuses to delete an attached one', async () => {
    const { Policy } = await iam.send(new CreatePolicyCommand({ PolicyName: 'ops', Path: '/p/', PolicyDocument: allowAll }));
    const arn = `arn:aws:iam::${TEST_ACCOUNT}:policy/p/ops`;
    expect(Policy).toMatchObject({ Arn: arn, DefaultVersionId: 'v1', AttachmentCount: 0 });
    expect(Policy!.PolicyId).toMatch(/^ANPA/);
    for (let i = 2; i <= 5; i++) await iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: allowAll, SetAsDefault: i === 3 }));
    await expect(iam.send(new CreatePolicyVersionCommand({ PolicyArn: arn, PolicyDocument: allowAll }))).rejects.toMatchObject({ name: 'LimitExceededException' });
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.DefaultVersionId).toBe('v3');
    await expect(iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: 'v3' }))).rejects.toMatchObject({ name: 'DeleteConflictException' });
    await iam.send(new SetDefaultPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }));
    for (const v of ['v1', 'v2', 'v3', 'v4']) await iam.send(new DeletePolicyVersionCommand({ PolicyArn: arn, VersionId: v }));
    const versions = (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: arn }))).Versions!;
    expect(versions.map((v) => [v.VersionId, v.IsDefaultVersion])).toEqual([['v5', true]]);
    expect(decodeURIComponent((await iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: 'v5' }))).PolicyVersion!.Document!)).toBe(allowAll);

    await iam.send(new CreateUserCommand({ UserName: 'erin' }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'erin', PolicyArn: arn }));
    await iam.send(new AttachUserPolicyCommand({ UserName: 'erin', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    expect((await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'erin' }))).AttachedPolicies!.map((p) => p.PolicyName).sort()).toEqual([
      'AdministratorAccess',
      'ops',
    ]);
    expect((await iam.send(new ListEntitiesForPolicyCommand({ PolicyArn: arn }))).PolicyUsers!.map((u) => u.UserName)).toEqual(['erin']);
    expect((await iam.send(new GetPolicyCommand({ PolicyArn: arn }))).Policy!.AttachmentCount).toBe(1);
    await expect(iam.send(new DeletePolicyCommand({ PolicyArn: arn }))).rejects.toMatchObject({ name: 'DeleteConflictException' });
    await expect(iam.send(new AttachUserPolicyCommand({ UserName: 'erin', PolicyArn: `arn:aws:iam::${TEST_ACCOUNT}:policy/none` }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
    await iam.send(new DetachUserPolicyCommand({ UserName: 'erin', PolicyArn: arn }));
    await iam.send(new DeletePolicyCommand({ PolicyArn: arn }));
    const local = (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies!;
    expect(local.map((p) => p.Arn)).not.toContain(arn);
    const aws = (await iam.send(new ListPoliciesCommand({ Scope: 'AWS', OnlyAttached: true }))).Policies!;
    expect(aws.map((p) => p.PolicyName)).toEqual(['AdministratorAccess']);
  });
});

describe('roles and STS', () => {
  it('assumes a role whose trust policy names the caller, and refuses one whose trust does not', async () => {
    await iam.send(new CreateUserCommand({ UserName: 'frank' }));
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'frank' }));
    const frank: Keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    const userArn = `arn:aws:iam::${TEST_ACCOUNT}:user/frank`;
    const { Role } = await iam.send(new CreateRoleCommand({ RoleName: 'deployer', Path: '/ci/', AssumeRolePolicyDocument: trustFor(userArn), MaxSessionDuration: 7200 }));
    expect(Role!.RoleId).toMatch(/^AROA/);
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deployer', PolicyName: 'calls', PolicyDocument: allow(['ecs:ListClusters']) }));
    expect(decodeURIComponent((await iam.send(new GetRoleCommand({ RoleName: 'deployer' }))).Role!.AssumeRolePolicyDocument!)).toBe(trustFor(userArn));

    const assumed = await stsAs(frank).send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'build-42', DurationSeconds: 900 }));
    expect(assumed.Credentials!.AccessKeyId).toMatch(/^ASIA/);
    expect(assumed.Credentials!.Expiration!.getTime() - Date.now()).toBeGreaterThan(800_000);
    expect(assumed.AssumedRoleUser).toEqual({ AssumedRoleId: `${Role!.RoleId}:build-42`, Arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/deployer/build-42` });
    const temporary: Keys = {
      accessKeyId: assumed.Credentials!.AccessKeyId!,
      secretAccessKey: assumed.Credentials!.SecretAccessKey!,
      sessionToken: assumed.Credentials!.SessionToken!,
    };
    expect(await stsAs(temporary).send(new GetCallerIdentityCommand({}))).toMatchObject({
      Arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/deployer/build-42`,
      UserId: `${Role!.RoleId}:build-42`,
    });
    expect((await ecsAs(temporary).send(new ListClustersCommand({}))).$metadata.httpStatusCode).toBe(200);
    // The token belongs to its key: another key's token, or none, is refused.
    await expect(ecsAs({ ...temporary, sessionToken: undefined }).send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    const other = await stsAs(frank).send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'other' }));
    await expect(ecsAs({ ...temporary, sessionToken: other.Credentials!.SessionToken! }).send(new ListClustersCommand({}))).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });

    await expect(stsAs(frank).send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 's', DurationSeconds: 7201 }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
    await expect(stsAs(frank).send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'bad name!' }))).rejects.toMatchObject({ name: 'ValidationError' });
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'deployer', PolicyDocument: trustFor(`arn:aws:iam::${TEST_ACCOUNT}:user/someone-else`) }));
    await expect(stsAs(frank).send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'again' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: `User: ${userArn} is not authorized to perform: sts:AssumeRole on resource: ${Role!.Arn}`,
      $metadata: { httpStatusCode: 403 },
    });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'root' }))).rejects.toMatchObject({ name: 'AccessDenied' });
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'deployer', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await expect(iam.send(new DeleteRoleCommand({ RoleName: 'deployer' }))).rejects.toMatchObject({ name: 'DeleteConflictException' });
  });

  it('identifies the root caller and issues session tokens', async () => {
    expect(await sts.send(new GetCallerIdentityCommand({}))).toMatchObject({ UserId: TEST_ACCOUNT, Account: TEST_ACCOUNT, Arn: `arn:aws:iam::${TEST_ACCOUNT}:root` });
    const { Credentials } = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    const temporary = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    expect((await stsAs(temporary).send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${TEST_ACCOUNT}:root`);
  });
});
