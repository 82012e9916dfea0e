import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteServiceCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServicesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
  waitUntilServicesInactive,
  type Task,
  type TaskSet,
} from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { AWS_CLI, awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { runcContainers, untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';

const isRoot = process.getuid?.() === 0;

/**
 * Task sets and task scale-in protection end to end: a real `berth server` and two real `berth agent`s, each
 * on a simulated host (its own network namespace) serving the task metadata endpoint at 169.254.170.2:80,
 * running real containers with runc. An EXTERNAL service is deployed blue/green with task sets through the
 * SDK; a service's task protects itself from inside its container (`${ECS_AGENT_URI}/task-protection/v1/state`)
 * and survives a scale-in, which the AWS CLI v2 drives.
 */
describe.runIf(isRoot)('task sets and task protection on two hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-tasksets-'));
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  const hosts = ['h1', 'h2'];
  const agents = new Map<string, BerthAgentProcess>();
  const runcRoot = (host: string) => join(dir, host, 'runtime', 'runc');

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error(`the AWS CLI v2 is needed at ${AWS_CLI}`);
    lab = createHostLab(hosts.length);
    registry = await startDockerRegistry({ address: lab.gateway });
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), `${registry.host}/busybox:latest`);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    for (const memory of [64, 80]) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: `${registry.host}/busybox:latest`, memory }] }));
    }
    // A task protects itself with its own role's credentials, as in ECS (the agent's are not used for it).
    const iam = new IAMClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
    const { Role } = await iam.send(new CreateRoleCommand({ RoleName: 'protector', AssumeRolePolicyDocument: JSON.stringify(trust) }));
    const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'], Resource: '*' }] };
    await iam.send(new PutRolePolicyCommand({ RoleName: 'protector', PolicyName: 'protect', PolicyDocument: JSON.stringify(allow) }));
    iam.destroy();
    await ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'keeper', taskRoleArn: Role!.Arn!, containerDefinitions: [{ name: 'app', image: `${registry.host}/busybox:latest`, memory: 64 }] }),
    );
    for (const [i, name] of hosts.entries()) {
      const agent = startBerthAgent({
        endpoint: server.url,
        keys: server.keys,
        dataDir: join(dir, name),
        netns: lab.hosts[i]!.netns,
        env: {
          BERTH_METADATA_ADDRESS: '169.254.170.2:80',
          BERTH_CPU_UNITS: '2048',
          BERTH_MEMORY_MIB: '1024',
          BERTH_AVAILABILITY_ZONE: `us-east-1${'ab'[i]}`,
          BERTH_INSECURE_REGISTRIES: registry.host,
          ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
          ECS_CONTAINER_STOP_TIMEOUT: '1s',
          ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
          ECS_ENABLE_TASK_IAM_ROLE: 'true',
        },
      });
      agents.set(name, agent);
      await agent.waitForLog(/session with the control plane established/);
    }
  }, 120_000);

  afterAll(async () => {
    if (ecs) {
      // Services first (a failed test may leave one, which would replace the tasks stopped below), then tasks.
      const { serviceArns = [] } = await ecs.send(new ListServicesCommand({})).catch(() => ({ serviceArns: [] }));
      for (const service of serviceArns) await ecs.send(new DeleteServiceCommand({ service, force: true })).catch(() => {});
      if (serviceArns.length) {
        await waitUntilServicesInactive({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { services: serviceArns }).catch(() => {});
      }
      const { taskArns = [] } = await ecs.send(new ListTasksCommand({})).catch(() => ({ taskArns: [] }));
      for (const task of taskArns) await ecs.send(new StopTaskCommand({ task })).catch(() => {});
    }
    for (const [name, agent] of agents) {
      await untilAgentIdle(join(dir, name));
      await agent.kill();
    }
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function tasksOf(service: string): Promise<Task[]> {
    const { taskArns = [] } = await ecs.send(new ListTasksCommand({ serviceName: service }));
    return taskArns.length ? (await ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks! : [];
  }
  // As in ECS, DescribeTaskSets needs the sets named: their ids come from the service.
  const setsOf = async (service: string): Promise<TaskSet[]> => {
    const ids = (await ecs.send(new DescribeServicesCommand({ cluster: 'default', services: [service] }))).services![0]!.taskSets!.map((s) => s.id!);
    return ids.length ? (await ecs.send(new DescribeTaskSetsCommand({ cluster: 'default', service, taskSets: ids }))).taskSets! : [];
  };
  const setState = async (service: string, id: string) => {
    const s = (await setsOf(service)).find((x) => x.id === id);
    return s && { computed: s.computedDesiredCount, running: s.runningCount, pending: s.pendingCount, stability: s.stabilityStatus };
  };
  const containersRunning = () => hosts.reduce((n, h) => n + runcContainers(runcRoot(h)).length, 0);

  it('keeps each task set of an EXTERNAL service at its scale with real tasks, through a blue/green switch (SDK)', async () => {
    await ecs.send(new CreateServiceCommand({ serviceName: 'ext', desiredCount: 4, deploymentController: { type: 'EXTERNAL' } }));
    const blue = (await ecs.send(new CreateTaskSetCommand({ service: 'ext', cluster: 'default', taskDefinition: 'web:1', externalId: 'blue' }))).taskSet!;
    await expect.poll(() => setState('ext', blue.id!), { timeout: 60_000, interval: 250 }).toEqual({ computed: 4, running: 4, pending: 0, stability: 'STEADY_STATE' });
    const blueTasks = await tasksOf('ext');
    expect(blueTasks).toHaveLength(4);
    expect(blueTasks.every((t) => t.startedBy === blue.id && t.lastStatus === 'RUNNING' && t.group === 'service:ext')).toBe(true);
    // Spread over both hosts, as real runc containers.
    expect(new Set(blueTasks.map((t) => t.containerInstanceArn)).size).toBe(2);
    expect(containersRunning()).toBeGreaterThanOrEqual(4);

    // Green at half scale: 4 × 50 % = 2 tasks of web:2, beside blue's.
    const green = (
      await ecs.send(new CreateTaskSetCommand({ service: 'ext', cluster: 'default', taskDefinition: 'web:2', scale: { value: 50, unit: 'PERCENT' } }))
    ).taskSet!;
    await expect.poll(() => setState('ext', green.id!), { timeout: 60_000, interval: 250 }).toEqual({ computed: 2, running: 2, pending: 0, stability: 'STEADY_STATE' });
    await expect.poll(async () => (await ecs.send(new DescribeServicesCommand({ services: ['ext'] }))).services![0]!.runningCount, { timeout: 10_000 }).toBe(6);

    // Switch: green primary at full scale, blue to 0, then deleted.
    await ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster: 'default', service: 'ext', primaryTaskSet: green.taskSetArn! }));
    await ecs.send(new UpdateTaskSetCommand({ cluster: 'default', service: 'ext', taskSet: green.id!, scale: { value: 100, unit: 'PERCENT' } }));
    await ecs.send(new UpdateTaskSetCommand({ cluster: 'default', service: 'ext', taskSet: blue.id!, scale: { value: 0, unit: 'PERCENT' } }));
    await expect.poll(() => setState('ext', blue.id!), { timeout: 60_000, interval: 250 }).toEqual({ computed: 0, running: 0, pending: 0, stability: 'STEADY_STATE' });
    await expect.poll(() => setState('ext', green.id!), { timeout: 60_000, interval: 250 }).toEqual({ computed: 4, running: 4, pending: 0, stability: 'STEADY_STATE' });
    await ecs.send(new DeleteTaskSetCommand({ cluster: 'default', service: 'ext', taskSet: blue.id! }));
    await expect.poll(async () => (await setsOf('ext')).map((s) => s.id), { timeout: 30_000, interval: 250 }).toEqual([green.id]);
    const service = (await ecs.send(new DescribeServicesCommand({ services: ['ext'] }))).services![0]!;
    expect(service).toMatchObject({ taskDefinition: expect.stringMatching(/task-definition\/web:2$/), runningCount: 4, deployments: [] });
    const now = await tasksOf('ext');
    expect(now.map((t) => t.startedBy)).toEqual([green.id, green.id, green.id, green.id]);
    expect(now.every((t) => t.taskDefinitionArn!.endsWith('web:2'))).toBe(true);

    await ecs.send(new DeleteServiceCommand({ service: 'ext', force: true }));
    await waitUntilServicesInactive({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { services: ['ext'] });
  });

  /** Run a shell command inside the container of `task` (the host that holds it), with its environment. */
  function inContainer(task: Task, script: string): string {
    const id = task.containers![0]!.runtimeId!;
    const host = hosts.find((h) => runcContainers(runcRoot(h)).includes(id))!;
    return execFileSync('runc', ['--root', runcRoot(host), 'exec', id, 'sh', '-c', script], { encoding: 'utf8', timeout: 20_000 });
  }
  const cli = async (...args: string[]) => {
    const r = await awsCli(server.url, server.credentialsFile, ['ecs', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.json;
  };

  it('a task protects itself from inside its container and is kept through a scale-in until the protection is lifted (AWS CLI)', async () => {
    await cli('create-service', '--service-name', 'prot', '--task-definition', 'keeper:1', '--desired-count', '2');
    await expect.poll(async () => (await tasksOf('prot')).filter((t) => t.lastStatus === 'RUNNING').length, { timeout: 60_000, interval: 250 }).toBe(2);
    const [keeper, other] = await tasksOf('prot');

    // PUT through the agent's endpoint, the way ECS documents it (busybox has no curl: the request by hand over nc).
    const body = '{"ProtectionEnabled":true,"ExpiresInMinutes":10}';
    const put = inContainer(
      keeper!,
      `p="\${ECS_AGENT_URI#http://169.254.170.2}/task-protection/v1/state"; ` +
        // nc stops reading the answer when its input ends: the input stays open a moment longer.
        `{ printf 'PUT %s HTTP/1.0\\r\\nHost: 169.254.170.2\\r\\nContent-Type: application/json\\r\\nContent-Length: ${body.length}\\r\\n\\r\\n%s' "$p" '${body}'; sleep 2; } | nc 169.254.170.2 80`,
    );
    expect(put).toMatch(/^HTTP\/1\.[01] 200/);
    const answered = JSON.parse(put.slice(put.indexOf('\r\n\r\n') + 4)) as { protection: { ExpirationDate: string; ProtectionEnabled: boolean; TaskArn: string } };
    expect(answered.protection).toMatchObject({ ProtectionEnabled: true, TaskArn: keeper!.taskArn });
    const expires = Date.parse(answered.protection.ExpirationDate);
    expect(Math.abs(expires - (Date.now() + 10 * 60_000))).toBeLessThan(60_000);
    // GET from inside answers the same.
    const got = JSON.parse(inContainer(keeper!, 'wget -q -O - "$ECS_AGENT_URI/task-protection/v1/state"'));
    expect(got.protection).toMatchObject({ ProtectionEnabled: true, TaskArn: keeper!.taskArn });

    const read = await cli('get-task-protection', '--cluster', 'default', '--tasks', keeper!.taskArn!, other!.taskArn!, '0123456789abcdef0123456789abcdef');
    expect(read.protectedTasks).toEqual([
      { taskArn: keeper!.taskArn, protectionEnabled: true, expirationDate: expect.anything() },
      { taskArn: other!.taskArn, protectionEnabled: false },
    ]);
    expect(read.failures).toEqual([{ arn: keeper!.taskArn!.replace(/[0-9a-f]{32}$/, '0123456789abcdef0123456789abcdef'), reason: 'MISSING' }]);

    // Scale in to 0: the unprotected task goes; the protected one stays, and the service says why.
    await cli('update-service', '--service', 'prot', '--desired-count', '0');
    const state = async () => {
      const [k, o] = (await ecs.send(new DescribeTasksCommand({ tasks: [keeper!.taskArn!, other!.taskArn!] }))).tasks!;
      const events = (await ecs.send(new DescribeServicesCommand({ services: ['prot'] }))).services![0]!.events!.map((e) => e.message);
      return { keeper: k!.desiredStatus, other: o!.lastStatus, held: events.includes('(service prot) was unable to scale in due to (reason: 1 tasks under protection).') };
    };
    await expect.poll(state, { timeout: 30_000, interval: 250 }).toEqual({ keeper: 'RUNNING', other: 'STOPPED', held: true });

    // Lifted with the CLI: now it goes too.
    const lifted = await cli('update-task-protection', '--cluster', 'default', '--tasks', keeper!.taskArn!, '--no-protection-enabled');
    expect(lifted.protectedTasks).toEqual([{ taskArn: keeper!.taskArn, protectionEnabled: false }]);
    await expect.poll(async () => (await ecs.send(new DescribeTasksCommand({ tasks: [keeper!.taskArn!] }))).tasks![0]!.lastStatus, { timeout: 30_000, interval: 250 }).toBe('STOPPED');
    await cli('delete-service', '--service', 'prot');
  });
});
