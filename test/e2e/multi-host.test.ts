import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';

const isRoot = process.getuid?.() === 0;

/**
 * Three simulated hosts, each its own network namespace with its own agent, size, zone and attributes,
 * running real containers; the control plane in the root namespace places across them.
 */
describe.runIf(isRoot)('placement across several hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-hosts-'));
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  const agents: BerthAgentProcess[] = [];
  const names: Record<string, string> = {};
  let image: string;

  const hosts = [
    { name: 'h1', cpu: '1024', memory: '512', zone: 'us-east-1a', attributes: '{"tier":"web"}' },
    { name: 'h2', cpu: '2048', memory: '1024', zone: 'us-east-1a', attributes: '{"tier":"db"}' },
    { name: 'h3', cpu: '2048', memory: '2048', zone: 'us-east-1b', attributes: '{"tier":"web"}' },
  ];

  beforeAll(async () => {
    lab = createHostLab(hosts.length);
    registry = await startDockerRegistry({ address: lab.gateway });
    image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    for (const [i, h] of hosts.entries()) {
      const agent = startBerthAgent({
        endpoint: server.url,
        keys: server.keys,
        dataDir: join(dir, h.name),
        netns: lab.hosts[i]!.netns,
        env: {
          BERTH_CPU_UNITS: h.cpu,
          BERTH_MEMORY_MIB: h.memory,
          BERTH_AVAILABILITY_ZONE: h.zone,
          ECS_INSTANCE_ATTRIBUTES: h.attributes,
          BERTH_INSECURE_REGISTRIES: registry.host,
          ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
          ECS_CONTAINER_STOP_TIMEOUT: '1s',
        },
      });
      agents.push(agent);
      await agent.waitForLog(/session with the control plane established/);
    }
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }));
    for (const ci of containerInstances!) {
      const cpu = ci.registeredResources!.find((r) => r.name === 'CPU')!.integerValue;
      const memory = ci.registeredResources!.find((r) => r.name === 'MEMORY')!.integerValue;
      names[ci.containerInstanceArn!] = hosts.find((h) => Number(h.cpu) === cpu && Number(h.memory) === memory)!.name;
    }
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'sleeper',
        containerDefinitions: [{ name: 'app', image, memory: 128, cpu: 128, portMappings: [{ containerPort: 80 }] }],
      }),
    );
  }, 180_000);

  afterAll(async () => {
    if (ecs) {
      const { taskArns = [] } = await ecs.send(new ListTasksCommand({})).catch(() => ({ taskArns: [] }));
      for (const task of taskArns) await ecs.send(new StopTaskCommand({ task })).catch(() => {});
      if (taskArns.length) await waitFor(taskArns, (t) => t.lastStatus === 'STOPPED').catch(() => {});
    }
    for (const [i, a] of agents.entries()) {
      await untilAgentIdle(join(dir, hosts[i]!.name));
      await a.kill();
    }
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  async function waitFor(arns: string[], check: (t: Task) => boolean): Promise<Task[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: arns }));
      if (tasks!.every(check)) return tasks!;
      const failed = tasks!.find((t) => t.lastStatus === 'STOPPED' && !check(t));
      if (failed) throw new Error(`task stopped: ${failed.stoppedReason}`);
      if (Date.now() > deadline) throw new Error(`tasks did not get there: ${JSON.stringify(tasks!.map((t) => [t.lastStatus, t.stoppedReason]))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function runAndSettle(input: Omit<ConstructorParameters<typeof RunTaskCommand>[0], 'taskDefinition'>) {
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: 'sleeper', ...input }));
    const running = await waitFor(tasks!.map((t) => t.taskArn!), (t) => t.lastStatus === 'RUNNING');
    return { tasks: running, failures: failures!, hosts: running.map((t) => names[t.containerInstanceArn!]!) };
  }

  async function stop(tasks: Task[]) {
    for (const t of tasks) await ecs.send(new StopTaskCommand({ task: t.taskArn! }));
    await waitFor(tasks.map((t) => t.taskArn!), (t) => t.lastStatus === 'STOPPED');
  }

  it('spreads real tasks across zones, then across instances within a zone', async () => {
    const { tasks, hosts: placed } = await runAndSettle({
      count: 4,
      placementStrategy: [{ type: 'spread', field: 'attribute:ecs.availability-zone' }, { type: 'spread', field: 'instanceId' }],
      overrides: { containerOverrides: [{ name: 'app', command: ['httpd', '-f', '-p', '80', '-h', '/var/www'] }] },
    });
    expect(placed.filter((h) => h === 'h3')).toHaveLength(2);
    expect(placed.filter((h) => h === 'h1')).toHaveLength(1);
    expect(placed.filter((h) => h === 'h2')).toHaveLength(1);
    // Each task's container runs on its own host: reachable at that host's address and dynamic port.
    for (const t of tasks) {
      const binding = t.containers![0]!.networkBindings![0]!;
      expect(binding.hostPort).toBeGreaterThanOrEqual(49153);
      const host = lab.hosts[hosts.findIndex((h) => h.name === names[t.containerInstanceArn!])]!;
      const res = await fetch(`http://${host.address}:${binding.hostPort}/`);
      expect(await res.text()).toBe('hello from berth\n');
    }
    await stop(tasks);
  });

  it('binpacks memory on the smallest host that fits, within a memberOf constraint', async () => {
    const { tasks, hosts: placed } = await runAndSettle({
      count: 3,
      placementStrategy: [{ type: 'binpack', field: 'memory' }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:tier == web' }],
    });
    expect(placed).toEqual(['h1', 'h1', 'h1']);
    const { tasks: more, failures } = await ecs.send(
      new RunTaskCommand({
        taskDefinition: 'sleeper',
        count: 2,
        placementStrategy: [{ type: 'binpack', field: 'memory' }],
        placementConstraints: [{ type: 'memberOf', expression: 'attribute:tier == web' }],
      }),
    );
    expect(failures).toEqual([]);
    // h1 (512 MiB) holds three 128 MiB tasks and the fourth; the fifth goes to the other web host.
    const after = await waitFor(more!.map((t) => t.taskArn!), (t) => t.lastStatus === 'RUNNING');
    expect(after.map((t) => names[t.containerInstanceArn!]).sort()).toEqual(['h1', 'h3']);
    await stop([...tasks, ...after]);
  });

  it('places with distinctInstance and reports the hosts that could not take more', async () => {
    const { tasks, failures } = await ecs.send(
      new RunTaskCommand({ taskDefinition: 'sleeper', count: 4, group: 'one-each', placementConstraints: [{ type: 'distinctInstance' }] }),
    );
    expect(tasks).toHaveLength(3);
    expect(failures).toHaveLength(3);
    expect(failures!.every((f) => f.reason === 'DistinctInstance placement constraint unsatisfied.')).toBe(true);
    const running = await waitFor(tasks!.map((t) => t.taskArn!), (t) => t.lastStatus === 'RUNNING');
    expect(new Set(running.map((t) => names[t.containerInstanceArn!])).size).toBe(3);
    await stop(running);
  });
});
