import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type ContainerDefinition,
  type Task,
} from '@aws-sdk/client-ecs';
import { AttachRolePolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, IAMClient, PutRolePolicyCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { startLabAgent, stopLab } from './support/lab-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import { containerOutput, waitForTask as waitFor } from './support/task-output.js';
import { createHostLab, type HostLab } from './support/hosts.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const TRUST_ECS_TASKS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
const LOG_GROUP = '/ecs/exec';
const PULLER = { username: 'puller', password: 'pull-zq7-51d0' };

/**
 * The task execution role doing the agent's work for a task, with real processes: the built server and an
 * agent whose own credentials (an IAM user allowed ecs:* and nothing else) can neither pull from berth's
 * registry nor write logs. A task whose execution role has AmazonECSTaskExecutionRolePolicy is pulled and
 * its output shipped all the same — as that role; the same task without the role cannot be pulled; roles
 * without ECR permissions stop tasks with ECS's reasons; repositoryCredentials from Secrets Manager pull
 * from an htpasswd-protected CNCF registry.
 */
describe.runIf(isRoot)('the task execution role pulls, ships logs and reads registry credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-exec-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let privateRegistry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let account: string;
  let berthHost: string;
  const role = (name: string) => `arn:aws:iam::${account}:role/${name}`;

  beforeAll(async () => {
    lab = createHostLab(1);
    const image = await buildBusyboxImage(join(dir, 'layout'));
    privateRegistry = await startDockerRegistry({ address: lab.gateway, htpasswd: `${PULLER.username}:${bcrypt.hashSync(PULLER.password, 6)}\n` });
    // Two tags: a refused pull must not be saved by a copy another task pulled (the default pull behaviour).
    for (const tag of ['latest', 'other']) await pushImage(image, `${privateRegistry.host}/busybox:${tag}`, PULLER);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    berthHost = new URL(server.url).host;
    const clientConfig = { endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 };
    ecs = new ECSClient(clientConfig);
    logs = new CloudWatchLogsClient(clientConfig);
    const iam = new IAMClient(clientConfig);
    const sts = new STSClient(clientConfig);
    const ecr = new ECRClient(clientConfig);
    const secrets = new SecretsManagerClient(clientConfig);
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account!;

    // berth's registry holds the image as app:v1 (pulled by the allowed role) and app:v2 (never pulled:
    // a refused pull must not be saved by a cached copy).
    await ecr.send(new CreateRepositoryCommand({ repositoryName: 'app' }));
    const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!;
    const [username, password] = Buffer.from(token, 'base64').toString().split(':') as [string, string];
    for (const tag of ['v1', 'v2']) await pushImage(image, `${berthHost}/app:${tag}`, { username, password });
    // The execution role policy allows CreateLogStream and PutLogEvents, not CreateLogGroup: made here, as ECS users do.
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));

    const policy = (Effect: 'Allow' | 'Deny', Action: string[]) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect, Action, Resource: '*' }] });
    for (const RoleName of ['exec-ecr', 'exec-denied', 'exec-bare']) await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: TRUST_ECS_TASKS }));
    for (const RoleName of ['exec-ecr', 'exec-denied']) {
      await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: 'arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' }));
    }
    await iam.send(new PutRolePolicyCommand({ RoleName: 'exec-ecr', PolicyName: 'registry-creds', PolicyDocument: policy('Allow', ['secretsmanager:GetSecretValue']) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'exec-denied', PolicyName: 'no-pull', PolicyDocument: policy('Deny', ['ecr:BatchGetImage']) }));
    await secrets.send(new CreateSecretCommand({ Name: 'registry/good', SecretString: JSON.stringify(PULLER) }));
    await secrets.send(new CreateSecretCommand({ Name: 'registry/wrong', SecretString: JSON.stringify({ ...PULLER, password: 'not-it' }) }));

    // The agent's own identity: ECS only. Whatever it pulls from berth's registry or ships to Logs, it does
    // with the tasks' execution roles.
    await iam.send(new CreateUserCommand({ UserName: 'instance' }));
    await iam.send(new PutUserPolicyCommand({ UserName: 'instance', PolicyName: 'ecs-only', PolicyDocument: policy('Allow', ['ecs:*']) }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'instance' }))).AccessKey!;
    for (const c of [iam, sts, ecr, secrets]) c.destroy();

    agent = await startLabAgent({
      server,
      lab,
      dir,
      bridge,
      keys: { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! },
      env: { BERTH_INSECURE_REGISTRIES: `${berthHost},${privateRegistry.host}` },
    });
  }, 180_000);

  afterAll(() => stopLab({ dir, ecs, agent, clients: [logs], server, registries: [privateRegistry], lab }));

  const waitForTask = (arn: string, check: (t: Task) => boolean, timeoutMs = 60_000) => waitFor(ecs, arn, check, timeoutMs, () => agent.stderr().slice(-3000));

  /** Register and run a one-container bridge task printing READY, its output shipped to LOG_GROUP. */
  async function run(family: string, image: string, executionRoleArn?: string, extra: Partial<ContainerDefinition> = {}): Promise<string> {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: 'bridge',
        ...(executionRoleArn ? { executionRoleArn } : {}),
        containerDefinitions: [
          {
            name: 'probe',
            image,
            memory: 64,
            command: ['sh', '-c', 'echo READY; exec sleep 3600'],
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-region': REGION, 'awslogs-stream-prefix': 'ecs' } },
            ...extra,
          },
        ],
      }),
    );
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
    expect(failures).toEqual([]);
    return tasks![0]!.taskArn!;
  }

  /** The stopped task's reason, once it stopped. */
  const stoppedReason = async (arn: string) => (await waitForTask(arn, (t) => t.lastStatus === 'STOPPED')).stoppedReason;

  /** Wait until the task's READY line is in its awslogs stream (shipped by the agent). */
  const readyLogged = async (arn: string, timeoutMs = 60_000): Promise<void> => {
    await containerOutput(logs, { group: LOG_GROUP, stream: `ecs/probe/${arn.split('/').at(-1)}` }, 'READY', timeoutMs, () => agent.stderr().slice(-3000));
  };

  it("a role with AmazonECSTaskExecutionRolePolicy pulls from berth's registry and ships the task's logs; without it the agent cannot", async () => {
    const arn = await run('exec-pull', `${berthHost}/app:v1`, role('exec-ecr'));
    expect((await waitForTask(arn, (t) => t.lastStatus === 'RUNNING' || t.lastStatus === 'STOPPED')).lastStatus).toBe('RUNNING');
    await readyLogged(arn);

    // The same image without an execution role: the agent's own token is refused, the registry turns the pull away.
    const bare = await run('agent-pull', `${berthHost}/app:v2`);
    expect(await stoppedReason(bare)).toMatch(/^CannotPullContainerError: .*requires authentication/);
  }, 120_000);

  it("a Deny on ecr:BatchGetImage stops the task with the registry's refusal; a role without ECR permissions with ECS's token reason", async () => {
    const denied = await run('exec-denied', `${berthHost}/app:v2`, role('exec-denied'));
    const bare = await run('exec-bare', `${berthHost}/app:v2`, role('exec-bare'));
    const repo = `${berthHost}/app`;
    expect(await stoppedReason(denied)).toMatch(
      new RegExp(
        `^CannotPullContainerError: pull access denied for ${repo.replace(/\./g, '\\.')}, repository does not exist or may require 'docker login': denied: User: arn:aws:sts::${account}:assumed-role/exec-denied/[0-9a-f]+ is not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:${REGION}:${account}:repository/app with an explicit deny`,
      ),
    );
    expect(await stoppedReason(bare)).toMatch(
      new RegExp(
        `^ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 time\\(s\\): AccessDeniedException: User: arn:aws:sts::${account}:assumed-role/exec-bare/[0-9a-f]+ is not authorized to perform: ecr:GetAuthorizationToken`,
      ),
    );
  }, 120_000);

  it('repositoryCredentials from Secrets Manager pull from an htpasswd registry; wrong ones and a missing secret stop the task', async () => {
    const image = `${privateRegistry.host}/busybox:latest`;
    const ok = await run('private-ok', image, role('exec-ecr'), { repositoryCredentials: { credentialsParameter: 'registry/good' } });
    const wrong = await run('private-wrong', `${privateRegistry.host}/busybox:other`, role('exec-ecr'), { repositoryCredentials: { credentialsParameter: 'registry/wrong' } });
    const missing = await run('private-missing', image, role('exec-ecr'), { repositoryCredentials: { credentialsParameter: 'registry/none' } });
    await readyLogged(ok);
    expect(await stoppedReason(wrong)).toMatch(/^CannotPullContainerError: .*401/);
    expect(await stoppedReason(missing)).toMatch(
      /^ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time\(s\): asm fetching secret from the service for registry\/none: ResourceNotFoundException/,
    );
    // The password is in no log of either process.
    expect(agent.stderr()).not.toContain(PULLER.password);
    expect(server.stdout() + server.stderr()).not.toContain(PULLER.password);
  }, 120_000);
});
