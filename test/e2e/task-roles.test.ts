import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  ECSClient,
  ListClustersCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import { containerOutput, waitForTask as waitFor } from './support/task-output.js';
import type { HostLab } from './support/hosts.js';

const isRoot = process.getuid?.() === 0;
const REGION = 'us-east-1';
const TRUST_ECS_TASKS = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});
/** Values that must reach the container's environment and nothing else on disk or in any log. */
const DB_PASSWORD = 'pw-zq7-3c1f9a';
const API_TOKEN = 'tok-zq7-88e2b0';

/**
 * Task roles and secrets with real processes: the built server (IAM, STS, Secrets Manager, SSM) and agent
 * (ECS_ENABLE_TASK_IAM_ROLE=true) on a simulated host, a busybox container in bridge mode that reads its
 * role's credentials from 169.254.170.2 (as the SDKs do) and has its secrets in its environment. Its output
 * comes back through the Logs API; the test signs calls with the credentials the container got.
 */
describe.runIf(isRoot)('task roles and secrets in real containers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-roles-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;
  let image: string;
  let account: string;
  let secretArn: string;

  beforeAll(async () => {
    ({ lab, registry, image, server, ecs, logs } = await startLabControlPlane(dir, REGION));
    const clientConfig = { endpoint: server.url, region: REGION, credentials: { ...server.keys }, maxAttempts: 3 };
    const iam = new IAMClient(clientConfig);
    const sts = new STSClient(clientConfig);
    const secrets = new SecretsManagerClient(clientConfig);
    const ssm = new SSMClient(clientConfig);
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account!;
    for (const RoleName of ['app-role', 'exec-role', 'bare-exec-role']) await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: TRUST_ECS_TASKS }));
    const allow = (Action: string[], Resource = '*') => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action, Resource }] });
    // The task's own role may list clusters and nothing else; the execution role may read the app's secrets.
    await iam.send(new PutRolePolicyCommand({ RoleName: 'app-role', PolicyName: 'list', PolicyDocument: allow(['ecs:ListClusters']) }));
    await iam.send(new PutRolePolicyCommand({ RoleName: 'exec-role', PolicyName: 'secrets', PolicyDocument: allow(['secretsmanager:GetSecretValue', 'ssm:GetParameters']) }));
    secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'db', SecretString: JSON.stringify({ user: 'app', password: DB_PASSWORD }) }))).ARN!;
    await ssm.send(new PutParameterCommand({ Name: '/app/token', Value: API_TOKEN, Type: 'SecureString' }));
    for (const c of [iam, sts, secrets, ssm]) c.destroy();
    agent = await startLabAgent({
      server,
      lab,
      dir,
      bridge,
      env: { BERTH_METADATA_ADDRESS: '169.254.170.2:80', BERTH_INSECURE_REGISTRIES: registry.host, ECS_ENABLE_TASK_IAM_ROLE: 'true' },
    });
  }, 180_000);

  afterAll(() => stopLab({ dir, ecs, agent, clients: [logs], server, registries: [registry], lab }));

  const waitForTask = (arn: string, check: (t: Task) => boolean, timeoutMs = 60_000) => waitFor(ecs, arn, check, timeoutMs, () => agent.stderr().slice(-3000));

  /** Register and run a one-container bridge task whose container runs `script`. */
  async function run(family: string, script: string, extra: Partial<Parameters<typeof registerInput>[0]> = {}) {
    await ecs.send(new RegisterTaskDefinitionCommand(registerInput({ family, script, ...extra })));
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
    expect(failures).toEqual([]);
    return tasks![0]!;
  }
  function registerInput(o: { family: string; script: string; taskRoleArn?: string; executionRoleArn?: string; secrets?: { name: string; valueFrom: string }[] }) {
    return {
      family: o.family,
      networkMode: 'bridge' as const,
      ...(o.taskRoleArn ? { taskRoleArn: o.taskRoleArn } : {}),
      ...(o.executionRoleArn ? { executionRoleArn: o.executionRoleArn } : {}),
      containerDefinitions: [{ name: 'probe', image, memory: 64, command: ['sh', '-c', o.script], ...(o.secrets ? { secrets: o.secrets } : {}) }],
    };
  }

  /** The container's output lines `<KEY> <rest>` by key, once a line starting with `until` has been shipped. */
  const output = (family: string, taskArn: string, until: string, timeoutMs = 60_000) =>
    containerOutput(logs, { group: '/berth/default', stream: `${family}/probe/${taskArn.split('/').at(-1)}` }, until, timeoutMs, () => agent.stderr().slice(-3000));

  const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

  it("a container reads its task role's credentials from the endpoint and calls the API as that role; another task cannot use them; its secrets are in its environment only", async () => {
    const roleArn = `arn:aws:iam::${account}:role/app-role`;
    const task = await run(
      'roles',
      [
        'echo "URI $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"',
        'echo "CREDS $(wget -q -O - "http://169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")"',
        // The secrets' digests only: the container's output is shipped and stored, the values must not be.
        'echo "DB $(printf %s "$DB_PASSWORD" | sha256sum | cut -d" " -f1)"',
        'echo "TOKEN $(printf %s "$API_TOKEN" | sha256sum | cut -d" " -f1)"',
        'echo READY',
        'exec sleep 3600',
      ].join('\n'),
      {
        taskRoleArn: roleArn,
        executionRoleArn: `arn:aws:iam::${account}:role/exec-role`,
        secrets: [
          { name: 'DB_PASSWORD', valueFrom: `${secretArn}:password::` },
          { name: 'API_TOKEN', valueFrom: '/app/token' },
        ],
      },
    );
    const out = await output('roles', task.taskArn!, 'READY');
    expect(out.URI).toMatch(/^\/v2\/credentials\/[0-9a-f-]{36}$/);
    const creds = JSON.parse(out.CREDS!) as { RoleArn: string; AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string };
    expect(creds).toMatchObject({ RoleArn: roleArn, AccessKeyId: expect.stringMatching(/^ASIA/) });
    expect(Date.parse(creds.Expiration)).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(out.DB).toBe(sha256(DB_PASSWORD));
    expect(out.TOKEN).toBe(sha256(API_TOKEN));

    // The credentials work against the control plane: the caller is the role's session named after the task.
    const asTask = new STSClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.Token } });
    const me = await asTask.send(new GetCallerIdentityCommand({}));
    asTask.destroy();
    expect(me.Arn).toBe(`arn:aws:sts::${account}:assumed-role/app-role/${task.taskArn!.split('/').at(-1)}`);
    // …and its role's policies decide what it may do: ListClusters is allowed, RunTask is not.
    const ecsAsTask = new ECSClient({ endpoint: server.url, region: REGION, maxAttempts: 1, credentials: { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.Token } });
    expect((await ecsAsTask.send(new ListClustersCommand({}))).clusterArns).toBeDefined();
    const denied = await ecsAsTask.send(new RunTaskCommand({ taskDefinition: 'roles' })).then(
      () => undefined,
      (e: Error) => e,
    );
    ecsAsTask.destroy();
    expect(denied?.name).toBe('AccessDeniedException');
    expect(denied?.message).toContain(`is not authorized to perform: ecs:RunTask`);

    // Another task on the same host, given the first task's credentials URI, is refused as ECS's agent refuses.
    const thief = await run(
      'thief',
      [`echo "GOT $(wget -q -O - "http://169.254.170.2${out.URI}" 2>&1 | tr '\\n' ' ')"`, 'echo DONE', 'exec sleep 3600'].join('\n'),
    );
    const stolen = await output('thief', thief.taskArn!, 'DONE');
    expect(stolen.GOT).not.toContain(creds.AccessKeyId);
    expect(stolen.GOT).toMatch(/HTTP\/1\.1 400 Bad Request/);

    // The secret values are nowhere on disk (server and agent data, SQLite included) nor in either log.
    for (const value of [DB_PASSWORD, API_TOKEN]) {
      const grep = spawnSync('grep', ['-rl', '--', value, dir], { encoding: 'utf8' });
      expect(grep.stdout).toBe('');
      expect(grep.status).toBe(1);
      expect(agent.stderr()).not.toContain(value);
      expect(server.stdout() + server.stderr()).not.toContain(value);
    }
  }, 120_000);

  it('stops a task whose execution role may not read its secret, with the refusal in the reason', async () => {
    const task = await run('no-permission', 'exec sleep 3600', {
      executionRoleArn: `arn:aws:iam::${account}:role/bare-exec-role`,
      secrets: [{ name: 'API_TOKEN', valueFrom: '/app/token' }],
    });
    const stopped = await waitForTask(task.taskArn!, (t) => t.lastStatus === 'STOPPED');
    expect(stopped.stoppedReason).toMatch(
      /^ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time\(s\): AccessDeniedException: User: arn:aws:sts::\d+:assumed-role\/bare-exec-role\/[0-9a-f]+ is not authorized to perform: ssm:GetParameters/,
    );
  }, 60_000);

  it("stops a task whose secret cannot be had with ECS's reason", async () => {
    const task = await run('no-secret', 'exec sleep 3600', {
      executionRoleArn: `arn:aws:iam::${account}:role/exec-role`,
      secrets: [{ name: 'MISSING', valueFrom: '/app/missing' }],
    });
    const stopped = await waitForTask(task.taskArn!, (t) => t.lastStatus === 'STOPPED');
    expect(stopped.stoppedReason).toBe(
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: invalid parameters: /app/missing',
    );
  }, 60_000);
});
