import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, CreateLogGroupCommand, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import {
  CreateClusterCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { AttachRolePolicyCommand, AttachUserPolicyCommand, CreateAccessKeyCommand, CreateRoleCommand, CreateUserCommand, DeleteUserPolicyCommand, IAMClient, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage } from '../../src/testing/busybox-image.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { removeBridge, uniqueBridge, untilAgentIdle } from './support/cluster.js';
import { skopeo } from './support/skopeo.js';

const REGION = 'us-east-1';
const INSTANCE_ROLE_POLICY = 'arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role';
const LOG_GROUP = '/e2e/instance-role';
const canRun = process.getuid?.() === 0 && ['/usr/sbin/runc', '/usr/bin/skopeo'].every((p) => existsSync(p));

type Keys = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/**
 * The instance role with real processes: the built server, `berth agent` processes whose only credentials are an
 * IAM user's access key (or a role session's, AWS_SESSION_TOKEN included) in their environment, as the SDK's chain
 * reads them, and busybox containers pulled from berth's own registry with the token the agent gets itself. Under
 * AmazonEC2ContainerServiceforEC2Role an agent registers (creating the default cluster), opens its session (ecs:Poll),
 * pulls, ships its container's output with awslogs and reports RUNNING and STOPPED; outside it, it is refused.
 */
describe.runIf(canRun)('agents under the instance role (AmazonEC2ContainerServiceforEC2Role)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-instance-role-'));
  const bridges: ReturnType<typeof uniqueBridge>[] = [];
  const agents: BerthAgentProcess[] = [];
  let server: BerthServerProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let iam: IAMClient;
  let account: string;
  let image: string;

  beforeAll(async () => {
    server = await startBerthServer(join(dir, 'server'));
    const root = { endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 };
    ecs = new ECSClient(root);
    logs = new CloudWatchLogsClient(root);
    iam = new IAMClient(root);
    const ecr = new ECRClient(root);
    const sts = new STSClient(root);
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account!;
    sts.destroy();
    // The image, pushed by root to berth's own registry: the agents pull it with a token they ask for themselves.
    const { repository } = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
    const token = Buffer.from((await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData![0]!.authorizationToken!, 'base64').toString();
    ecr.destroy();
    const built = await buildBusyboxImage(join(dir, 'layout'));
    const pushed = await skopeo(['copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', token, `oci:${built.layoutDir}:latest`, `docker://${repository!.repositoryUri}:v1`]);
    expect(pushed.stderr).toBe('');
    image = `${repository!.repositoryUri}:v1`;
    // As in ECS, the instance role may not create log groups: the operator makes the group.
    await logs.send(new CreateLogGroupCommand({ logGroupName: LOG_GROUP }));
    for (const clusterName of ['roles', 'refused']) await ecs.send(new CreateClusterCommand({ clusterName }));
  }, 120_000);

  afterAll(async () => {
    for (const a of agents) {
      await untilAgentIdle(a.dataDir);
      await a.kill();
    }
    for (const b of bridges) await removeBridge(b);
    ecs?.destroy();
    logs?.destroy();
    iam?.destroy();
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An IAM user made through the IAM API with these managed policies (and inline statements), and its access key. */
  async function user(name: string, managed: string[], statements: object[] = []): Promise<Keys> {
    await iam.send(new CreateUserCommand({ UserName: name }));
    for (const PolicyArn of managed) await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn }));
    if (statements.length > 0) {
      await iam.send(new PutUserPolicyCommand({ UserName: name, PolicyName: 'extra', PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));
    }
    const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
    return { accessKeyId: AccessKey!.AccessKeyId!, secretAccessKey: AccessKey!.SecretAccessKey! };
  }

  function agent(name: string, keys: Keys, cluster?: string): BerthAgentProcess {
    const bridge = uniqueBridge();
    bridges.push(bridge);
    const a = startBerthAgent({
      endpoint: server.url,
      keys,
      dataDir: join(dir, name),
      ...(cluster ? { cluster } : {}),
      env: { BERTH_MEMORY_MIB: '512', ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s', ECS_CONTAINER_STOP_TIMEOUT: '1s', ...bridge },
    });
    agents.push(a);
    return a;
  }

  async function waitForTask(arn: string, cluster: string, check: (t: Task) => boolean, timeoutMs = 30_000): Promise<Task> {
    let last: Task | undefined;
    await expect
      .poll(
        async () => {
          last = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks?.[0];
          return last !== undefined && check(last);
        },
        { timeout: timeoutMs, interval: 150 },
      )
      .toBe(true);
    return last!;
  }

  /** Run a task that prints `line` through awslogs, see it RUNNING and its line in CloudWatch Logs, stop it, see it STOPPED. */
  async function runAndStop(cluster: string, family: string, line: string, a: BerthAgentProcess): Promise<void> {
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        networkMode: 'none',
        containerDefinitions: [
          {
            name: 'app',
            image,
            memory: 32,
            command: ['sh', '-c', `echo ${line}; exec sleep 3600`],
            logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': LOG_GROUP, 'awslogs-stream-prefix': family, 'awslogs-region': REGION } },
          },
        ],
      }),
    );
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: family }));
    expect(failures).toEqual([]);
    const arn = tasks![0]!.taskArn!;
    const running = await waitForTask(arn, cluster, (t) => t.lastStatus === 'RUNNING' || t.lastStatus === 'STOPPED');
    expect(running.lastStatus, JSON.stringify(running.stoppedReason ?? running.containers?.[0]?.reason)).toBe('RUNNING');
    expect(running.containers![0]!.imageDigest).toMatch(/^sha256:/);
    const stream = `${family}/app/${arn.split('/').at(-1)}`;
    await expect
      .poll(
        async () => {
          const out = await logs.send(new GetLogEventsCommand({ logGroupName: LOG_GROUP, logStreamName: stream, startFromHead: true })).catch(() => undefined);
          return out?.events?.map((e) => e.message);
        },
        { timeout: 20_000, interval: 250 },
      )
      .toContain(line);
    await ecs.send(new StopTaskCommand({ cluster, task: arn }));
    const stopped = await waitForTask(arn, cluster, (t) => t.lastStatus === 'STOPPED');
    expect(stopped.desiredStatus).toBe('STOPPED');
    expect(a.stderr()).not.toContain('AccessDenied');
  }

  it('an agent with an IAM user’s key under the managed policy registers, opens its session, pulls, ships logs, runs and stops a task', async () => {
    const keys = await user('ecs-instance', [INSTANCE_ROLE_POLICY]);
    // No cluster given: `default`, which does not exist yet, so the agent creates it (ecs:CreateCluster).
    const a = agent('as-user', keys);
    await a.waitForLog(/session with the control plane established/);
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: 'default' }))).containerInstanceArns ?? [];
    expect(arns).toHaveLength(1);
    await expect
      .poll(async () => (await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'default', containerInstances: arns }))).containerInstances?.[0]?.agentConnected)
      .toBe(true);
    await runAndStop('default', 'as-user', 'hello-from-the-instance-role', a);
  });

  it('an agent whose user has no policy is refused registration: it exits naming AccessDeniedException and registers nothing', async () => {
    const keys = await user('no-policy', []);
    const a = agent('no-policy', keys, 'refused');
    await expect.poll(() => a.child.exitCode, { timeout: 20_000 }).not.toBeNull();
    expect(a.child.exitCode).not.toBe(0);
    expect(a.stderr()).toContain(
      `AccessDeniedException: User: arn:aws:iam::${account}:user/no-policy is not authorized to perform: ecs:RegisterContainerInstance on resource: arn:aws:ecs:${REGION}:${account}:cluster/refused because no identity-based policy allows the ecs:RegisterContainerInstance action`,
    );
    expect((await ecs.send(new ListContainerInstancesCommand({ cluster: 'refused' }))).containerInstanceArns).toEqual([]);
  });

  it('a Deny on ecs:RegisterContainerInstance beside the managed policy wins: refused the same way', async () => {
    const keys = await user('denied-register', [INSTANCE_ROLE_POLICY], [{ Effect: 'Deny', Action: 'ecs:RegisterContainerInstance', Resource: '*' }]);
    const a = agent('denied-register', keys, 'refused');
    await expect.poll(() => a.child.exitCode, { timeout: 20_000 }).not.toBeNull();
    expect(a.stderr()).toMatch(/AccessDeniedException: User: \S+:user\/denied-register is not authorized to perform: ecs:RegisterContainerInstance on resource: \S+ with an explicit deny/);
    expect((await ecs.send(new ListContainerInstancesCommand({ cluster: 'refused' }))).containerInstanceArns).toEqual([]);
  });

  it('an agent denied ecs:Poll registers but gets no session (the refusal logged, the instance disconnected) until the Deny is lifted', async () => {
    const keys = await user('denied-poll', [INSTANCE_ROLE_POLICY], [{ Effect: 'Deny', Action: 'ecs:Poll', Resource: '*' }]);
    const a = agent('denied-poll', keys, 'refused');
    await a.waitForLog(/control plane refused the session: AccessDeniedException/);
    expect(a.stderr()).toContain('is not authorized to perform: ecs:Poll on resource: arn:aws:ecs:');
    expect(a.stderr()).not.toContain('session with the control plane established');
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster: 'refused' }))).containerInstanceArns ?? [];
    expect(arns).toHaveLength(1);
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ cluster: 'refused', containerInstances: arns }));
    expect(containerInstances![0]!.agentConnected).toBe(false);
    // The Deny lifted, the agent's next attempt gets in: no restart (IAM changes reach the authorizer at once).
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'denied-poll', PolicyName: 'extra' }));
    await a.waitForLog(/session with the control plane established/, 20_000);
    await a.kill();
  });

  it('an agent with a role session’s credentials (AssumeRole, AWS_SESSION_TOKEN) works the same', async () => {
    const launcher = await user('launcher', []);
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'ecsInstanceRole',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/launcher` }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: 'ecsInstanceRole', PolicyArn: INSTANCE_ROLE_POLICY }));
    const sts = new STSClient({ endpoint: server.url, region: REGION, credentials: launcher, maxAttempts: 3 });
    const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/ecsInstanceRole`, RoleSessionName: 'i-0instance' }));
    sts.destroy();
    const a = agent('as-role', { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! }, 'roles');
    await a.waitForLog(/session with the control plane established/);
    await runAndStop('roles', 'as-role', 'hello-from-a-role-session', a);
  });
});
