import { randomBytes } from 'node:crypto';
import { CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteAccessKeyCommand, IAMClient, PutUserPolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory.js';
import { rawRequest, startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';

/**
 * Two replicas on one store, sharing the key-encryption key as replicas do: an access key created on one signs
 * requests on the other, and deactivating or deleting it on one stops it on the other promptly (the informer);
 * temporary credentials from one are good on the other until they expire (a shared, injectable clock).
 */

const store = new MemoryStore();
const env = { ...process.env, BERTH_KEK: `k1 ${randomBytes(32).toString('base64')}` };
let now = Date.now();
let a: ApiFixture;
let b: ApiFixture;
const clients: { destroy(): void }[] = [];
const client = <T extends { destroy(): void }>(c: T) => (clients.push(c), c);

beforeAll(async () => {
  a = await startApiFixture({ storeInstance: store, env, now: () => now });
  b = await startApiFixture({ storeInstance: store, env, now: () => now });
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await b?.stop();
  await a?.stop();
});

const stsOn = (api: ApiFixture, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  client(new STSClient({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 }));

describe('IAM credentials across replicas', () => {
  it('a key made on one replica works on the other, and stops on the other once deactivated or deleted', async () => {
    const iamA = client(new IAMClient({ endpoint: a.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 }));
    await iamA.send(new CreateUserCommand({ UserName: 'rep' }));
    const { AccessKey } = await iamA.send(new CreateAccessKeyCommand({ UserName: 'rep' }));
    const keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    const onB = stsOn(b, keys);
    const callerOnB = () => onB.send(new GetCallerIdentityCommand({})).then((r) => r.Arn, (e: Error) => e.name);
    await expect.poll(callerOnB, { timeout: 5_000 }).toBe(`arn:aws:iam::${TEST_ACCOUNT}:user/rep`);

    await iamA.send(new UpdateAccessKeyCommand({ UserName: 'rep', AccessKeyId: keys.accessKeyId, Status: 'Inactive' }));
    await expect.poll(callerOnB, { timeout: 5_000 }).toBe('InvalidClientTokenId');
    await iamA.send(new UpdateAccessKeyCommand({ UserName: 'rep', AccessKeyId: keys.accessKeyId, Status: 'Active' }));
    await expect.poll(callerOnB, { timeout: 5_000 }).toBe(`arn:aws:iam::${TEST_ACCOUNT}:user/rep`);
    await iamA.send(new DeleteAccessKeyCommand({ UserName: 'rep', AccessKeyId: keys.accessKeyId }));
    await expect.poll(callerOnB, { timeout: 5_000 }).toBe('InvalidClientTokenId');
  });

  it('concurrent CreateAccessKey calls on both replicas never give a user more than two keys', async () => {
    const on = (api: ApiFixture) => client(new IAMClient({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 }));
    const [iamA, iamB] = [on(a), on(b)];
    await iamA.send(new CreateUserCommand({ UserName: 'race' }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? iamA : iamB).send(new CreateAccessKeyCommand({ UserName: 'race' }))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ name: 'LimitExceededException' });
    const { entries } = await store.range('iam/access-keys/');
    expect(entries.filter((e) => JSON.parse(e.value).userName === 'race')).toHaveLength(2);
  });

  it('temporary credentials from one replica are good on the other until they expire, then ExpiredToken', async () => {
    const iamA = client(new IAMClient({ endpoint: a.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 }));
    await iamA.send(new CreateUserCommand({ UserName: 'tmp' }));
    const { AccessKey } = await iamA.send(new CreateAccessKeyCommand({ UserName: 'tmp' }));
    const user = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
    // The trust policy names only the account, so the user's own policy must allow sts:AssumeRole too.
    const allowAssume = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }] });
    await iamA.send(new PutUserPolicyCommand({ UserName: 'tmp', PolicyName: 'assume', PolicyDocument: allowAssume }));
    const trust = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: TEST_ACCOUNT }, Action: 'sts:AssumeRole' }] });
    const { Role } = await iamA.send(new CreateRoleCommand({ RoleName: 'tmp-role', AssumeRolePolicyDocument: trust }));
    await expect.poll(() => stsOn(a, user).send(new GetCallerIdentityCommand({})).then(() => 'ok', (e: Error) => e.name), { timeout: 5_000 }).toBe('ok');
    const { Credentials } = await stsOn(a, user).send(new AssumeRoleCommand({ RoleArn: Role!.Arn!, RoleSessionName: 'xy', DurationSeconds: 900 }));
    const temporary = { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! };
    expect((await stsOn(b, temporary).send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${TEST_ACCOUNT}:assumed-role/tmp-role/xy`);

    now += 900_000;
    await expect(stsOn(b, temporary).send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: 'ExpiredToken', $metadata: { httpStatusCode: 403 } });
    // The same credentials on a JSON API: ECS's name for it.
    const raw = await rawRequest(b.server.url, { target: 'AmazonEC2ContainerServiceV20141113.ListClusters', keys: temporary, headers: { 'x-amz-security-token': temporary.sessionToken } });
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ __type: 'ExpiredTokenException', message: 'The security token included in the request is expired' });
    // And raw on STS: the Query error shape.
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const xml = await rawRequest(b.server.url, {
      body,
      service: 'sts',
      keys: temporary,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-amz-security-token': temporary.sessionToken },
    });
    expect(xml.status).toBe(403);
    expect(new XMLParser().parse(xml.body as string).ErrorResponse.Error).toEqual({
      Type: 'Sender',
      Code: 'ExpiredToken',
      Message: 'The security token included in the request is expired',
    });
  });
});
