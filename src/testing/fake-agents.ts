import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeContainerInstancesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { compileAgentConfig } from '../agent/config.js';
import { fakeWorld, type FakeWorld } from '../agent/testing/fakes.js';
import { TEST_KEYS } from './api-server.js';

export interface FakeAgent {
  readonly running: RunningAgent;
  readonly world: FakeWorld;
  readonly dataDir: string;
  /** The id at the end of the container-instance ARN. */
  readonly instanceId: string;
  stop(): Promise<void>;
}

export interface FakeAgentOptions {
  readonly cluster?: string;
  readonly cpuUnits?: number;
  readonly memoryMib?: number;
  readonly zone?: string;
  readonly attributes?: Record<string, string>;
  /** Reuse a data directory: the agent comes back as the same instance. */
  readonly dataDir?: string;
  /** Images the fake image store can pull (default: busybox). */
  readonly images?: readonly string[];
  /** Reuse the fake runtime of an agent that stopped: its containers are still "running" for the new one. */
  readonly world?: FakeWorld;
  /** A Fargate pool host (BERTH_FARGATE). */
  readonly fargate?: boolean;
}

/**
 * A real `berth agent` in process with fake runtime parts (containers run until the test makes them exit),
 * for control-plane tests that need agents: fast, and the session, reports and payloads are the real ones.
 */
export async function startFakeAgent(endpoint: string, options: FakeAgentOptions = {}): Promise<FakeAgent> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-fake-agent-'));
  const world = options.world ?? fakeWorld();
  if (!options.world) for (const image of options.images ?? ['busybox']) world.images.add(image);
  const config = compileAgentConfig({
    flags: {
      endpoint,
      dataDir,
      cpuUnits: String(options.cpuUnits ?? 4096),
      memoryMib: String(options.memoryMib ?? 4096),
      ...(options.cluster ? { cluster: options.cluster } : {}),
      ...(options.zone ? { availabilityZone: options.zone } : {}),
      ...(options.fargate ? { fargate: true } : {}),
    },
    env: {
      // Stopped tasks stay on the agent for the length of a test: no cleanup timers outlive a stopped agent.
      ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1h',
      ECS_CONTAINER_STOP_TIMEOUT: '2s',
      ...(options.attributes ? { ECS_INSTANCE_ATTRIBUTES: JSON.stringify(options.attributes) } : {}),
    },
    readFile: () => undefined,
  });
  const running = await startAgent({
    config,
    parts: world.deps,
    log: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
    credentials: TEST_KEYS,
    session: { silenceMs: 2_000, pingMs: 200, backoff: { minMs: 50, maxMs: 200 } },
  });
  let stopped = false;
  return {
    running,
    world,
    dataDir,
    instanceId: running.containerInstanceArn.split('/').at(-1)!,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
    },
  };
}

/** Remove a fake agent's data directory (after it stopped). */
export function removeAgentDir(agent: FakeAgent): void {
  rmSync(agent.dataDir, { recursive: true, force: true });
}

/** Wait (up to 5 s) until the control plane shows every one of `agents` connected. */
export async function untilConnected(ecs: ECSClient, agents: readonly FakeAgent[], cluster?: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { containerInstances = [] } = await ecs.send(
      new DescribeContainerInstancesCommand({ ...(cluster ? { cluster } : {}), containerInstances: agents.map((a) => a.running.containerInstanceArn) }),
    );
    if (containerInstances.length === agents.length && containerInstances.every((i) => i.agentConnected)) return;
    if (Date.now() > deadline) throw new Error('fake agents did not connect within 5 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}
