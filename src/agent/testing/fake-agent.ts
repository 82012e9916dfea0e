import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { vi } from 'vitest';
import { TEST_KEYS, type ApiFixture } from '../../testing/api-server.js';
import { startAgent, type RunningAgent } from '../agent.js';
import { compileAgentConfig } from '../config.js';
import { fakeWorld, type FakeWorld } from './fakes.js';

export interface FakeAgent {
  readonly agent: RunningAgent;
  readonly world: FakeWorld;
  stop(): Promise<void>;
}

/**
 * A real agent (registration, session, reporter, task engine) on fake runtime parts, joined to an API
 * fixture and connected: for API tests that need tasks to move. `env` takes ecs.config names.
 */
export async function startFakeAgent(api: ApiFixture, env: Record<string, string> = {}): Promise<FakeAgent> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-fake-agent-'));
  const world = fakeWorld();
  world.images.add('busybox');
  const config = compileAgentConfig({ flags: { endpoint: api.server.url, dataDir }, env, readFile: () => undefined });
  const agent = await startAgent({ config, parts: world.deps, log: pino({ level: 'silent' }), credentials: TEST_KEYS });
  await vi.waitFor(
    async () => {
      const { containerInstances } = await api.ecs.send(new DescribeContainerInstancesCommand({ cluster: config.cluster, containerInstances: [agent.containerInstanceArn] }));
      if (!containerInstances?.[0]?.agentConnected) throw new Error('agent not connected yet');
    },
    { timeout: 5_000 },
  );
  return {
    agent,
    world,
    async stop() {
      await agent.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
