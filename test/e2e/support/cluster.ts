import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type ContainerDefinition,
  type RegisterTaskDefinitionRequest,
  type RunTaskRequest,
  type Task,
} from '@aws-sdk/client-ecs';
import { buildBusyboxImage, pushImage } from '../../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../../src/testing/docker-registry.js';
import { removeMasquerade } from '../../../src/network/masquerade.js';
import { removePortMapTable } from '../../../src/network/nft-port-map.js';
import { startBerthAgent, type AgentProcessOptions, type BerthAgentProcess } from './berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './berth-server.js';

/** A bridge name and subnet of its own, so test files never share one. */
export function uniqueBridge(): { BERTH_BRIDGE_NAME: string; BERTH_BRIDGE_SUBNET: string } {
  const n = randomBytes(2);
  return { BERTH_BRIDGE_NAME: `bt${n.toString('hex')}`, BERTH_BRIDGE_SUBNET: `10.${100 + (n[0]! % 100)}.${n[1]}.0/24` };
}

/**
 * A window of 1,000 dynamic host ports of its own (ECS_DYNAMIC_HOST_PORT_RANGE), so that runs sharing a
 * machine, or rules a killed run left behind, never hand a test a port something else answers on.
 */
export function uniquePortRange(): { first: number; last: number; env: string } {
  const first = 49153 + 1000 * Math.floor(Math.random() * 16);
  return { first, last: first + 999, env: `${first}-${first + 999}` };
}

/** Remove what an agent leaves on the host for its bridge on purpose (the bridge, its masquerade rule, its port map). */
export async function removeBridge(b: ReturnType<typeof uniqueBridge>): Promise<void> {
  try {
    execFileSync('ip', ['link', 'delete', b.BERTH_BRIDGE_NAME], { stdio: 'ignore' });
  } catch {
    // never made (no bridge task ran), or in a namespace of its own
  }
  await removeMasquerade({ bridge: b.BERTH_BRIDGE_NAME, subnet: b.BERTH_BRIDGE_SUBNET });
  await removePortMapTable({ bridge: b.BERTH_BRIDGE_NAME });
}

export interface TestCluster {
  readonly dir: string;
  readonly server: BerthServerProcess;
  readonly registry: LoopbackRegistry;
  /** `<registry>/busybox:latest`, a busybox image whose default command is `sh`. */
  readonly image: string;
  readonly ecs: ECSClient;
  readonly agents: BerthAgentProcess[];
  startAgent(options?: Partial<AgentProcessOptions> & { name?: string }): Promise<BerthAgentProcess>;
  waitForTask(arn: string, check: (t: Task) => boolean, timeoutMs?: number): Promise<Task>;
  /**
   * Register a one-off task definition (containers named c0, c1, … unless named, on the busybox image,
   * 64 MiB) and run one task of it; returns its ARN. Fails if RunTask reports a failure.
   */
  runOneOff(containers: Partial<ContainerDefinition>[], definition?: Partial<RegisterTaskDefinitionRequest>, request?: Partial<RunTaskRequest>): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A server process, CNCF distribution with a busybox image pushed to it, and a helper to start agent
 * processes (each with its own data dir and bridge network). The agents run real containers: root only.
 */
export async function startTestCluster(options: { serverArgs?: string[]; serverEnv?: NodeJS.ProcessEnv } = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const registry = await startDockerRegistry();
  const built = await buildBusyboxImage(join(dir, 'layout'), 'latest');
  const image = `${registry.host}/busybox:latest`;
  await pushImage(built, image);
  const server = await startBerthServer(join(dir, 'server'), options.serverArgs ?? [], options.serverEnv ?? {});
  const ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
  const agents: BerthAgentProcess[] = [];
  /** Bridges of agents on this host (not in a namespace of their own), removed at the end. */
  const bridges: ReturnType<typeof uniqueBridge>[] = [];
  let n = 0;
  const waitForTask = async (arn: string, check: (t: Task) => boolean, timeoutMs = 30_000): Promise<Task> => {
    const deadline = Date.now() + timeoutMs;
    let last: Task | undefined;
    while (Date.now() < deadline) {
      const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
      last = tasks?.[0];
      if (last && check(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${arn} did not get there in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
  };
  let families = 0;
  return {
    dir,
    server,
    registry,
    image,
    ecs,
    agents,
    async runOneOff(containers, definition = {}, request = {}) {
      const family = definition.family ?? `e2e-${families++}`;
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          containerDefinitions: containers.map((c, i) => ({ name: `c${i}`, image, memory: 64, ...c })),
          ...definition,
        }),
      );
      const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: family, ...request }));
      if (failures?.length || !tasks?.[0]) throw new Error(`RunTask ${family} failed: ${JSON.stringify(failures)}`);
      return tasks[0].taskArn!;
    },
    async startAgent(options = {}) {
      const bridge = uniqueBridge();
      if (!options.netns) bridges.push(bridge);
      const agent = startBerthAgent({
        endpoint: server.url,
        keys: server.keys,
        dataDir: options.dataDir ?? join(dir, `agent-${options.name ?? n++}`),
        ...(options.netns ? { netns: options.netns } : {}),
        ...(options.cluster ? { cluster: options.cluster } : {}),
        env: {
          ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
          ECS_CONTAINER_STOP_TIMEOUT: '3s',
          ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
          ...bridge,
          ECS_DYNAMIC_HOST_PORT_RANGE: uniquePortRange().env,
          ...options.env,
        },
      });
      agents.push(agent);
      await agent.waitForLog(/session with the control plane established/);
      return agent;
    },
    waitForTask,
    async stop() {
      // Containers outlive their agent by design: stop every task and let the agents clean up first.
      const { taskArns = [] } = await ecs.send(new ListTasksCommand({ desiredStatus: 'RUNNING' })).catch(() => ({ taskArns: [] }));
      for (const task of taskArns) await ecs.send(new StopTaskCommand({ task, reason: 'test cleanup' })).catch(() => {});
      for (const arn of taskArns) await waitForTask(arn, (t) => t.lastStatus === 'STOPPED', 30_000).catch(() => {});
      for (const a of agents) await untilAgentIdle(a.dataDir);
      for (const a of agents) await a.kill('SIGTERM');
      for (const b of bridges) await removeBridge(b);
      ecs.destroy();
      await server.kill();
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Before `cluster.stop()`: take a service to 0 tasks and wait (up to 60 s) until none runs, since the service would
 * replace the tasks stop() stops. Best effort: a cleanup step never fails the file.
 */
export async function scaleServiceToZero(ecs: ECSClient, service: string): Promise<void> {
  await ecs.send(new UpdateServiceCommand({ service, desiredCount: 0 })).catch(() => {});
  const running = async () => (await ecs.send(new DescribeServicesCommand({ services: [service] }))).services?.[0]?.runningCount ?? 0;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && (await running().catch(() => 0)) > 0; ) await new Promise((r) => setTimeout(r, 500));
}

/** Ids of the containers runc holds under `root`. */
export function runcContainers(root: string): string[] {
  try {
    return execFileSync('runc', ['--root', root, 'list', '-q'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * Wait (up to 15 s) until the agent with data in `dataDir` has no runc container and no mount left: it has
 * cleaned up its stopped tasks, so it may go. (Containers outlive their agent by design.)
 */
export async function untilAgentIdle(dataDir: string): Promise<void> {
  const root = join(dataDir, 'runtime', 'runc');
  const deadline = Date.now() + 15_000;
  const busy = () => runcContainers(root).length > 0 || readFileSync('/proc/mounts', 'utf8').includes(dataDir);
  while (Date.now() < deadline && busy()) await new Promise((r) => setTimeout(r, 100));
}

/** Names of the host's network namespaces (`ip netns list`). */
export function netnsList(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}
