import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeregisterContainerInstanceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';
import { startAgent, type RunningAgent } from './agent.js';
import { compileAgentConfig } from './config.js';
import { fakeWorld } from './testing/fakes.js';

let api: ApiFixture;
/** Task role credentials as STS would issue them, short-lived so that renewals come within a test. */
const ROLE_LIFETIME_MS = 2_000;
let issued = 0;
const roleIssuer = {
  async issue({ roleArn }: { roleArn: string }) {
    issued++;
    return { roleArn, accessKeyId: `ASIATEST${issued}`, secretAccessKey: `role-secret-${issued}-x7q`, sessionToken: `token-${issued}`, expiration: new Date(Date.now() + ROLE_LIFETIME_MS).toISOString() };
  },
};
const dirs: string[] = [];
const agents: RunningAgent[] = [];

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 1_000, taskRoles: roleIssuer });
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'web',
      containerDefinitions: [{ name: 'web', image: 'busybox', memory: 256, cpu: 256, portMappings: [{ containerPort: 80, hostPort: 8080 }] }],
    }),
  );
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'small', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});
afterAll(async () => {
  await api.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** An agent with fake runtime parts (the real ones have their own tests and the e2e suite). */
async function agent(options: { dataDir?: string; memoryMib?: string; cpuUnits?: string; metadata?: boolean; env?: Record<string, string> } = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-agent-'));
  dirs.push(dataDir);
  const world = fakeWorld();
  world.images.add('busybox');
  const config = compileAgentConfig({
    flags: { endpoint: api.server.url, dataDir, memoryMib: options.memoryMib ?? '1024', cpuUnits: options.cpuUnits ?? '2048' },
    env: { ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s', ECS_CONTAINER_STOP_TIMEOUT: '2s', ...options.env },
    readFile: () => undefined,
  });
  const running = await startAgent({
    config,
    // The real host parts bring the metadata address (169.254.170.2:80 on lo); a test picks a free loopback port.
    parts: options.metadata ? { ...world.deps, metadataAddress: { host: '127.0.0.1', port: 0 } } : world.deps,
    log: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
    credentials: TEST_KEYS,
    session: { silenceMs: 2_000, pingMs: 200, backoff: { minMs: 50, maxMs: 200 } },
  });
  agents.push(running);
  await vi.waitFor(async () => expect((await describeInstance(running.containerInstanceArn)).agentConnected).toBe(true), { timeout: 5_000 });
  return { running, world, dataDir };
}

const describeInstance = async (arn: string) =>
  (await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [arn] }))).containerInstances![0]!;
const describeTask = async (arn: string): Promise<Task> => (await api.ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
const waitForTask = (arn: string, check: (t: Task) => boolean, timeout = 5_000) =>
  vi.waitFor(
    async () => {
      const t = await describeTask(arn);
      if (!check(t)) throw new Error(`task is ${t.lastStatus}/${t.desiredStatus}`);
      return t;
    },
    { timeout, interval: 50 },
  );

describe('agent and control plane', () => {
  it('registers with the resources and attributes of its host, and shows as connected', async () => {
    const { running } = await agent({ memoryMib: '1024', cpuUnits: '2048' });
    await vi.waitFor(async () => expect((await describeInstance(running.containerInstanceArn)).agentConnected).toBe(true));
    const instance = await describeInstance(running.containerInstanceArn);
    expect(instance.status).toBe('ACTIVE');
    expect(instance.registeredResources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'CPU', integerValue: 2048 }),
        expect.objectContaining({ name: 'MEMORY', integerValue: 1024 }),
        expect.objectContaining({ name: 'PORTS', stringSetValue: ['22', '2375', '2376', '51678', '51679'] }),
      ]),
    );
    const attrs = Object.fromEntries(instance.attributes!.map((a) => [a.name, a.value]));
    expect(attrs).toMatchObject({ 'ecs.os-type': 'linux', 'ecs.availability-zone': 'us-east-1a', 'ecs.cpu-architecture': 'x86_64' });
    expect(instance.versionInfo?.agentVersion).toMatch(/berth/);
    const listed = await api.ecs.send(new ListContainerInstancesCommand({}));
    expect(listed.containerInstanceArns).toContain(running.containerInstanceArn);
  });

  it('runs a task: RunTask → the agent gets it over the session → RUNNING, with resources reserved', async () => {
    const { running } = await agent();
    const { tasks, failures } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'web', startedBy: 'test' }));
    expect(failures).toEqual([]);
    const arn = tasks![0]!.taskArn!;
    expect(tasks![0]).toMatchObject({ lastStatus: 'PENDING', desiredStatus: 'RUNNING', group: 'family:web', startedBy: 'test' });
    const t = await waitForTask(arn, (t) => t.lastStatus === 'RUNNING');
    expect(t.containers![0]).toMatchObject({ lastStatus: 'RUNNING', networkBindings: [{ containerPort: 80, hostPort: 8080, protocol: 'tcp', bindIP: '0.0.0.0' }] });
    expect(t.startedAt).toBeInstanceOf(Date);
    expect(t.pullStartedAt).toBeInstanceOf(Date);
    const instance = await describeInstance(running.containerInstanceArn);
    expect(instance.runningTasksCount).toBe(1);
    const remaining = Object.fromEntries(instance.remainingResources!.map((r) => [r.name, r.type === 'STRINGSET' ? r.stringSetValue : r.integerValue]));
    expect(remaining).toMatchObject({ CPU: 2048 - 256, MEMORY: 1024 - 256 });
    expect(remaining.PORTS).toContain('8080');

    // The same fixed host port cannot be placed twice on one instance.
    const again = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'web' }));
    expect(again.tasks).toEqual([]);
    // Every ACTIVE instance is listed with its reason: this one lacks the port, earlier tests' agents are gone.
    expect(again.failures).toContainEqual({ arn: running.containerInstanceArn, reason: 'RESOURCE:PORTS' });
    expect(again.failures?.filter((f) => f.arn !== running.containerInstanceArn).every((f) => f.reason === 'AGENT')).toBe(true);

    const stopped = await api.ecs.send(new StopTaskCommand({ task: arn, reason: 'enough' }));
    expect(stopped.task).toMatchObject({ desiredStatus: 'STOPPED', stoppedReason: 'enough', stopCode: 'UserInitiated' });
    const done = await waitForTask(arn, (t) => t.lastStatus === 'STOPPED');
    expect(done.containers![0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 143 });
    expect(done.stoppedAt).toBeInstanceOf(Date);
    const after = await describeInstance(running.containerInstanceArn);
    expect(after.remainingResources!.find((r) => r.name === 'MEMORY')?.integerValue).toBe(1024);
    expect((await api.ecs.send(new ListTasksCommand({ desiredStatus: 'STOPPED', startedBy: 'test' }))).taskArns).toContain(arn);
  });

  it('acknowledges a payload only once the engine has saved its tasks', async () => {
    const { running } = await agent();
    const acks: string[] = [];
    const session = running.session as unknown as { send: (ws: unknown, frame: { type: string; message: { messageId?: string } }) => void };
    const send = session.send.bind(session);
    vi.spyOn(session, 'send').mockImplementation((ws, frame) => {
      if (frame.type === 'AckRequest') acks.push(frame.message.messageId!);
      send(ws, frame);
    });
    let release!: () => void;
    const saved = new Promise<void>((r) => (release = r));
    const handle = running.engine.handlePayload.bind(running.engine);
    const handling = vi.spyOn(running.engine, 'handlePayload').mockImplementation(async (tasks) => {
      await saved;
      return handle(tasks);
    });
    await api.ecs.send(new RunTaskCommand({ taskDefinition: 'small' }));
    await vi.waitFor(() => expect(handling).toHaveBeenCalled(), { timeout: 5_000 });
    // The handler has not finished: a payload acknowledged now could be lost to a crash.
    await new Promise((r) => setTimeout(r, 100));
    expect(acks).toEqual([]);
    release();
    await vi.waitFor(() => expect(acks).toHaveLength(1), { timeout: 5_000 });
  });

  it('refuses what does not fit with RESOURCE failures, and a cluster without instances', async () => {
    const { running } = await agent({ memoryMib: '100' });
    const r = await api.ecs.send(new StartTaskCommand({ taskDefinition: 'web', containerInstances: [running.containerInstanceArn] }));
    expect(r.failures).toEqual([{ arn: running.containerInstanceArn, reason: 'RESOURCE:MEMORY' }]);
    const count = await failure(api.ecs.send(new RunTaskCommand({ taskDefinition: 'small', count: 11 })));
    expect(count.name).toBe('InvalidParameterException');
  });

  it('reports an essential container exit: the task stops with the exit code and reason', async () => {
    const { world } = await agent();
    const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'small' }));
    const arn = tasks![0]!.taskArn!;
    await waitForTask(arn, (t) => t.lastStatus === 'RUNNING');
    world.runtime.exit(`${arn.split('/').at(-1)}-app`, 2);
    const t = await waitForTask(arn, (t) => t.lastStatus === 'STOPPED');
    expect(t).toMatchObject({ desiredStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', stopCode: 'EssentialContainerExited' });
    expect(t.containers![0]?.exitCode).toBe(2);
  });

  it('runs health checks and shows container and task health in DescribeTasks', async () => {
    const { world } = await agent();
    await api.ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'checked',
        containerDefinitions: [
          { name: 'app', image: 'busybox', memory: 64, healthCheck: { command: ['CMD-SHELL', 'true'], interval: 5, retries: 1 } },
          { name: 'side', image: 'busybox', memory: 64, essential: false },
        ],
      }),
    );
    const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'checked' }));
    const arn = tasks![0]!.taskArn!;
    const healthy = await waitForTask(arn, (t) => t.healthStatus === 'HEALTHY', 15_000);
    expect(healthy.containers!.find((c) => c.name === 'app')?.healthStatus).toBe('HEALTHY');
    expect(healthy.containers!.find((c) => c.name === 'side')?.healthStatus).toBe('UNKNOWN');
    world.runtime.execResults.set(`${arn.split('/').at(-1)}-app`, 1);
    const unhealthy = await waitForTask(arn, (t) => t.healthStatus === 'UNHEALTHY', 15_000);
    expect(unhealthy.lastStatus).toBe('RUNNING');
    expect(world.runtime.execs[0]?.args).toEqual(['/bin/sh', '-c', 'true']);
  }, 40_000);

  it('turns agentConnected false when the agent goes away, and re-registers a restarted agent as the same instance', async () => {
    const first = await agent();
    const arn = first.running.containerInstanceArn;
    await vi.waitFor(async () => expect((await describeInstance(arn)).agentConnected).toBe(true));
    await first.running.stop();
    agents.splice(agents.indexOf(first.running), 1);
    await vi.waitFor(async () => expect((await describeInstance(arn)).agentConnected).toBe(false), { timeout: 5_000 });
    const second = await agent({ dataDir: first.dataDir });
    expect(second.running.containerInstanceArn).toBe(arn);
    await vi.waitFor(async () => expect((await describeInstance(arn)).agentConnected).toBe(true), { timeout: 5_000 });
  });

  it("serves task metadata at the URL it puts in each container's environment, until it stops", async () => {
    const { running, world } = await agent({ metadata: true });
    expect(running.metadataUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await api.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'md', networkMode: 'host', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }),
    );
    const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'md' }));
    const arn = tasks![0]!.taskArn!;
    await waitForTask(arn, (t) => t.lastStatus === 'RUNNING');
    const runtimeId = `${arn.split('/').at(-1)}-app`;
    const env = Object.fromEntries(world.runtime.containers.get(runtimeId)!.spec.process.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
    const uri = env.ECS_CONTAINER_METADATA_URI_V4 as string;
    expect(uri).toMatch(new RegExp(`^${running.metadataUrl}/v4/[0-9a-f]{32}$`));
    expect(env.ECS_CONTAINER_METADATA_URI).toBe(uri.replace('/v4/', '/v3/'));

    const task = (await (await fetch(`${uri}/task`)).json()) as { Containers: unknown[] };
    expect(task).toMatchObject({ TaskARN: arn, Cluster: tasks![0]!.clusterArn, Family: 'md', KnownStatus: 'RUNNING', AvailabilityZone: 'us-east-1a', LaunchType: 'EC2' });
    expect(task.Containers).toMatchObject([{ DockerId: runtimeId, Name: 'app', KnownStatus: 'RUNNING', Networks: [{ NetworkMode: 'host' }] }]);
    // Tags come from the control plane (ListTagsForResource with the agent's credentials), or the reason they did not.
    const withTags = (await (await fetch(`${uri}/taskWithTags`)).json()) as { TaskARN: string; Errors?: { ErrorField: string }[] };
    expect(withTags.TaskARN).toBe(arn);
    expect('TaskTags' in withTags || withTags.Errors?.some((e) => e.ErrorField === 'TaskTags')).toBe(true);
    expect((await fetch(`${running.metadataUrl}/v4/${'0'.repeat(32)}/task`)).status).toBe(404);

    await running.stop();
    agents.splice(agents.indexOf(running), 1);
    await expect(fetch(`${uri}/task`)).rejects.toThrow();
  });

  it("gives a task's containers its role's credentials at the endpoint, renewed before they expire, never saved", async () => {
    const { running, world, dataDir } = await agent({ metadata: true, env: { ECS_ENABLE_TASK_IAM_ROLE: 'true', ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST: 'true' } });
    const roleArn = 'arn:aws:iam::123456789012:role/app';
    await api.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'roled', networkMode: 'host', taskRoleArn: roleArn, containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }),
    );
    const arn = (await api.ecs.send(new RunTaskCommand({ taskDefinition: 'roled' }))).tasks![0]!.taskArn!;
    await waitForTask(arn, (t) => t.lastStatus === 'RUNNING');
    const env = Object.fromEntries(world.runtime.containers.get(`${arn.split('/').at(-1)}-app`)!.spec.process.env.map((kv) => kv.split(/=(.*)/s).slice(0, 2)));
    const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI as string;
    expect(uri).toMatch(new RegExp(`^${running.metadataUrl}/v2/credentials/[0-9a-f-]{36}$`));
    const read = async () => (await (await fetch(uri)).json()) as { RoleArn: string; AccessKeyId: string; SecretAccessKey: string; Expiration: string };
    const first = await read();
    expect(first).toMatchObject({ RoleArn: roleArn, AccessKeyId: expect.stringMatching(/^ASIATEST/), Token: expect.any(String) });
    // Renewed at half their life, so the endpoint never serves expired ones.
    await vi.waitFor(async () => expect((await read()).AccessKeyId).not.toBe(first.AccessKeyId), { timeout: 5_000, interval: 100 });
    expect(Date.parse((await read()).Expiration)).toBeGreaterThan(Date.now());
    // The secret is in memory only: nothing the agent wrote holds it.
    const grep = spawnSync('grep', ['-rl', '--', '-x7q', dataDir], { encoding: 'utf8' });
    expect(grep.status).toBe(1);
    expect(grep.stdout).toBe('');
    await api.ecs.send(new StopTaskCommand({ task: arn }));
    await waitForTask(arn, (t) => t.lastStatus === 'STOPPED');
    expect((await fetch(uri)).status).toBe(400);
  });

  it('gives no credentials where task roles are not enabled, and places role tasks only where they are', async () => {
    const plain = await agent({ metadata: true });
    const roleArn = 'arn:aws:iam::123456789012:role/app';
    await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'roled-bridge', taskRoleArn: roleArn, containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
    const { tasks, failures } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'roled-bridge' }));
    expect(tasks).toEqual([]);
    // The connected agent lacks com.amazonaws.ecs.capability.task-iam-role (any other instance here is disconnected).
    expect(failures).toContainEqual({ arn: plain.running.containerInstanceArn, reason: 'ATTRIBUTE' });
  });

  it('deregisters an instance (force when it has tasks) and stops it receiving tasks', async () => {
    const { running } = await agent();
    await api.ecs.send(new RunTaskCommand({ taskDefinition: 'small', startedBy: 'dereg' }));
    const refused = await failure(api.ecs.send(new DeregisterContainerInstanceCommand({ containerInstance: running.containerInstanceArn })));
    expect(refused.name).toBe('InvalidParameterException');
    const { containerInstance } = await api.ecs.send(
      new DeregisterContainerInstanceCommand({ containerInstance: running.containerInstanceArn, force: true }),
    );
    expect(containerInstance).toMatchObject({ status: 'INACTIVE', agentConnected: false });
    const listed = await api.ecs.send(new ListContainerInstancesCommand({}));
    expect(listed.containerInstanceArns).not.toContain(running.containerInstanceArn);
  });
});
