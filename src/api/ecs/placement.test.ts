import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteAttributesCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ListAttributesCommand,
  ListContainerInstancesCommand,
  PutAttributesCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { compileAgentConfig } from '../../agent/config.js';
import { fakeWorld } from '../../agent/testing/fakes.js';
import { startApiFixture, TEST_KEYS, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/**
 * Placement through the API: RunTask with strategies and constraints over agents of different sizes,
 * zones and attributes (agents with fake runtime parts; the real ones are exercised end to end).
 */
let api: ApiFixture;
const agents: RunningAgent[] = [];
const dirs: string[] = [];
const arns: Record<string, string> = {};

async function agent(name: string, env: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), `berth-placement-${name}-`));
  dirs.push(dataDir);
  const world = fakeWorld();
  world.images.add('busybox');
  const config = compileAgentConfig({ flags: { endpoint: api.server.url, dataDir }, env, readFile: () => undefined });
  const running = await startAgent({ config, parts: world.deps, log: pino({ level: 'silent' }), credentials: TEST_KEYS });
  agents.push(running);
  arns[name] = running.containerInstanceArn;
}

const byArn = () => Object.fromEntries(Object.entries(arns).map(([name, arn]) => [arn, name]));

async function run(taskDefinition: string, input: Partial<ConstructorParameters<typeof RunTaskCommand>[0]> = {}) {
  return api.ecs.send(new RunTaskCommand({ taskDefinition, ...input }));
}

/** Instance names of every task not yet stopped in the cluster. */
async function placementsOf(taskArns: string[]): Promise<string[]> {
  const names = byArn();
  const { tasks } = await api.ecs.send(new DescribeTasksCommand({ tasks: taskArns }));
  return tasks!.map((t) => names[t.containerInstanceArn!]!);
}

/** Stop tasks and wait until their agents report them STOPPED (their resources are free again). */
async function stopAll(taskArns: string[]) {
  for (const task of taskArns) await api.ecs.send(new StopTaskCommand({ task }));
  await vi.waitFor(
    async () => {
      const { tasks } = await api.ecs.send(new DescribeTasksCommand({ tasks: taskArns }));
      expect(tasks!.every((t) => t.lastStatus === 'STOPPED')).toBe(true);
    },
    { timeout: 5_000, interval: 20 },
  );
}

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200 });
  await agent('a-small', { BERTH_CPU_UNITS: '1024', BERTH_MEMORY_MIB: '512', BERTH_AVAILABILITY_ZONE: 'us-east-1a', ECS_INSTANCE_ATTRIBUTES: '{"stack":"prod","disk":"ssd"}' });
  await agent('a-large', { BERTH_CPU_UNITS: '4096', BERTH_MEMORY_MIB: '4096', BERTH_AVAILABILITY_ZONE: 'us-east-1a', ECS_INSTANCE_ATTRIBUTES: '{"stack":"prod"}' });
  await agent('b-medium', { BERTH_CPU_UNITS: '2048', BERTH_MEMORY_MIB: '2048', BERTH_AVAILABILITY_ZONE: 'us-east-1b', ECS_INSTANCE_ATTRIBUTES: '{"stack":"dev"}' });
  await vi.waitFor(
    async () => {
      const { containerInstances } = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: Object.values(arns) }));
      expect(containerInstances!.every((i) => i.agentConnected)).toBe(true);
    },
    { timeout: 5_000 },
  );
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'mem256', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 256, cpu: 128 }] }),
  );
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'prod-only',
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack == prod' }],
      containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }],
    }),
  );
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await api.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('RunTask placement', () => {
  it('binpacks on memory: fills the instance with the least memory left that still fits', async () => {
    const { tasks, failures } = await run('mem256', { count: 2, placementStrategy: [{ type: 'binpack', field: 'memory' }] });
    expect(failures).toEqual([]);
    const arnsOf = tasks!.map((t) => t.taskArn!);
    expect(await placementsOf(arnsOf)).toEqual(['a-small', 'a-small']);
    await stopAll(arnsOf);
  });

  it('spreads across zones, then instances', async () => {
    const { tasks } = await run('mem256', { count: 4, placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }] });
    const zones = (await placementsOf(tasks!.map((t) => t.taskArn!))).map((n) => n[0]);
    expect(zones.filter((z) => z === 'a')).toHaveLength(2);
    expect(zones.filter((z) => z === 'b')).toHaveLength(2);
    await stopAll(tasks!.map((t) => t.taskArn!));
  });

  it("honours the task definition's memberOf constraint and the request's distinctInstance", async () => {
    const { tasks, failures } = await run('prod-only', { count: 3, placementConstraints: [{ type: 'distinctInstance' }] });
    expect((await placementsOf(tasks!.map((t) => t.taskArn!))).sort()).toEqual(['a-large', 'a-small']);
    // The third task has nowhere to go: every instance says why.
    expect(failures).toHaveLength(3);
    expect(failures).toContainEqual({ arn: arns['b-medium'], reason: 'MemberOf placement constraint unsatisfied.' });
    await stopAll(tasks!.map((t) => t.taskArn!));
  });

  it('refuses a malformed expression with InvalidParameterException showing where it broke', async () => {
    const e = await failure(run('mem256', { placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack = prod' }] }));
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toMatch(/offset 16/);
    expect(e.message).toContain('^');
    const td = await failure(
      api.ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'bad-cql',
          placementConstraints: [{ type: 'memberOf', expression: 'attribute:stack in [a, b' }],
          containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }],
        }),
      ),
    );
    expect(td.name).toBe('InvalidParameterException');
    expect(td.message).toMatch(/^placementConstraints\[0\]\.expression: /);
  });

  it('names every instance and its reason when a task fits nowhere', async () => {
    await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'huge', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 8192 }] }));
    const { tasks, failures } = await run('huge');
    expect(tasks).toEqual([]);
    expect(failures!.map((f) => f.reason)).toEqual(['RESOURCE:MEMORY', 'RESOURCE:MEMORY', 'RESOURCE:MEMORY']);
  });

  it('never over-commits an instance under concurrent RunTask calls', async () => {
    // b-medium alone in its zone: 2048 MiB = 8 tasks of 256 MiB. Twenty calls race for it.
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        run('mem256', { placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.availability-zone == us-east-1b' }] }),
      ),
    );
    const placed = results.flatMap((r) => r.tasks ?? []);
    expect(placed).toHaveLength(8);
    const { containerInstances } = await api.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [arns['b-medium']!] }));
    const memory = containerInstances![0]!.remainingResources!.find((r) => r.name === 'MEMORY')!.integerValue!;
    expect(memory).toBe(0);
    await stopAll(placed.map((t) => t.taskArn!));
  });
});

describe('attributes, filters and draining', () => {
  it('puts, lists and deletes custom attributes, and places by them', async () => {
    await api.ecs.send(new PutAttributesCommand({ attributes: [{ name: 'gpu', value: 'yes', targetId: arns['b-medium'] }] }));
    const listed = await api.ecs.send(new ListAttributesCommand({ targetType: 'container-instance', attributeName: 'gpu' }));
    expect(listed.attributes).toEqual([{ name: 'gpu', value: 'yes', targetType: 'container-instance', targetId: arns['b-medium'] }]);
    const { tasks } = await run('mem256', { placementConstraints: [{ type: 'memberOf', expression: 'attribute:gpu exists' }] });
    expect(await placementsOf([tasks![0]!.taskArn!])).toEqual(['b-medium']);
    await stopAll([tasks![0]!.taskArn!]);
    await api.ecs.send(new DeleteAttributesCommand({ attributes: [{ name: 'gpu', targetId: arns['b-medium'] }] }));
    expect((await api.ecs.send(new ListAttributesCommand({ targetType: 'container-instance', attributeName: 'gpu' }))).attributes).toEqual([]);
  });

  it('refuses more than 10 custom attributes, built-in names and unknown targets', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => ({ name: `k${i}`, value: 'v', targetId: arns['a-small'] }));
    expect((await failure(api.ecs.send(new PutAttributesCommand({ attributes: eleven }))))).toMatchObject({ name: 'AttributeLimitExceededException' });
    // a-small already has two custom attributes (stack, disk): nine more would make eleven.
    const nine = eleven.slice(0, 9);
    expect((await failure(api.ecs.send(new PutAttributesCommand({ attributes: nine })))).name).toBe('AttributeLimitExceededException');
    const builtIn = await failure(api.ecs.send(new PutAttributesCommand({ attributes: [{ name: 'ecs.instance-type', value: 'x', targetId: arns['a-small'] }] })));
    expect(builtIn.name).toBe('InvalidParameterException');
    const unknown = await failure(api.ecs.send(new PutAttributesCommand({ attributes: [{ name: 'x', value: 'y', targetId: 'f'.repeat(32) }] })));
    expect(unknown.name).toBe('TargetNotFoundException');
  });

  it('filters container instances with the Cluster Query Language', async () => {
    const list = async (filter: string) => {
      const { containerInstanceArns } = await api.ecs.send(new ListContainerInstancesCommand({ filter }));
      const names = byArn();
      return containerInstanceArns!.map((a) => names[a]).sort();
    };
    expect(await list('attribute:ecs.availability-zone == us-east-1a')).toEqual(['a-large', 'a-small']);
    expect(await list('attribute:stack == prod and attribute:disk exists')).toEqual(['a-small']);
    expect(await list('not(attribute:stack in [prod])')).toEqual(['b-medium']);
    expect(await list('agentConnected == true and runningTasksCount == 0')).toEqual(['a-large', 'a-small', 'b-medium']);
    expect((await failure(api.ecs.send(new ListContainerInstancesCommand({ filter: 'attribute:x ==' })))).name).toBe('InvalidParameterException');
  });

  it('gives a DRAINING instance no new tasks, and takes it back when ACTIVE again', async () => {
    const drained = await api.ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [arns['a-small']!], status: 'DRAINING' }));
    expect(drained.containerInstances![0]!.status).toBe('DRAINING');
    const { containerInstanceArns } = await api.ecs.send(new ListContainerInstancesCommand({ status: 'DRAINING' }));
    expect(containerInstanceArns).toEqual([arns['a-small']]);
    const { tasks } = await run('mem256', { count: 3, placementStrategy: [{ type: 'binpack', field: 'memory' }] });
    expect(await placementsOf(tasks!.map((t) => t.taskArn!))).not.toContain('a-small');
    await stopAll(tasks!.map((t) => t.taskArn!));
    await api.ecs.send(new UpdateContainerInstancesStateCommand({ containerInstances: [arns['a-small']!], status: 'ACTIVE' }));
    const again = await run('mem256', { placementStrategy: [{ type: 'binpack', field: 'memory' }] });
    expect(await placementsOf([again.tasks![0]!.taskArn!])).toEqual(['a-small']);
    await stopAll([again.tasks![0]!.taskArn!]);
  });
});
