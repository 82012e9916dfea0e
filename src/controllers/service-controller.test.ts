import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterContainerInstanceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
  UpdateServiceCommand,
  waitUntilServicesInactive,
  waitUntilServicesStable,
  waitUntilTasksRunning,
  waitUntilTasksStopped,
  type CreateServiceCommandInput,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../state/keys.js';
import type { TaskRecord } from '../state/records/tasks.js';
import { transact } from '../store/transact.js';
import { startApiFixture, type ApiFixture } from '../testing/api-server.js';
import { removeAgentDir, startFakeAgent, type FakeAgent, type FakeAgentOptions } from '../testing/fake-agents.js';

/**
 * The service controller against the real API and real agents whose runtime parts are fakes (containers run
 * until a test makes them exit): steady state, replacement, rolling updates, health, the circuit breaker,
 * DAEMON services, draining and lost hosts. The pure arithmetic has its own table and property tests.
 */
let api: ApiFixture;
const agents: FakeAgent[] = [];
const LOST_AFTER_MS = 1_500;

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 1_000, instanceLostAfterMs: LOST_AFTER_MS, serviceResyncMs: 1_000 });
  for (const [family, memory, image] of [
    ['web', 64, 'busybox'],
    ['web', 96, 'busybox'],
    ['broken', 64, 'missing-image'],
  ] as const) {
    await api.ecs.send(new RegisterTaskDefinitionCommand({ family, containerDefinitions: [{ name: 'app', image, memory }] }));
  }
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
});
afterAll(async () => {
  for (const a of agents) await a.stop();
  await api.stop();
  for (const a of agents) removeAgentDir(a);
});

async function agentIn(cluster: string, options: FakeAgentOptions = {}): Promise<FakeAgent> {
  const a = await startFakeAgent(api.server.url, { cluster, ...options });
  agents.push(a);
  return a;
}

/** A cluster of its own with fake agents, so tests do not share capacity. */
async function clusterWith(name: string, ...hosts: FakeAgentOptions[]): Promise<FakeAgent[]> {
  await api.ecs.send(new CreateClusterCommand({ clusterName: name }));
  const started: FakeAgent[] = [];
  for (const h of hosts) started.push(await agentIn(name, h));
  await expect.poll(() => connected(name, started), { timeout: 5_000 }).toBe(true);
  return started;
}

async function connected(cluster: string, hosts: FakeAgent[]): Promise<boolean> {
  const { entries } = await api.server.store.range(keys.containerInstancesOf(cluster));
  const ids = new Set(entries.filter((e) => JSON.parse(e.value).instance.agentConnected).map((e) => e.key.split('/').at(-1)));
  return hosts.every((h) => ids.has(h.instanceId));
}

const createService = (cluster: string, input: Partial<CreateServiceCommandInput>) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'web', taskDefinition: 'web:1', desiredCount: 2, ...input }));

async function describeService(cluster: string, name = 'web'): Promise<Service> {
  return (await api.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0]!;
}

/** The service's tasks straight from the store (any status), for sampling without API round trips. */
async function storedTasks(cluster: string, name = 'web'): Promise<TaskRecord[]> {
  const { entries } = await api.server.store.range(keys.tasksOf(cluster));
  return entries.map((e) => JSON.parse(e.value) as TaskRecord).filter((t) => t.serviceName === name);
}

async function liveTasks(cluster: string, name = 'web'): Promise<Task[]> {
  const { taskArns } = await api.ecs.send(new ListTasksCommand({ cluster, serviceName: name }));
  if (!taskArns?.length) return [];
  return (await api.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks!;
}

/** The ServicesStable waiter's condition, polled fast (the SDK's waiters, which poll once a second at best, are used where they are the point). */
async function waitStable(cluster: string, name = 'web', timeout = 20_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const s = await describeService(cluster, name);
        return s.deployments!.length === 1 && s.runningCount === s.desiredCount;
      },
      { timeout, interval: 20 },
    )
    .toBe(true);
}

const messages = async (cluster: string, name = 'web') => (await describeService(cluster, name)).events!.map((e) => e.message!);

async function editTask(cluster: string, id: string, change: (t: TaskRecord) => TaskRecord) {
  await transact(api.server.store, async (tx) => {
    const t = await tx.getJson<TaskRecord>(keys.task(cluster, id));
    tx.putJson(keys.task(cluster, id), change(t!));
  });
}

describe('a REPLICA service', () => {
  it('reaches a steady state: desired tasks RUNNING, spread across zones, grouped and started by its deployment', async () => {
    await clusterWith('steady', { zone: 'us-east-1a' }, { zone: 'us-east-1b' });
    const { service } = await createService('steady', { desiredCount: 4 });
    const deploymentId = service!.deployments![0]!.id!;
    await waitUntilServicesStable({ client: api.ecs, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { cluster: 'steady', services: ['web'] });
    const tasks = await liveTasks('steady');
    expect(tasks).toHaveLength(4);
    for (const t of tasks) expect(t).toMatchObject({ lastStatus: 'RUNNING', group: 'service:web', startedBy: deploymentId });
    expect(tasks.filter((t) => t.availabilityZone === 'us-east-1a')).toHaveLength(2);
    await waitUntilTasksRunning({ client: api.ecs, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { cluster: 'steady', tasks: tasks.map((t) => t.taskArn!) });
    const s = await describeService('steady');
    expect(s).toMatchObject({ runningCount: 4, pendingCount: 0, desiredCount: 4 });
    expect(s.deployments).toEqual([
      expect.objectContaining({ id: deploymentId, status: 'PRIMARY', runningCount: 4, rolloutState: 'COMPLETED', rolloutStateReason: `ECS deployment ${deploymentId} completed.` }),
    ]);
    const events = s.events!.map((e) => e.message);
    expect(events[0]).toBe('(service web) has reached a steady state.');
    expect(events[1]).toBe(`(service web) (deployment ${deploymentId}) deployment completed.`);
    expect(events.some((m) => /^\(service web\) has started \d tasks: (\(task [0-9a-f]{32}\) ?)+\.$/.test(m!))).toBe(true);
    // Events are newest first.
    const times = s.events!.map((e) => e.createdAt!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('replaces a task that is stopped or whose essential container exits', async () => {
    const [host] = await clusterWith('replace', {});
    await createService('replace', { desiredCount: 2 });
    await waitStable('replace');
    const [first, second] = await liveTasks('replace');
    await api.ecs.send(new StopTaskCommand({ cluster: 'replace', task: first!.taskArn! }));
    host!.world.runtime.exit(`${second!.taskArn!.split('/').at(-1)}-app`, 1);
    await waitUntilTasksStopped({ client: api.ecs, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { cluster: 'replace', tasks: [first!.taskArn!, second!.taskArn!] });
    await expect
      .poll(async () => (await liveTasks('replace')).filter((t) => t.lastStatus === 'RUNNING' && t.taskArn !== first!.taskArn && t.taskArn !== second!.taskArn).length, {
        timeout: 10_000,
      })
      .toBe(2);
    await waitStable('replace');
  });

  it('scales out and in, stopping tasks with the scheduler reason', async () => {
    await clusterWith('scale', {}, {});
    const { service } = await createService('scale', { desiredCount: 1 });
    await waitStable('scale');
    await api.ecs.send(new UpdateServiceCommand({ cluster: 'scale', service: 'web', desiredCount: 5 }));
    await waitStable('scale');
    expect(await liveTasks('scale')).toHaveLength(5);
    await api.ecs.send(new UpdateServiceCommand({ cluster: 'scale', service: 'web', desiredCount: 2 }));
    await waitStable('scale');
    expect(await liveTasks('scale')).toHaveLength(2);
    const stopped = (await storedTasks('scale')).filter((t) => t.task.stopCode === 'ServiceSchedulerInitiated');
    expect(stopped).toHaveLength(3);
    for (const t of stopped) expect(t.task.stoppedReason).toBe(`Scaling activity initiated by (deployment ${service!.deployments![0]!.id})`);
    expect((await messages('scale')).some((m) => m.startsWith('(service web) has stopped 3 running tasks: (task '))).toBe(true);
  });

  it.each([
    { min: 50, max: 100, desired: 4, bounds: '[2, 4]' },
    { min: 100, max: 200, desired: 4, bounds: '[4, 8]' },
    { min: 0, max: 100, desired: 3, bounds: '[0, 3]' },
  ])('rolls out a new task definition with min $min / max $max percent of $desired: RUNNING stays within $bounds', async ({ min, max, desired }) => {
    const name = `roll-${min}-${max}`;
    await clusterWith(name, {}, {});
    await createService(name, { desiredCount: desired, deploymentConfiguration: { minimumHealthyPercent: min, maximumPercent: max } });
    await waitStable(name);
    const floor = Math.ceil((desired * min) / 100);
    const ceiling = Math.floor((desired * max) / 100);
    const { service } = await api.ecs.send(new UpdateServiceCommand({ cluster: name, service: 'web', taskDefinition: 'web:2' }));
    const newId = service!.deployments![0]!.id!;
    const samples: number[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const tasks = await storedTasks(name);
      samples.push(tasks.filter((t) => t.task.lastStatus === 'RUNNING').length);
      const s = await describeService(name);
      if (s.deployments!.length === 1 && s.deployments![0]!.rolloutState === 'COMPLETED' && s.runningCount === desired) break;
      if (Date.now() > deadline) throw new Error(`rollout did not complete: ${JSON.stringify(s.deployments)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(floor);
    expect(Math.max(...samples)).toBeLessThanOrEqual(ceiling);
    const running = (await liveTasks(name)).filter((t) => t.lastStatus === 'RUNNING');
    expect(running.every((t) => t.startedBy === newId && t.taskDefinitionArn!.endsWith('web:2'))).toBe(true);
  });
});

describe('an awsvpc service', () => {
  it("gives each task an interface on the deployment's subnets", async () => {
    await clusterWith('vpc', {});
    await createService('vpc', { taskDefinition: 'vpc', networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a1'], securityGroups: ['sg-1'] } } });
    await waitStable('vpc');
    const tasks = await liveTasks('vpc');
    expect(tasks).toHaveLength(2);
    for (const t of tasks) {
      const eni = t.attachments!.find((a) => a.type === 'ElasticNetworkInterface')!;
      expect(eni.details).toContainEqual({ name: 'subnetId', value: 'subnet-a1' });
    }
  });
});

describe('health', () => {
  it('replaces a task whose container turns UNHEALTHY, once the grace period is over', async () => {
    await clusterWith('health', {});
    const graceMs = 3_000;
    await createService('health', { desiredCount: 2, healthCheckGracePeriodSeconds: graceMs / 1000, deploymentConfiguration: { minimumHealthyPercent: 50 } });
    await waitStable('health');
    const [victim] = await storedTasks('health');
    const graceEnds = victim!.task.startedAt! * 1000 + graceMs;
    await editTask('health', victim!.id, (t) => ({
      ...t,
      task: { ...t.task, healthStatus: 'UNHEALTHY', containers: t.task.containers!.map((c) => ({ ...c, healthStatus: 'UNHEALTHY' })) },
    }));
    // Marked UNHEALTHY within its grace period: it must outlive the period, then go.
    expect(Date.now()).toBeLessThan(graceEnds);
    await expect.poll(async () => (await storedTasks('health')).find((t) => t.id === victim!.id)!.task.desiredStatus, { timeout: 10_000 }).toBe('STOPPED');
    const stopped = (await storedTasks('health')).find((t) => t.id === victim!.id)!;
    expect(stopped.task.stoppedReason).toBe('Task failed container health checks');
    expect(stopped.task.stoppingAt! * 1000).toBeGreaterThanOrEqual(graceEnds - 10);
    expect(await messages('health')).toContain(`(service web) (task ${victim!.id}) failed container health checks.`);
    await waitStable('health');
    expect((await liveTasks('health')).map((t) => t.taskArn)).not.toContain(victim!.task.taskArn);
  });
});

describe('the circuit breaker', () => {
  it('fails a deployment whose tasks cannot start and rolls back to the last completed one', async () => {
    await clusterWith('breaker', {});
    const { service } = await createService('breaker', {
      desiredCount: 2,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true }, minimumHealthyPercent: 50 },
    });
    const good = service!.deployments![0]!.id!;
    await waitStable('breaker');
    const updated = await api.ecs.send(new UpdateServiceCommand({ cluster: 'breaker', service: 'web', taskDefinition: 'broken' }));
    const bad = updated.service!.deployments![0]!.id!;
    await expect.poll(async () => (await describeService('breaker')).deployments!.find((d) => d.id === bad)?.rolloutState ?? 'gone', { timeout: 15_000 }).toMatch(/FAILED|gone/);
    await waitStable('breaker');
    const s = await describeService('breaker');
    expect(s.deployments).toEqual([expect.objectContaining({ id: good, status: 'PRIMARY', rolloutState: 'COMPLETED' })]);
    expect(s.taskDefinition).toMatch(/web:1$/);
    const events = s.events!.map((e) => e.message);
    expect(events).toContain(`(service web) (deployment ${bad}) deployment failed: tasks failed to start.`);
    expect(events).toContain(`(service web) rolling back to deployment ${good}.`);
    const failed = (await storedTasks('breaker')).filter((t) => t.task.startedBy === bad);
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.every((t) => t.task.lastStatus === 'STOPPED')).toBe(true);
  });

  it('without rollback, leaves the deployment FAILED and starts no more of its tasks', async () => {
    await clusterWith('breaker-stall', {});
    await createService('breaker-stall', { desiredCount: 1, taskDefinition: 'broken', deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: false } } });
    await expect.poll(async () => (await describeService('breaker-stall')).deployments![0]!.rolloutState, { timeout: 15_000 }).toBe('FAILED');
    const s = await describeService('breaker-stall');
    expect(s.deployments![0]).toMatchObject({ failedTasks: 3, rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' });
    const count = (await storedTasks('breaker-stall')).length;
    // Asking for more tasks does not restart launches: the controller looks again (twice) and starts none.
    await api.ecs.send(new UpdateServiceCommand({ cluster: 'breaker-stall', service: 'web', desiredCount: 2 }));
    const passes = api.server.serviceController.passes('breaker-stall/web');
    await expect.poll(() => api.server.serviceController.passes('breaker-stall/web'), { timeout: 5_000 }).toBeGreaterThanOrEqual(passes + 2);
    expect((await storedTasks('breaker-stall')).length).toBe(count);
  });
});

describe('a DAEMON service', () => {
  it('runs one task on each ACTIVE instance that meets its constraints, and on new ones as they join', async () => {
    await clusterWith('daemons', { attributes: { role: 'worker' } }, { attributes: { role: 'worker' } }, { attributes: { role: 'db' } });
    await createService('daemons', {
      schedulingStrategy: 'DAEMON',
      desiredCount: undefined,
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:role == worker' }],
    });
    await waitStable('daemons');
    const perInstance = async () => (await liveTasks('daemons')).map((t) => t.containerInstanceArn!.split('/').at(-1)).sort();
    expect(await perInstance()).toHaveLength(2);
    expect(new Set(await perInstance()).size).toBe(2);
    const joined = await agentIn('daemons', { attributes: { role: 'worker' } });
    await expect.poll(perInstance, { timeout: 10_000 }).toContain(joined.instanceId);
    await waitStable('daemons');
    expect((await describeService('daemons')).desiredCount).toBe(3);
    expect(new Set(await perInstance()).size).toBe(3);
  });
});

describe('draining and lost instances', () => {
  it("replaces a DRAINING instance's service tasks elsewhere; standalone tasks stay", async () => {
    const [a, b] = await clusterWith('drain', {}, {});
    await createService('drain', { desiredCount: 4, placementStrategy: [{ type: 'spread', field: 'instanceId' }] });
    await waitStable('drain');
    const { tasks: standalone } = await api.ecs.send(
      new StartTaskCommand({ cluster: 'drain', taskDefinition: 'web:1', containerInstances: [a!.running.containerInstanceArn] }),
    );
    await api.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: 'drain', containerInstances: [a!.running.containerInstanceArn], status: 'DRAINING' }));
    await expect
      .poll(async () => (await liveTasks('drain')).filter((t) => t.lastStatus === 'RUNNING' && t.containerInstanceArn === b!.running.containerInstanceArn).length, {
        timeout: 10_000,
      })
      .toBe(4);
    await expect.poll(async () => (await liveTasks('drain')).filter((t) => t.containerInstanceArn === a!.running.containerInstanceArn).length, { timeout: 10_000 }).toBe(0);
    await waitStable('drain');
    const left = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'drain', tasks: [standalone![0]!.taskArn!] }))).tasks![0]!;
    expect(left.desiredStatus).toBe('RUNNING');
  });

  it("replaces a lost instance's tasks, and stops them when its agent comes back", async () => {
    const [a, b] = await clusterWith('lost', {}, {});
    await createService('lost', { desiredCount: 4, placementStrategy: [{ type: 'spread', field: 'instanceId' }] });
    await waitStable('lost');
    const onA = (await liveTasks('lost')).filter((t) => t.containerInstanceArn === a!.running.containerInstanceArn).map((t) => t.taskArn!);
    expect(onA).toHaveLength(2);
    await a!.stop();
    const stoppedAt = Date.now();
    await expect
      .poll(async () => (await liveTasks('lost')).filter((t) => t.lastStatus === 'RUNNING' && t.containerInstanceArn === b!.running.containerInstanceArn).length, {
        timeout: 15_000,
      })
      .toBe(4);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(LOST_AFTER_MS);
    const replaced = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'lost', tasks: onA }))).tasks!;
    for (const t of replaced) expect(t).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'RUNNING', stopCode: 'ServiceSchedulerInitiated' });
    expect(replaced[0]!.stoppedReason).toMatch(/container instance .* was lost/);
    // The agent comes back with its containers still running: they are stopped.
    const back = await agentIn('lost', { dataDir: a!.dataDir, world: a!.world });
    expect(back.instanceId).toBe(a!.instanceId);
    await waitUntilTasksStopped({ client: api.ecs, maxWaitTime: 15, minDelay: 1, maxDelay: 1 }, { cluster: 'lost', tasks: onA });
    await waitStable('lost');
  });
});

describe('an instance that never comes back', () => {
  it('has its replaced tasks stopped for good when it is deregistered', async () => {
    const [a, b] = await clusterWith('gone', {}, {});
    await createService('gone', { desiredCount: 2, placementStrategy: [{ type: 'spread', field: 'instanceId' }] });
    await waitStable('gone');
    const onA = (await liveTasks('gone')).filter((t) => t.containerInstanceArn === a!.running.containerInstanceArn).map((t) => t.taskArn!);
    await a!.stop();
    await expect
      .poll(async () => (await liveTasks('gone')).filter((t) => t.lastStatus === 'RUNNING' && t.containerInstanceArn === b!.running.containerInstanceArn).length, {
        timeout: 15_000,
      })
      .toBe(2);
    // Replaced, but with no agent to report them they are still "RUNNING", desired STOPPED.
    expect((await api.ecs.send(new DescribeTasksCommand({ cluster: 'gone', tasks: onA }))).tasks!.map((t) => t.lastStatus)).toEqual(['RUNNING']);
    await api.ecs.send(new DeregisterContainerInstanceCommand({ cluster: 'gone', containerInstance: a!.running.containerInstanceArn, force: true }));
    await waitUntilTasksStopped({ client: api.ecs, maxWaitTime: 10, minDelay: 1, maxDelay: 1 }, { cluster: 'gone', tasks: onA });
    const [t] = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'gone', tasks: onA }))).tasks!;
    expect(t!.stoppedReason).toMatch(/was lost/);
  });
});

describe('deleting a service', () => {
  it('starts its tasks with its tags and enableExecuteCommand; deleting it stops them, then the service becomes INACTIVE', async () => {
    await clusterWith('delete', {});
    await createService('delete', { desiredCount: 2, propagateTags: 'SERVICE', enableECSManagedTags: true, enableExecuteCommand: true, tags: [{ key: 'team', value: 'infra' }] });
    await waitStable('delete');
    const arns = (await liveTasks('delete')).map((t) => t.taskArn!);
    const { tasks } = await api.ecs.send(new DescribeTasksCommand({ cluster: 'delete', tasks: arns, include: ['TAGS'] }));
    // The service's enableExecuteCommand goes to the tasks it starts, as in ECS.
    expect(tasks!.every((t) => t.enableExecuteCommand === true)).toBe(true);
    expect(tasks![0]!.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'infra' },
        { key: 'aws:ecs:serviceName', value: 'web' },
        { key: 'aws:ecs:clusterName', value: 'delete' },
      ]),
    );
    await api.ecs.send(new DeleteServiceCommand({ cluster: 'delete', service: 'web', force: true }));
    await waitUntilServicesInactive({ client: api.ecs, maxWaitTime: 15, minDelay: 1, maxDelay: 1 }, { cluster: 'delete', services: ['web'] });
    const after = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'delete', tasks: arns }))).tasks!;
    expect(after.every((t) => t.lastStatus === 'STOPPED')).toBe(true);
  });
});
