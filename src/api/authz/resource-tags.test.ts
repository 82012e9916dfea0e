import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateClusterCommand, DescribeClustersCommand, ECSClient, TagResourceCommand } from '@aws-sdk/client-ecs';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';

/**
 * aws:ResourceTag/… against an in-process server: an IAM user's policies conditioned on the tags ECS clusters and
 * Secrets Manager secrets keep in their records, read by the authorization step; a tag changed applies to the
 * next call.
 */
let api: ApiFixture;
let iam: IAMClient;
let ecs: ECSClient;
let secrets: SecretsManagerClient;
let userEcs: ECSClient;
let userSecrets: SecretsManagerClient;
const USER = `arn:aws:iam::${TEST_ACCOUNT}:user/tagged`;
const doc = (...statements: object[]) => JSON.stringify({ Version: '2012-10-17', Statement: statements });
const clusterArn = (name: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/${name}`;
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'allowed',
    (e: Error) => `${e.name}: ${e.message}`,
  );

beforeAll(async () => {
  api = await startApiFixture();
  const config = (credentials: { accessKeyId: string; secretAccessKey: string }) => ({ endpoint: api.server.url, region: TEST_REGION, credentials, maxAttempts: 1 });
  iam = new IAMClient(config(TEST_KEYS));
  ecs = new ECSClient(config(TEST_KEYS));
  secrets = new SecretsManagerClient(config(TEST_KEYS));
  await iam.send(new CreateUserCommand({ UserName: 'tagged' }));
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'tagged' }));
  const keys = { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  userEcs = new ECSClient(config(keys));
  userSecrets = new SecretsManagerClient(config(keys));
});
afterAll(async () => {
  for (const c of [iam, ecs, secrets, userEcs, userSecrets]) c?.destroy();
  await api?.stop();
});

describe('aws:ResourceTag/… from the resources’ records', () => {
  it('ECS clusters: allowed on the cluster tagged team=a, refused on the others; a retag applies at once', async () => {
    await ecs.send(new CreateClusterCommand({ clusterName: 'team-a', tags: [{ key: 'team', value: 'a' }] }));
    await ecs.send(new CreateClusterCommand({ clusterName: 'team-b', tags: [{ key: 'team', value: 'b' }] }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'tagged',
        PolicyName: 'by-tag',
        PolicyDocument: doc(
          { Effect: 'Allow', Action: 'ecs:DescribeClusters', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': 'a' } } },
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
          { Effect: 'Deny', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/env': 'prod' } } },
        ),
      }),
    );
    await expect.poll(() => outcome(userEcs.send(new DescribeClustersCommand({ clusters: ['team-a'] }))), { timeout: 5_000 }).toBe('allowed');
    expect(await outcome(userEcs.send(new DescribeClustersCommand({ clusters: ['team-b'] })))).toBe(
      `AccessDeniedException: User: ${USER} is not authorized to perform: ecs:DescribeClusters on resource: ${clusterArn('team-b')} because no identity-based policy allows the ecs:DescribeClusters action`,
    );
    await ecs.send(new TagResourceCommand({ resourceArn: clusterArn('team-b'), tags: [{ key: 'team', value: 'a' }] }));
    expect(await outcome(userEcs.send(new DescribeClustersCommand({ clusters: ['team-b'] })))).toBe('allowed');
  });

  it('Secrets Manager: a Deny on secrets tagged env=prod refuses that secret, by name, while others are read', async () => {
    await secrets.send(new CreateSecretCommand({ Name: 'db/prod', SecretString: 'p', Tags: [{ Key: 'env', Value: 'prod' }] }));
    await secrets.send(new CreateSecretCommand({ Name: 'db/dev', SecretString: 'd', Tags: [{ Key: 'env', Value: 'dev' }] }));
    expect(await outcome(userSecrets.send(new GetSecretValueCommand({ SecretId: 'db/dev' })))).toBe('allowed');
    expect(await outcome(userSecrets.send(new GetSecretValueCommand({ SecretId: 'db/prod' })))).toMatch(
      /^AccessDeniedException: User: .* is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:[^:]+:\d+:secret:db\/prod-\w{6} with an explicit deny in an identity-based policy$/,
    );
  });
});
