import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StartTaskCommand,
  type NetworkConfiguration,
  type RunTaskRequest,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { removeAgentDir, startFakeAgent, untilConnected, type FakeAgent } from '../../testing/fake-agents.js';
import { failure } from '../../testing/failure.js';

/**
 * The Fargate launch type through the API, with fake runtime parts (real gVisor in test/e2e/fargate.test.ts):
 * a cluster with one EC2 container instance and one Fargate pool host. FARGATE tasks go only to the pool,
 * EC2 tasks never; the pool host is not the cluster's container instance; refusals are ECS's.
 */
let api: ApiFixture;
let ec2: FakeAgent;
let pool: FakeAgent;
const vpc: NetworkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-0abc'], securityGroups: ['sg-01'] } };
const arnOf = (a: FakeAgent) => a.running.containerInstanceArn;

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200 });
  ec2 = await startFakeAgent(api.server.url, { cpuUnits: 4096, memoryMib: 8192 });
  pool = await startFakeAgent(api.server.url, { cpuUnits: 4096, memoryMib: 8192, fargate: true });
  await untilConnected(api.ecs, [ec2]);
  const probe = { name: 'probe', image: 'busybox' };
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'fg', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [probe] }),
  );
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'fg-big',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '1024',
      memory: '2048',
      ephemeralStorage: { sizeInGiB: 50 },
      containerDefinitions: [probe],
    }),
  );
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'ec2', networkMode: 'awsvpc', containerDefinitions: [{ ...probe, memory: 64 }] }));
});

afterAll(async () => {
  for (const a of [ec2, pool]) {
    await a?.stop();
    if (a) removeAgentDir(a);
  }
  await api.stop();
});

const run = (input: Partial<RunTaskRequest>) => api.ecs.send(new RunTaskCommand({ taskDefinition: 'fg', networkConfiguration: vpc, ...input }));
/** RunTask retried until it places its task (a new pool host's agent is connecting), with a 5 s deadline. */
async function untilPlaced(input: Partial<RunTaskRequest>) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { tasks } = await run(input);
    if (tasks?.[0]) return tasks[0];
    if (Date.now() > deadline) throw new Error(`RunTask ${JSON.stringify(input)} placed nothing within 5 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const tasksOn = async (a: FakeAgent) => (await api.ecs.send(new ListTasksCommand({ containerInstance: arnOf(a) }))).taskArns ?? [];

describe('the Fargate pool host', () => {
  it('is not listed or described as a container instance of the cluster', async () => {
    expect((await api.ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns).toEqual([arnOf(ec2)]);
    const described = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [arnOf(pool), arnOf(ec2)] }));
    expect(described.containerInstances!.map((c) => c.containerInstanceArn)).toEqual([arnOf(ec2)]);
    expect(described.failures).toEqual([{ arn: arnOf(pool), reason: 'MISSING' }]);
    const { clusters } = await api.ecs.send(new DescribeClustersCommand({}));
    expect(clusters?.[0]?.registeredContainerInstancesCount).toBe(1);
  });

  it('cannot be named by StartTask', async () => {
    const started = await api.ecs.send(new StartTaskCommand({ taskDefinition: 'ec2', containerInstances: [arnOf(pool)], networkConfiguration: vpc }));
    expect(started.tasks).toEqual([]);
    expect(started.failures).toEqual([{ arn: arnOf(pool), reason: 'MISSING' }]);
  });
});

describe('RunTask with the Fargate launch type', () => {
  it('places FARGATE tasks on the pool host only, recorded as ECS records a Fargate task', async () => {
    const { tasks, failures } = await run({ launchType: 'FARGATE', count: 3 });
    expect(failures).toEqual([]);
    expect(tasks).toHaveLength(3);
    for (const t of tasks!) {
      expect(t).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE', platformVersion: '1.4.0', platformFamily: 'Linux', ephemeralStorage: { sizeInGiB: 20 } });
      expect(t.containerInstanceArn).toBeUndefined();
    }
    expect(await tasksOn(pool)).toEqual(expect.arrayContaining(tasks!.map((t) => t.taskArn)));
    expect(await tasksOn(ec2)).toEqual([]);
  });

  it('takes a FARGATE_SPOT strategy, platform version 1.4.0 and the task definition’s ephemeral storage', async () => {
    const { tasks } = await run({ taskDefinition: 'fg-big', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }], platformVersion: '1.4.0' });
    expect(tasks![0]).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE_SPOT', ephemeralStorage: { sizeInGiB: 50 }, cpu: '1024', memory: '2048' });
    const described = (await api.ecs.send(new DescribeTasksCommand({ tasks: [tasks![0]!.taskArn!] }))).tasks![0]!;
    expect(described.capacityProviderName).toBe('FARGATE_SPOT');
  });

  it('never places an EC2 task on the pool host', async () => {
    const { tasks } = await api.ecs.send(new RunTaskCommand({ taskDefinition: 'ec2', networkConfiguration: vpc, count: 10, launchType: 'EC2' }));
    expect(tasks).toHaveLength(10);
    for (const t of tasks!) expect(t).toMatchObject({ launchType: 'EC2', containerInstanceArn: arnOf(ec2) });
  });

  it.each([
    [{ taskDefinition: 'ec2', launchType: 'FARGATE' }, 'InvalidParameterException', 'Task definition does not support launch_type FARGATE.'],
    [{ launchType: 'FARGATE', networkConfiguration: undefined }, 'InvalidParameterException', "Network Configuration must be provided when networkMode 'awsvpc' is specified."],
    [
      { launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] },
      'InvalidParameterException',
      'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.',
    ],
    [{ launchType: 'FARGATE', platformVersion: '1.3.0' }, 'PlatformUnknownException', 'The specified platform version (1.3.0) does not exist. Linux platform versions: LATEST, 1.4.0.'],
    [
      { launchType: 'FARGATE', placementConstraints: [{ type: 'distinctInstance' }] },
      'InvalidParameterException',
      'Placement constraints are not supported with the FARGATE launch type.',
    ],
    [
      { capacityProviderStrategy: [{ capacityProvider: 'mine', weight: 1 }] },
      'InvalidParameterException',
      'The specified capacity provider strategy cannot contain a capacity provider that is not associated with the cluster. Associate the capacity provider with the cluster or specify a valid capacity provider and try again.',
    ],
    [
      { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 1, weight: 1 }] },
      'InvalidParameterException',
      'capacityProviderStrategy: only one capacity provider in a strategy can have a base defined.',
    ],
  ] as [Partial<RunTaskRequest>, string, string][])('refuses %j: %s, starting nothing', async (input, name, message) => {
    const before = (await api.ecs.send(new ListTasksCommand({}))).taskArns?.length;
    expect(await failure(run(input))).toMatchObject({ name, message });
    expect((await api.ecs.send(new ListTasksCommand({}))).taskArns?.length).toBe(before);
  });

  it('says so when the cluster’s pool has no host', async () => {
    await api.ecs.send(new CreateClusterCommand({ clusterName: 'empty' }));
    expect(await failure(run({ cluster: 'empty', launchType: 'FARGATE' }))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'No Fargate capacity in cluster empty: its Fargate pool has no hosts (join one with `berth agent --fargate`).',
    });
  });
});

describe('a pool host whose agent restarts without --fargate', () => {
  it('leaves the pool and becomes a container instance of the cluster', async () => {
    await pool.stop();
    pool = await startFakeAgent(api.server.url, { cpuUnits: 4096, memoryMib: 8192, dataDir: pool.dataDir, world: pool.world });
    await untilConnected(api.ecs, [pool]);
    expect((await api.ecs.send(new ListContainerInstancesCommand({}))).containerInstanceArns).toEqual(expect.arrayContaining([arnOf(ec2), arnOf(pool)]));
    expect(await failure(run({ launchType: 'FARGATE' }))).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/No Fargate capacity in cluster default/) });
  });
});

describe('FARGATE_SPOT interruption', () => {
  /**
   * A cluster of its own whose pool host (1024 CPU units, 1024 MiB) is full with two FARGATE_SPOT tasks; `body` gets
   * the spot request and a DescribeTasks of the two. The pool host is hidden from DescribeContainerInstances: its
   * session is up once a task can be placed there.
   */
  async function withFullSpotPool(cluster: string, body: (spot: Partial<RunTaskRequest>, describeBoth: () => Promise<Task[]>) => Promise<void>) {
    await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    const small = await startFakeAgent(api.server.url, { cluster, cpuUnits: 1024, memoryMib: 1024, fargate: true });
    try {
      const spot = { cluster, capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] };
      const first = await untilPlaced(spot);
      const second = (await run(spot)).tasks![0]!;
      await body(spot, async () => (await api.ecs.send(new DescribeTasksCommand({ cluster, tasks: [first.taskArn!, second.taskArn!] }))).tasks!);
    } finally {
      await small.stop();
      removeAgentDir(small);
    }
  }
  const interruptedOne = (tasks: Task[]) => {
    const interrupted = tasks.filter((t) => t.desiredStatus === 'STOPPED');
    expect(interrupted).toHaveLength(1);
    expect(interrupted[0]).toMatchObject({ stopCode: 'SpotInterruption', stoppedReason: 'Your Spot Task was interrupted.' });
  };

  it('interrupts spot tasks when an on-demand Fargate task needs their room, with stopCode SpotInterruption; a spot task interrupts nothing', async () => {
    await withFullSpotPool('spot', async (spot, describeBoth) => {
      // The pool is full: another spot task is refused for room, interrupting nothing.
      const refused = await run(spot);
      expect(refused.tasks).toEqual([]);
      expect(refused.failures![0]!.reason).toMatch(/RESOURCE:MEMORY|RESOURCE:CPU/);
      expect((await describeBoth()).map((t) => t.desiredStatus)).toEqual(['RUNNING', 'RUNNING']);

      const onDemand = await run({ cluster: 'spot', launchType: 'FARGATE' });
      expect(onDemand.failures).toEqual([]);
      expect(onDemand.tasks![0]).toMatchObject({ capacityProviderName: 'FARGATE' });
      interruptedOne(await describeBoth());
    });
  });

  it('interrupts spot tasks for a service’s on-demand FARGATE task too, reported alike', async () => {
    await withFullSpotPool('spot-svc', async (_spot, describeBoth) => {
      await api.ecs.send(
        new CreateServiceCommand({ cluster: 'spot-svc', serviceName: 'od', taskDefinition: 'fg', desiredCount: 1, launchType: 'FARGATE', networkConfiguration: vpc }),
      );
      // The service controller places its task by interrupting one spot task (the pool holds two of these tasks).
      const deadline = Date.now() + 10_000;
      let started: string[] = [];
      while (started.length === 0 && Date.now() < deadline) {
        started = (await api.ecs.send(new ListTasksCommand({ cluster: 'spot-svc', serviceName: 'od' }))).taskArns ?? [];
        if (started.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      expect(started).toHaveLength(1);
      const [task] = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'spot-svc', tasks: started }))).tasks!;
      expect(task).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE', group: 'service:od' });
      interruptedOne(await describeBoth());
      await api.ecs.send(new DeleteServiceCommand({ cluster: 'spot-svc', service: 'od', force: true }));
    });
  });
});
