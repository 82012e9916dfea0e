import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeContainerInstancesCommand, DescribeTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AcsTask } from '../model/acs.js';
import { MemoryStore } from '../store/memory.js';
import { startApiFixture, TEST_KEYS, type ApiFixture } from '../testing/api-server.js';
import { startAgent, type RunningAgent } from './agent.js';
import { compileAgentConfig } from './config.js';
import { fakeWorld } from './testing/fakes.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const live = new Set<ApiFixture>();

/** Two control-plane replicas on one store, as two `berth server` processes on one etcd would be. */
async function twoReplicas(): Promise<[ApiFixture, ApiFixture]> {
  const store = new MemoryStore();
  cleanups.push(() => store.close());
  cleanups.push(async () => {
    for (const r of live) await stopReplica(r);
  });
  for (let i = 0; i < 2; i++) live.add(await startApiFixture({ storeInstance: store }));
  const [a, b] = [...live];
  return [a!, b!];
}

async function stopReplica(replica: ApiFixture): Promise<void> {
  if (live.delete(replica)) await replica.stop();
}

const describeTask = async (ecs: ECSClient, arn: string): Promise<Task> => (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
const waitForTask = (ecs: ECSClient, arn: string, check: (t: Task) => boolean, timeout = 5_000) =>
  vi.waitFor(
    async () => {
      const t = await describeTask(ecs, arn);
      if (!check(t)) throw new Error(`task is ${t.lastStatus}/${t.desiredStatus}`);
      return t;
    },
    { timeout, interval: 50 },
  );

/** A real agent with fake runtime parts, given both replicas, once its session is open; and the replica it chose. */
async function agentOn(replicas: [ApiFixture, ApiFixture]) {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-agent-failover-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const world = fakeWorld();
  world.images.add('busybox');
  const creates = vi.spyOn(world.runtime, 'create');
  const config = compileAgentConfig({
    flags: { endpoint: replicas.map((r) => r.server.url).join(','), dataDir, memoryMib: '1024', cpuUnits: '2048' },
    env: { ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1h', ECS_CONTAINER_STOP_TIMEOUT: '2s' },
    readFile: () => undefined,
  });
  // The session's own timing is left at its defaults (backoff from 250 ms): the 10 s are the real ones.
  const agent: RunningAgent = await startAgent({ config, parts: world.deps, log: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }), credentials: TEST_KEYS });
  cleanups.push(() => agent.stop());
  await vi.waitFor(() => expect(agent.session.connected).toBe(true), { timeout: 5_000 });
  const first = replicas.find((r) => r.server.url === agent.session.endpoint)!;
  expect(first).toBeDefined();
  return { agent, world, creates, first, second: replicas.find((r) => r !== first)! };
}

describe('an agent with several control-plane replicas', () => {
  it('moves to another replica within 10 s when its replica dies, keeps its containers, and reports an exit that happened meanwhile', async () => {
    const { agent, world, creates, first, second } = await agentOn(await twoReplicas());
    await first.ecs.send(new RegisterTaskDefinitionCommand({ family: 'small', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
    const run = async () => (await first.ecs.send(new RunTaskCommand({ taskDefinition: 'small' }))).tasks![0]!.taskArn!;
    const [keeps, exits] = [await run(), await run()];
    for (const arn of [keeps, exits]) await waitForTask(first.ecs, arn, (t) => t.lastStatus === 'RUNNING');
    const runtimeId = (arn: string) => `${arn.split('/').at(-1)}-app`;
    expect(creates).toHaveBeenCalledTimes(2);
    const payloads: (readonly AcsTask[])[] = [];
    const handle = agent.engine.handlePayload.bind(agent.engine);
    vi.spyOn(agent.engine, 'handlePayload').mockImplementation((tasks) => {
      payloads.push(tasks);
      return handle(tasks);
    });

    const diedAt = Date.now();
    await stopReplica(first);
    // The agent notices its replica is gone; while it has no session, a container exits.
    await vi.waitFor(() => expect(agent.session.connected).toBe(false), { timeout: 5_000, interval: 1 });
    world.runtime.exit(runtimeId(exits), 3);

    await vi.waitFor(() => expect(agent.session.connected && agent.session.endpoint === second.server.url).toBe(true), { timeout: 10_000, interval: 10 });
    const failoverMs = Date.now() - diedAt;
    expect(failoverMs).toBeLessThan(10_000);
    expect(agent.endpoints.current()).toBe(second.server.url);
    const instance = (await second.ecs.send(new DescribeContainerInstancesCommand({ containerInstances: [agent.containerInstanceArn] }))).containerInstances![0]!;
    expect(instance.agentConnected).toBe(true);

    // The exit reached the control plane through the replica that is left.
    const stopped = await waitForTask(second.ecs, exits, (t) => t.lastStatus === 'STOPPED');
    expect(stopped).toMatchObject({ stoppedReason: 'Essential container in task exited' });
    expect(stopped.containers![0]?.exitCode).toBe(3);

    // The new replica sent the live task again; the agent took it as the task it already runs.
    await vi.waitFor(() => expect(payloads.flat().map((t) => t.arn)).toContain(keeps), { timeout: 5_000 });
    expect((await describeTask(second.ecs, keeps)).lastStatus).toBe('RUNNING');
    expect(world.runtime.containers.get(runtimeId(keeps))?.status).toBe('running');
    expect(creates).toHaveBeenCalledTimes(2);
    expect(world.runtime.signals.filter((s) => s.id === runtimeId(keeps))).toEqual([]);
    console.info(`agent failover: on ${second.server.url} ${failoverMs} ms after ${first.server.url} stopped`);
  }, 30_000);

  it('takes its session along when an API call finds the replica unavailable first', async () => {
    const { agent, world, creates, first, second } = await agentOn(await twoReplicas());
    await first.ecs.send(new RegisterTaskDefinitionCommand({ family: 'small', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64 }] }));
    const arn = (await first.ecs.send(new RunTaskCommand({ taskDefinition: 'small' }))).tasks![0]!.taskArn!;
    await waitForTask(first.ecs, arn, (t) => t.lastStatus === 'RUNNING');
    // What the clients' failover does on a 503 or a timeout (control-plane-clients.test.ts), while the
    // session's socket to that replica is still open (a host gone without closing it, a replica without its store).
    agent.endpoints.failed(first.server.url);
    await vi.waitFor(() => expect(agent.session.connected && agent.session.endpoint === second.server.url).toBe(true), { timeout: 5_000, interval: 10 });
    world.runtime.exit(`${arn.split('/').at(-1)}-app`, 0);
    await waitForTask(second.ecs, arn, (t) => t.lastStatus === 'STOPPED');
    expect(creates).toHaveBeenCalledTimes(1);
  }, 30_000);
});
