import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  DescribeTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostGroupsService } from '../../hostgroups/host-groups-service.js';
import { checkedCalls } from '../../hostgroups/testing/checked-calls.js';
import { splitByStrategy } from '../../model/capacity-strategy.js';
import { MemoryStore } from '../../store/memory.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { removeAgentDir, startFakeAgent, type FakeAgent } from '../../testing/fake-agents.js';

/**
 * RunTask with a capacity provider strategy and `count` > 1 splits the call's tasks over the providers with ECS's
 * base and weight arithmetic — model/capacity-strategy.ts's splitByStrategy, the split services use — both for
 * FARGATE/FARGATE_SPOT (on a Fargate pool host, fake runtime) and for two providers of Auto Scaling groups (whose
 * groups are empty: the tasks wait in PROVISIONING, each recorded with its provider). A task waiting on a provider
 * whose group is then deleted is stopped by the server's capacity-wait pass within seconds.
 */
let api: ApiFixture;
let pool: FakeAgent;
let groups: (op: string, input: object) => Promise<any>;
const store = new MemoryStore();
const vpc = { awsvpcConfiguration: { subnets: ['subnet-0abc'] } };
const fargateMix = [
  { capacityProvider: 'FARGATE', base: 1, weight: 1 },
  { capacityProvider: 'FARGATE_SPOT', weight: 3 },
];
const groupMix = [
  { capacityProvider: 'web-cp', base: 2, weight: 1 },
  { capacityProvider: 'batch-cp', weight: 2 },
];

beforeAll(async () => {
  api = await startApiFixture({ storeInstance: store, heartbeatMs: 200 });
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'split' }));
  // Room for 64 Fargate tasks of 0.25 vCPU / 512 MiB: every call below fits.
  pool = await startFakeAgent(api.server.url, { cluster: 'split', cpuUnits: 16384, memoryMib: 32768, fargate: true });
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'fg', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [{ name: 'c', image: 'busybox' }] }),
  );
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'ec2', containerDefinitions: [{ name: 'c', image: 'busybox', memory: 64 }] }));
  // Two empty host groups and a provider over each, both the cluster's.
  const scope = { region: TEST_REGION, accountId: TEST_ACCOUNT };
  groups = checkedCalls(hostGroupsService({ store, scope, now: Date.now }));
  await groups('CreateLaunchConfiguration', { LaunchConfigurationName: 'hosts', ImageId: 'netns', InstanceType: 'berth.small' });
  for (const name of ['web', 'batch']) {
    await groups('CreateAutoScalingGroup', { AutoScalingGroupName: name, LaunchConfigurationName: 'hosts', MinSize: 0, MaxSize: 2, DesiredCapacity: 0, AvailabilityZones: ['us-east-1a'] });
    await api.ecs.send(new CreateCapacityProviderCommand({ name: `${name}-cp`, autoScalingGroupProvider: { autoScalingGroupArn: name } }));
  }
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'groups', capacityProviders: ['web-cp', 'batch-cp'] }));
});

afterAll(async () => {
  await pool?.stop();
  if (pool) removeAgentDir(pool);
  await api.stop();
});

const byProvider = (tasks: readonly Task[]) => {
  const out: Record<string, number> = {};
  for (const t of tasks) out[t.capacityProviderName!] = (out[t.capacityProviderName!] ?? 0) + 1;
  return out;
};
const expected = (strategy: typeof fargateMix, count: number) =>
  Object.fromEntries(splitByStrategy(strategy.map((i) => ({ base: 0, ...i })), count));

/** RunTask retried until the pool host's session is up and the call places its tasks (5 s deadline). */
async function runPlaced(count: number): Promise<Task[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { tasks = [], failures = [] } = await api.ecs.send(
      new RunTaskCommand({ cluster: 'split', taskDefinition: 'fg', count, capacityProviderStrategy: fargateMix, networkConfiguration: vpc }),
    );
    if (tasks.length === count) return tasks;
    for (const t of tasks) await api.ecs.send(new StopTaskCommand({ cluster: 'split', task: t.taskArn! }));
    if (Date.now() > deadline) throw new Error(`RunTask count ${count} placed ${tasks.length}: ${JSON.stringify(failures)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('RunTask splits a call of several tasks over its strategy', () => {
  it('FARGATE base 1 weight 1 + FARGATE_SPOT weight 3: ECS’s arithmetic for several counts (5 tasks: 2 and 3)', async () => {
    const seen: Record<number, Record<string, number>> = {};
    for (const count of [1, 2, 3, 5, 8, 10]) {
      const tasks = await runPlaced(count);
      seen[count] = byProvider(tasks);
      expect(seen[count], `count ${count}`).toEqual(expected(fargateMix, count));
      expect(tasks.every((t) => t.launchType === 'FARGATE')).toBe(true);
      // DescribeTasks shows the same split.
      const described = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'split', tasks: tasks.map((t) => t.taskArn!) }))).tasks!;
      expect(byProvider(described)).toEqual(seen[count]);
    }
    // The base is met first, then one FARGATE task for every three FARGATE_SPOT ones.
    expect(seen[1]).toEqual({ FARGATE: 1 });
    expect(seen[5]).toEqual({ FARGATE: 2, FARGATE_SPOT: 3 });
    expect(seen[10]).toEqual({ FARGATE: 3, FARGATE_SPOT: 7 });
  });

  it('two providers of Auto Scaling groups (base 2 weight 1 + weight 2): each task waits in PROVISIONING on its provider', async () => {
    for (const [count, want] of [
      [1, { 'web-cp': 1 }],
      [3, { 'web-cp': 2, 'batch-cp': 1 }],
      [5, { 'web-cp': 3, 'batch-cp': 2 }],
      [8, { 'web-cp': 4, 'batch-cp': 4 }],
    ] as const) {
      const { tasks = [], failures } = await api.ecs.send(new RunTaskCommand({ cluster: 'groups', taskDefinition: 'ec2', count, capacityProviderStrategy: groupMix }));
      expect(failures).toEqual([]);
      expect(byProvider(tasks), `count ${count}`).toEqual(want);
      expect(byProvider(tasks)).toEqual(expected(groupMix, count));
      expect(tasks.every((t) => t.lastStatus === 'PROVISIONING' && t.launchType === 'EC2' && t.containerInstanceArn === undefined)).toBe(true);
      for (const t of tasks) await api.ecs.send(new StopTaskCommand({ cluster: 'groups', task: t.taskArn! }));
    }
  });

  it('a task waiting on a provider whose Auto Scaling group is deleted is stopped at once, not after 30 minutes', async () => {
    const { tasks = [] } = await api.ecs.send(new RunTaskCommand({ cluster: 'groups', taskDefinition: 'ec2', count: 2, capacityProviderStrategy: [{ capacityProvider: 'batch-cp', weight: 1 }] }));
    expect(tasks.map((t) => t.lastStatus)).toEqual(['PROVISIONING', 'PROVISIONING']);
    await groups('DeleteAutoScalingGroup', { AutoScalingGroupName: 'batch', ForceDelete: true });
    // The leader's capacity-wait pass runs every second.
    const deadline = Date.now() + 10_000;
    let described: Task[] = [];
    for (;;) {
      described = (await api.ecs.send(new DescribeTasksCommand({ cluster: 'groups', tasks: tasks.map((t) => t.taskArn!) }))).tasks!;
      if (described.every((t) => t.lastStatus === 'STOPPED') || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    for (const t of described) {
      expect(t).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'TaskFailedToStart: EMPTY CAPACITY PROVIDER', capacityProviderName: 'batch-cp' });
    }
  });
});
