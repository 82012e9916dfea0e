import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialChain, StaticCredentials } from '../../api/auth/credentials.js';
import { MemoryPolicySource } from '../../api/authz/policy-source.js';
import { parsePolicyDocument } from '../../model/iam/index.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { pushBlob, pushTestImage, putManifest, registryFetch, registryLogin, testImage, type RegistryHttp } from '../../testing/registry-client.js';

/**
 * Registry pulls and pushes are authorized as the principal whose GetAuthorizationToken issued the token,
 * per request, on the repository's ARN: a Deny on ecr:PutImage stops a push while pulls still work.
 */
const BOB = `arn:aws:iam::${TEST_ACCOUNT}:user/bob`;
const BOB_KEYS = { accessKeyId: 'AKIABOBBOBBOBBOBBOB1', secretAccessKey: 'bob-secret-0123456789abcdefghijklmnopqrst' } as const;
/** A role session whose session policy allows only logging in to the registry (its role allows ecr:*). */
const PULLER = `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/puller/s1`;
const PULLER_KEYS = { accessKeyId: 'ASIAPULLERPULLERPULL', secretAccessKey: 'puller-secret-0123456789abcdefghijklmnopq' } as const;
const pullerSession = {
  type: 'AssumedRole',
  arn: PULLER,
  accountId: TEST_ACCOUNT,
  roleArn: `arn:aws:iam::${TEST_ACCOUNT}:role/puller`,
  roleName: 'puller',
  roleId: 'AROAPULLER',
  sessionName: 's1',
  sessionPolicies: { document: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' }] }) },
} as const;
const repoArn = (name: string) => `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/${name}`;
const policy = (...statements: object[]) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');

let api: ApiFixture;
let bobEcr: ECRClient;
let root: RegistryHttp;
const policies = new MemoryPolicySource();

function bobMay(...statements: object[]) {
  policies.set(BOB, [policy(...statements)]);
  api.server.authorizer.invalidate(BOB);
}

beforeAll(async () => {
  api = await startApiFixture({
    credentials: new CredentialChain([
      new StaticCredentials({ ...BOB_KEYS, principal: { type: 'User', arn: BOB, accountId: TEST_ACCOUNT, userName: 'bob', userId: 'AIDABOB' } }),
      new StaticCredentials({ ...PULLER_KEYS, principal: pullerSession }),
    ]),
    policySource: policies,
  });
  bobEcr = new ECRClient({ endpoint: api.server.url, region: TEST_REGION, credentials: BOB_KEYS, maxAttempts: 1 });
  root = await registryLogin(api.ecr, new GetAuthorizationTokenCommand({}), api.server.url);
  for (const name of ['team/app', 'team/other']) await api.ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
});
afterAll(async () => {
  bobEcr.destroy();
  await api.stop();
});

const errorOf = async (res: Response) => ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0]!;

describe('registry authorization', () => {
  it('needs ecr:GetAuthorizationToken to log in at all', async () => {
    bobMay({ Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' });
    const e = await failure(bobEcr.send(new GetAuthorizationTokenCommand({})));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toMatch(/ecr:GetAuthorizationToken on resource: \* because no identity-based policy allows/);
  });

  it('a Deny on ecr:PutImage stops a push while pulls and layer uploads still work', async () => {
    const image = testImage();
    await pushTestImage(root, 'team/app', image, 'v1');
    bobMay(
      { Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'], Resource: '*' },
      { Effect: 'Allow', Action: ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'], Resource: repoArn('team/*') },
      { Effect: 'Deny', Action: 'ecr:PutImage', Resource: repoArn('team/app') },
    );
    const bob = await registryLogin(bobEcr, new GetAuthorizationTokenCommand({}), api.server.url);

    const pulled = await registryFetch(bob, '/v2/team/app/manifests/v1');
    expect(pulled.status).toBe(200);
    expect(await pulled.text()).toBe(image.manifestBytes);
    expect((await registryFetch(bob, `/v2/team/app/blobs/${(image.manifest.layers as { digest: string }[])[0]!.digest}`)).status).toBe(200);

    const mine = testImage();
    for (const blob of [mine.config, ...mine.layers]) await pushBlob(bob, 'team/app', blob);
    const put = await putManifest(bob, 'team/app', 'v2', mine.manifestBytes);
    expect(put.status).toBe(403);
    expect(await errorOf(put)).toEqual({
      code: 'DENIED',
      message: `User: ${BOB} is not authorized to perform: ecr:PutImage on resource: ${repoArn('team/app')} with an explicit deny in an identity-based policy`,
      detail: null,
    });
    expect((await registryFetch(root, '/v2/team/app/manifests/v2')).status).toBe(404);

    // The same user may push to the repository the Deny does not name.
    await pushTestImage(bob, 'team/other', mine, 'v2');
    expect((await registryFetch(root, '/v2/team/other/manifests/v2')).status).toBe(200);
  });

  it('is decided per request: a token issued before a policy change obeys the new policy', async () => {
    bobMay({ Effect: 'Allow', Action: ['ecr:GetAuthorizationToken', 'ecr:BatchGetImage'], Resource: '*' });
    const bob = await registryLogin(bobEcr, new GetAuthorizationTokenCommand({}), api.server.url);
    expect((await registryFetch(bob, '/v2/team/app/manifests/v1')).status).toBe(200);
    bobMay({ Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    const refused = await registryFetch(bob, '/v2/team/app/manifests/v1');
    expect(refused.status).toBe(403);
    expect((await errorOf(refused)).message).toMatch(/ecr:BatchGetImage on resource: .*repository\/team\/app because no identity-based policy allows/);
    // The base endpoint needs only a valid token (clients probe it to log in).
    expect((await registryFetch(bob, '/v2/')).status).toBe(200);
  });

  it('a role session’s token keeps its session policies: they narrow its pulls as they narrow its API calls', async () => {
    policies.set(PULLER, [policy({ Effect: 'Allow', Action: 'ecr:*', Resource: '*' })]);
    const ecr = new ECRClient({ endpoint: api.server.url, region: TEST_REGION, credentials: PULLER_KEYS, maxAttempts: 1 });
    try {
      const puller = await registryLogin(ecr, new GetAuthorizationTokenCommand({}), api.server.url);
      const refused = await registryFetch(puller, '/v2/team/app/manifests/v1');
      expect(refused.status).toBe(403);
      expect((await errorOf(refused)).message).toBe(
        `User: ${PULLER} is not authorized to perform: ecr:BatchGetImage on resource: ${repoArn('team/app')} because no session policy allows the ecr:BatchGetImage action`,
      );
    } finally {
      ecr.destroy();
    }
  });
});
