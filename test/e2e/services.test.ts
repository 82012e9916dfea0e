import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
  waitUntilTasksStopped,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { runcContainers, untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';

const isRoot = process.getuid?.() === 0;
const LOST_AFTER_S = 3;

/**
 * Services end to end: a real `berth server` and three real `berth agent`s, each in its own network namespace
 * (a simulated host with its own zone), running real containers. Steady state, replacement, rolling updates
 * sampled throughout, the circuit breaker with an image that exits at once, DAEMON on a growing cluster,
 * draining, and an agent killed (its tasks replaced after --instance-lost-after, stopped when it comes back).
 */
describe.runIf(isRoot)('services on three hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-services-'));
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  const hosts = [
    { name: 'h1', zone: 'us-east-1a' },
    { name: 'h2', zone: 'us-east-1b' },
    { name: 'h3', zone: 'us-east-1c' },
  ];
  const agents = new Map<string, BerthAgentProcess>();
  /** Container instance ARN → host name. */
  const hostOf = new Map<string, string>();

  async function startAgent(i: number): Promise<BerthAgentProcess> {
    const h = hosts[i]!;
    const agent = startBerthAgent({
      endpoint: server.url,
      keys: server.keys,
      dataDir: join(dir, h.name),
      netns: lab.hosts[i]!.netns,
      env: {
        BERTH_CPU_UNITS: '2048',
        BERTH_MEMORY_MIB: '1024',
        BERTH_AVAILABILITY_ZONE: h.zone,
        BERTH_INSECURE_REGISTRIES: registry.host,
        ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
        ECS_CONTAINER_STOP_TIMEOUT: '1s',
        ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
      },
    });
    agents.set(h.name, agent);
    await agent.waitForLog(/session with the control plane established/);
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }));
    for (const ci of containerInstances!) {
      const zone = ci.attributes!.find((a) => a.name === 'ecs.availability-zone')!.value;
      hostOf.set(ci.containerInstanceArn!, hosts.find((x) => x.zone === zone)!.name);
    }
    return agent;
  }

  beforeAll(async () => {
    lab = createHostLab(hosts.length);
    registry = await startDockerRegistry({ address: lab.gateway });
    const layout = join(dir, 'layout');
    await pushImage(await buildBusyboxImage(layout, 'latest', { cmd: ['sleep', '3600'] }), `${registry.host}/busybox:latest`);
    await pushImage(await buildBusyboxImage(join(dir, 'crash'), 'crash', { cmd: ['false'] }), `${registry.host}/busybox:crash`);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`, '--instance-lost-after', `${LOST_AFTER_S}s`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    for (const [family, image, memory] of [
      ['web', 'latest', 64],
      ['web', 'latest', 80],
      ['crash', 'crash', 64],
    ] as const) {
      await ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'app', image: `${registry.host}/busybox:${image}`, memory }] }));
    }
    // Healthy until /tmp/sick exists in the container.
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'checked',
        containerDefinitions: [
          {
            name: 'app',
            image: `${registry.host}/busybox:latest`,
            memory: 64,
            healthCheck: { command: ['CMD-SHELL', 'test ! -e /tmp/sick'], interval: 5, timeout: 2, retries: 1 },
          },
        ],
      }),
    );
  }, 120_000);

  afterAll(async () => {
    if (ecs) {
      for (const desired of ['RUNNING', 'STOPPED'] as const) {
        const { taskArns = [] } = await ecs.send(new ListTasksCommand({ desiredStatus: desired })).catch(() => ({ taskArns: [] }));
        for (const task of taskArns) await ecs.send(new StopTaskCommand({ task })).catch(() => {});
      }
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

  const describeService = async (name: string): Promise<Service> => (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services![0]!;
  const waitStable = (name: string, maxWaitTime = 60) => waitUntilServicesStable({ client: ecs, maxWaitTime, minDelay: 1, maxDelay: 1 }, { services: [name] });

  /** Every task of the service not yet forgotten (desired RUNNING or STOPPED). */
  async function tasksOf(name: string): Promise<Task[]> {
    const arns: string[] = [];
    for (const desiredStatus of ['RUNNING', 'STOPPED'] as const) {
      const { taskArns } = await ecs.send(new ListTasksCommand({ serviceName: name, desiredStatus }));
      arns.push(...taskArns!);
    }
    // A task asked to stop between the two lists is in both.
    const unique = [...new Set(arns)];
    const out: Task[] = [];
    for (let i = 0; i < unique.length; i += 100) out.push(...(await ecs.send(new DescribeTasksCommand({ tasks: unique.slice(i, i + 100) }))).tasks!);
    return out;
  }
  const runningOf = async (name: string) => (await tasksOf(name)).filter((t) => t.lastStatus === 'RUNNING');

  async function remove(name: string): Promise<void> {
    await ecs.send(new DeleteServiceCommand({ service: name, force: true }));
    await waitUntilServicesInactive({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { services: [name] });
  }

  it('DAEMON: one task on each instance, and on an instance that joins', async () => {
    await startAgent(0);
    await startAgent(1);
    await ecs.send(new CreateServiceCommand({ serviceName: 'daemon', taskDefinition: 'web:1', schedulingStrategy: 'DAEMON' }));
    await waitStable('daemon');
    expect(new Set((await runningOf('daemon')).map((t) => hostOf.get(t.containerInstanceArn!))).size).toBe(2);
    await startAgent(2);
    await waitStable('daemon');
    const placed = (await runningOf('daemon')).map((t) => hostOf.get(t.containerInstanceArn!)).sort();
    expect(placed).toEqual(['h1', 'h2', 'h3']);
    expect((await describeService('daemon')).desiredCount).toBe(3);
    await remove('daemon');
  });

  it('reaches a steady state (AWS CLI), spread across zones, and replaces a task that is stopped', async () => {
    if (hasAwsCli) {
      const created = await awsCli(server.url, server.credentialsFile, [
        'ecs', 'create-service', '--service-name', 'web', '--task-definition', 'web:1', '--desired-count', '3',
      ]);
      expect(created.code, created.stderr).toBe(0);
      expect(created.json.service).toMatchObject({ serviceName: 'web', status: 'ACTIVE', desiredCount: 3 });
    } else {
      await ecs.send(new CreateServiceCommand({ serviceName: 'web', taskDefinition: 'web:1', desiredCount: 3 }));
    }
    await waitStable('web');
    const first = await runningOf('web');
    expect(first.map((t) => hostOf.get(t.containerInstanceArn!)).sort()).toEqual(['h1', 'h2', 'h3']);
    const events = (await describeService('web')).events!.map((e) => e.message);
    expect(events[0]).toBe('(service web) has reached a steady state.');

    await ecs.send(new StopTaskCommand({ task: first[0]!.taskArn!, reason: 'e2e' }));
    await waitUntilTasksStopped({ client: ecs, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { tasks: [first[0]!.taskArn!] });
    await waitStable('web');
    const after = await runningOf('web');
    expect(after).toHaveLength(3);
    expect(after.map((t) => t.taskArn)).not.toContain(first[0]!.taskArn);
  });

  /** Roll `web` to `taskDefinition` and sample the RUNNING count until the deployment completes. */
  async function rollAndSample(taskDefinition: string, min: number, max: number): Promise<number[]> {
    await ecs.send(new UpdateServiceCommand({ service: 'web', deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max } }));
    const { service } = await ecs.send(new UpdateServiceCommand({ service: 'web', taskDefinition }));
    const id = service!.deployments![0]!.id!;
    const samples: number[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      samples.push((await runningOf('web')).length);
      const s = await describeService('web');
      if (s.deployments!.length === 1 && s.deployments![0]!.id === id && s.deployments![0]!.rolloutState === 'COMPLETED' && s.runningCount === 4) break;
      if (Date.now() > deadline) throw new Error(`rollout did not complete: ${JSON.stringify(s.deployments)}`);
    }
    const running = await runningOf('web');
    expect(running.every((t) => t.startedBy === id && t.taskDefinitionArn!.endsWith(taskDefinition))).toBe(true);
    return samples;
  }

  it('rolls out with min 50% / max 100%: the RUNNING count stays within [2, 4] throughout', async () => {
    await ecs.send(new UpdateServiceCommand({ service: 'web', desiredCount: 4 }));
    await waitStable('web');
    const samples = await rollAndSample('web:2', 50, 100);
    expect(samples.length).toBeGreaterThan(10);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...samples)).toBeLessThanOrEqual(4);
    // It did go down to the floor: it had to, to make room.
    expect(Math.min(...samples)).toBe(2);
  });

  it('rolls out with min 100% / max 200%: the RUNNING count stays within [4, 8] throughout', async () => {
    const samples = await rollAndSample('web:1', 100, 200);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(4);
    expect(Math.max(...samples)).toBeLessThanOrEqual(8);
    expect(Math.max(...samples)).toBeGreaterThan(4);
  });

  it('trips the circuit breaker on an image that exits at once, and rolls back', async () => {
    await ecs.send(
      new UpdateServiceCommand({
        service: 'web',
        deploymentConfiguration: { minimumHealthyPercent: 50, maximumPercent: 200, deploymentCircuitBreaker: { enable: true, rollback: true } },
      }),
    );
    const good = (await describeService('web')).deployments![0]!.id!;
    const { service } = await ecs.send(new UpdateServiceCommand({ service: 'web', taskDefinition: 'crash' }));
    const bad = service!.deployments![0]!.id!;
    await expect
      .poll(async () => (await describeService('web')).events!.map((e) => e.message), { timeout: 60_000, interval: 250 })
      .toContain(`(service web) rolling back to deployment ${good}.`);
    const during = await describeService('web');
    expect(during.deployments!.find((d) => d.id === bad)).toMatchObject({ rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' });
    expect(during.deployments!.find((d) => d.id === bad)!.failedTasks).toBeGreaterThanOrEqual(3);
    await waitStable('web');
    const s = await describeService('web');
    expect(s.taskDefinition).toMatch(/web:1$/);
    expect(s.deployments).toEqual([expect.objectContaining({ id: good, rolloutState: 'COMPLETED' })]);
    // Every task of the failed deployment ends STOPPED: those that ran exited 1; one the rollback caught before its
    // container ran was stopped by the scheduler.
    const crashed = async () => (await tasksOf('web')).filter((t) => t.startedBy === bad);
    await expect.poll(async () => (await crashed()).filter((t) => t.lastStatus !== 'STOPPED').map((t) => t.taskArn), { timeout: 30_000, interval: 250 }).toEqual([]);
    const ended = await crashed();
    expect(ended.filter((t) => t.containers![0]!.exitCode === 1).length).toBeGreaterThanOrEqual(3);
    for (const t of ended.filter((t) => t.containers![0]!.exitCode !== 1)) expect(t).toMatchObject({ stopCode: 'ServiceSchedulerInitiated' });
  });

  it("replaces a DRAINING instance's tasks elsewhere; a standalone task there stays", async () => {
    // Drain the instance holding the most of the service's tasks (where the rollback put them is the scheduler's
    // choice), so that there is something to replace.
    const counts = new Map<string, number>();
    for (const t of await runningOf('web')) counts.set(t.containerInstanceArn!, (counts.get(t.containerInstanceArn!) ?? 0) + 1);
    const [drained, had] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    expect(had).toBeGreaterThan(0);
    const { tasks } = await ecs.send(new StartTaskCommand({ taskDefinition: 'web:1', containerInstances: [drained] }));
    const standalone = tasks![0]!.taskArn!;
    const standaloneStatus = async () => (await ecs.send(new DescribeTasksCommand({ tasks: [standalone] }))).tasks![0]!.lastStatus;
    await expect.poll(standaloneStatus, { timeout: 30_000, interval: 250 }).toBe('RUNNING');
    await ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [drained], status: 'DRAINING' }));
    await expect
      .poll(async () => (await runningOf('web')).filter((t) => t.containerInstanceArn !== drained).length, { timeout: 60_000, interval: 250 })
      .toBe(4);
    // Replaced within the bounds: new tasks first (min 50 %, max 200 %), then the drained ones stop.
    await expect.poll(async () => (await runningOf('web')).filter((t) => t.containerInstanceArn === drained).length, { timeout: 30_000, interval: 250 }).toBe(0);
    await waitStable('web');
    const [left] = (await ecs.send(new DescribeTasksCommand({ tasks: [standalone] }))).tasks!;
    expect(left).toMatchObject({ lastStatus: 'RUNNING', desiredStatus: 'RUNNING' });
    await ecs.send(new StopTaskCommand({ task: standalone }));
    await ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [drained], status: 'ACTIVE' }));
  });

  it('replaces the tasks of an agent killed for good after --instance-lost-after, and stops them when it comes back', async () => {
    await ecs.send(new UpdateServiceCommand({ service: 'web', desiredCount: 6 }));
    await waitStable('web');
    // The host holding the most of the service's tasks: where the earlier tests left them is up to placement.
    const running = await runningOf('web');
    const [lost] = [...hostOf.keys()]
      .map((arn) => [arn, running.filter((t) => t.containerInstanceArn === arn).length] as const)
      .sort((a, b) => b[1] - a[1])[0]!;
    const victim = hostOf.get(lost)!;
    const onLost = running.filter((t) => t.containerInstanceArn === lost).map((t) => t.taskArn!);
    expect(onLost.length).toBeGreaterThan(0);
    await agents.get(victim)!.kill('SIGKILL');
    const killedAt = Date.now();
    await expect
      .poll(async () => (await runningOf('web')).filter((t) => t.containerInstanceArn !== lost && t.desiredStatus === 'RUNNING').length, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(6);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(LOST_AFTER_S * 1000);
    const replaced = (await ecs.send(new DescribeTasksCommand({ tasks: onLost }))).tasks!;
    for (const t of replaced) expect(t).toMatchObject({ desiredStatus: 'STOPPED', stopCode: 'ServiceSchedulerInitiated' });
    // The containers kept running on that host without their agent; back, it stops them.
    expect(runcContainers(join(dir, victim, 'runtime', 'runc')).length).toBeGreaterThan(0);
    await startAgent(hosts.findIndex((h) => h.name === victim));
    await waitUntilTasksStopped({ client: ecs, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { tasks: onLost });
    await waitStable('web');
    await remove('web');
  });
  it('replaces a task whose container turns UNHEALTHY', async () => {
    await ecs.send(
      new CreateServiceCommand({ serviceName: 'checked', taskDefinition: 'checked', desiredCount: 2, deploymentConfiguration: { minimumHealthyPercent: 50 } }),
    );
    // RUNNING is not enough with health checks: the deployment completes once its tasks are HEALTHY.
    const completed = async () => (await describeService('checked')).deployments![0]!.rolloutState;
    await expect.poll(completed, { timeout: 60_000, interval: 250 }).toBe('COMPLETED');
    const before = await runningOf('checked');
    expect(before.map((t) => t.healthStatus)).toEqual(['HEALTHY', 'HEALTHY']);
    const victim = before[0]!;
    const host = hostOf.get(victim.containerInstanceArn!)!;
    execFileSync('runc', ['--root', join(dir, host, 'runtime', 'runc'), 'exec', victim.containers![0]!.runtimeId!, 'touch', '/tmp/sick']);
    await expect
      .poll(async () => (await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn!] }))).tasks![0]!.lastStatus, { timeout: 60_000, interval: 250 })
      .toBe('STOPPED');
    const [stopped] = (await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn!] }))).tasks!;
    expect(stopped).toMatchObject({ stoppedReason: 'Task failed container health checks', stopCode: 'ServiceSchedulerInitiated', healthStatus: 'UNHEALTHY' });
    await expect
      .poll(async () => (await runningOf('checked')).filter((t) => t.healthStatus === 'HEALTHY' && t.taskArn !== victim.taskArn).length, {
        timeout: 60_000,
        interval: 250,
      })
      .toBe(2);
    expect((await describeService('checked')).events!.map((e) => e.message)).toContain(
      `(service checked) (task ${victim.taskArn!.split('/').at(-1)}) failed container health checks.`,
    );
    await remove('checked');
  });
});
