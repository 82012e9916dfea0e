import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  DescribeClustersCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicyDocument } from '../../model/iam/index.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { StaticCredentials } from '../auth/credentials.js';
import { MemoryPolicySource } from './policy-source.js';

/**
 * The authorization step through the real listener: SDK clients signed with a non-root IAM user's keys (a
 * static credential store standing in for the IAM state), policies from a memory PolicySource.
 */
const ALICE = `arn:aws:iam::${TEST_ACCOUNT}:user/alice`;
const ALICE_KEYS = { accessKeyId: 'AKIAALICEALICEALICE1', secretAccessKey: 'alice-secret-0123456789abcdefghijklmnopq' } as const;
const ecsArn = (r: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:${r}`;
const policy = (...statements: object[]) => parsePolicyDocument(JSON.stringify({ Version: '2012-10-17', Statement: statements }), 'identity');

let api: ApiFixture;
const policies = new MemoryPolicySource();
let ecs: ECSClient;
let ecr: ECRClient;
let logs: CloudWatchLogsClient;

beforeAll(async () => {
  api = await startApiFixture({
    credentials: new StaticCredentials({ ...ALICE_KEYS, principal: { type: 'User', arn: ALICE, accountId: TEST_ACCOUNT, userName: 'alice', userId: 'AIDAALICE' } }),
    policySource: policies,
  });
  const as = { endpoint: api.server.url, region: TEST_REGION, credentials: ALICE_KEYS, maxAttempts: 1 };
  ecs = new ECSClient(as);
  ecr = new ECRClient(as);
  logs = new CloudWatchLogsClient(as);
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'prod' }));
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'dev' }));
});
afterAll(async () => {
  ecs.destroy();
  ecr.destroy();
  logs.destroy();
  await api.stop();
});

/** Give alice these policies from now on (the IAM state would call the same hook). */
function allowAlice(...statements: object[]) {
  policies.set(ALICE, statements.length > 0 ? [policy(...statements)] : []);
  api.server.authorizer.invalidate(ALICE);
}

describe('authorization on the listener', () => {
  it('a user limited to ecs:Describe* on one cluster describes it and nothing else', async () => {
    allowAlice({ Effect: 'Allow', Action: 'ecs:Describe*', Resource: ecsArn('cluster/prod') });
    const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: ['prod'] }));
    expect(clusters?.map((c) => c.clusterName)).toEqual(['prod']);

    const other = await failure(ecs.send(new DescribeClustersCommand({ clusters: ['dev'] })));
    expect(other.name).toBe('AccessDeniedException');
    expect(other.status).toBe(400);
    expect(other.message).toBe(
      `User: ${ALICE} is not authorized to perform: ecs:DescribeClusters on resource: ${ecsArn('cluster/dev')} because no identity-based policy allows the ecs:DescribeClusters action`,
    );
    const run = await failure(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'web:1' })));
    expect(run.name).toBe('AccessDeniedException');
    expect(run.message).toMatch(/ecs:RunTask on resource: .*task-definition\/web:1 because no identity-based policy allows the ecs:RunTask action/);
  });

  it('changes nothing when it refuses', async () => {
    allowAlice({ Effect: 'Allow', Action: 'ecs:RegisterTaskDefinition', Resource: '*' });
    const denied = await failure(
      ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'passes-a-role',
          taskRoleArn: 'arn:aws:iam::123456789012:role/app',
          containerDefinitions: [{ name: 'c', image: 'busybox', memory: 64 }],
        }),
      ),
    );
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toBe(
      `User: ${ALICE} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/app because no identity-based policy allows the iam:PassRole action`,
    );
    const { taskDefinitionArns } = await api.ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'passes-a-role' }));
    expect(taskDefinitionArns).toEqual([]);

    allowAlice(
      { Effect: 'Allow', Action: 'ecs:RegisterTaskDefinition', Resource: '*' },
      { Effect: 'Allow', Action: 'iam:PassRole', Resource: 'arn:aws:iam::123456789012:role/app', Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } },
    );
    const { taskDefinition } = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'passes-a-role',
        taskRoleArn: 'arn:aws:iam::123456789012:role/app',
        containerDefinitions: [{ name: 'c', image: 'busybox', memory: 64 }],
      }),
    );
    expect(taskDefinition?.revision).toBe(1);
  });

  it('an explicit deny wins over an allow, on ECR and Logs too', async () => {
    allowAlice({ Effect: 'Allow', Action: ['ecr:*', 'logs:*'], Resource: '*' }, { Effect: 'Deny', Action: ['ecr:CreateRepository', 'logs:CreateLogGroup'], Resource: '*' });
    const repo = await failure(ecr.send(new CreateRepositoryCommand({ repositoryName: 'denied' })));
    expect(repo.name).toBe('AccessDeniedException');
    expect(repo.message).toBe(
      `User: ${ALICE} is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/denied with an explicit deny in an identity-based policy`,
    );
    const group = await failure(logs.send(new CreateLogGroupCommand({ logGroupName: '/denied' })));
    expect(group.name).toBe('AccessDeniedException');
    expect((await api.ecr.send(new DescribeRepositoriesCommand({}))).repositories?.map((r) => r.repositoryName)).not.toContain('denied');
    expect((await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/denied' }))).logGroups).toEqual([]);
    expect((await ecr.send(new DescribeRepositoriesCommand({}))).repositories).toBeDefined();
  });

  it('aws:SourceIp is the peer address and request tags reach conditions', async () => {
    allowAlice({
      Effect: 'Allow',
      Action: 'ecs:CreateCluster',
      Resource: '*',
      Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' }, StringEquals: { 'aws:RequestTag/team': 'a' } },
    });
    const { cluster } = await ecs.send(new CreateClusterCommand({ clusterName: 'tagged', tags: [{ key: 'team', value: 'a' }] }));
    expect(cluster?.clusterName).toBe('tagged');
    expect((await failure(ecs.send(new CreateClusterCommand({ clusterName: 'untagged' })))).name).toBe('AccessDeniedException');

    allowAlice({ Effect: 'Allow', Action: 'ecs:CreateCluster', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } });
    expect((await failure(ecs.send(new CreateClusterCommand({ clusterName: 'from-loopback' })))).name).toBe('AccessDeniedException');
  });

  it('authorizes a secret named by its name on its full ARN, random suffix included', async () => {
    const rootSecrets = new SecretsManagerClient({ endpoint: api.server.url, region: TEST_REGION, credentials: api.server.rootKeys, maxAttempts: 1 });
    const aliceSecrets = new SecretsManagerClient({ endpoint: api.server.url, region: TEST_REGION, credentials: ALICE_KEYS, maxAttempts: 1 });
    try {
      const db = await rootSecrets.send(new CreateSecretCommand({ Name: 'db', SecretString: 's3cret' }));
      const other = await rootSecrets.send(new CreateSecretCommand({ Name: 'other', SecretString: 'x' }));
      expect(db.ARN).toMatch(/:secret:db-[A-Za-z0-9]{6}$/);
      allowAlice({ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:${TEST_REGION}:${TEST_ACCOUNT}:secret:db-??????` });
      expect((await aliceSecrets.send(new GetSecretValueCommand({ SecretId: 'db' }))).SecretString).toBe('s3cret');
      const refused = await failure(aliceSecrets.send(new GetSecretValueCommand({ SecretId: 'other' })));
      expect(refused.name).toBe('AccessDeniedException');
      expect(refused.message).toBe(
        `User: ${ALICE} is not authorized to perform: secretsmanager:GetSecretValue on resource: ${other.ARN} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      );
    } finally {
      rootSecrets.destroy();
      aliceSecrets.destroy();
    }
  });

  it('authorizes RunTask given a bare family on the revision it would launch', async () => {
    const definition = { family: 'by-family', containerDefinitions: [{ name: 'c', image: 'busybox', memory: 64 }] };
    await api.ecs.send(new RegisterTaskDefinitionCommand(definition));
    await api.ecs.send(new RegisterTaskDefinitionCommand(definition));
    // Allowed revision 1 only: the family's latest is 2, so RunTask by family is refused, naming revision 2.
    allowAlice({ Effect: 'Allow', Action: 'ecs:RunTask', Resource: ecsArn('task-definition/by-family:1') });
    const refused = await failure(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'by-family' })));
    expect(refused.name).toBe('AccessDeniedException');
    expect(refused.message).toContain(`ecs:RunTask on resource: ${ecsArn('task-definition/by-family:2')} because`);
    // Allowed revision 2: RunTask by family passes authorization (and then fails for want of instances, as ECS does).
    allowAlice({ Effect: 'Allow', Action: 'ecs:RunTask', Resource: ecsArn('task-definition/by-family:2') });
    const launched = await failure(ecs.send(new RunTaskCommand({ cluster: 'prod', taskDefinition: 'by-family' })));
    expect(launched).toMatchObject({ name: 'InvalidParameterException', message: 'No Container Instances were found in your cluster.' });
  });

  it('root stays all-powerful whatever the policies', async () => {
    allowAlice({ Effect: 'Deny', Action: '*', Resource: '*' });
    const { cluster } = await api.ecs.send(new CreateClusterCommand({ clusterName: 'root-made' }));
    expect(cluster?.status).toBe('ACTIVE');
  });

  it('a principal with no policies is refused everything', async () => {
    allowAlice();
    const e = await failure(ecs.send(new DescribeClustersCommand({})));
    expect(e.name).toBe('AccessDeniedException');
    expect(e.message).toContain(`on resource: ${ecsArn('cluster/default')}`);
  });
});
