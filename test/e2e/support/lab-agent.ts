import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { startBerthAgent, type BerthAgentProcess } from './berth-agent.js';
import type { BerthServerProcess } from './berth-server.js';
import { untilAgentIdle, type uniqueBridge } from './cluster.js';
import type { HostLab } from './hosts.js';
import { stopRunningTasks } from './task-output.js';

/**
 * The agent of a one-host lab test (`createHostLab(1)`): in the lab host's namespace, its data under
 * `<dir>/agent`, 1 GiB, tasks cleaned up 1 s after they stop and containers given 1 s to stop, the test's
 * bridge; `env` adds to or overrides that. Resolves once its session with the control plane is up.
 */
export async function startLabAgent(o: {
  readonly server: BerthServerProcess;
  readonly lab: HostLab;
  readonly dir: string;
  readonly bridge: ReturnType<typeof uniqueBridge>;
  readonly env?: Record<string, string>;
  /** The agent's own credentials (default: the server's root keys). */
  readonly keys?: { accessKeyId: string; secretAccessKey: string };
}): Promise<BerthAgentProcess> {
  const agent = startBerthAgent({
    endpoint: o.server.url,
    keys: o.keys ?? o.server.keys,
    dataDir: join(o.dir, 'agent'),
    netns: o.lab.hosts[0]!.netns,
    env: { BERTH_MEMORY_MIB: '1024', ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s', ECS_CONTAINER_STOP_TIMEOUT: '1s', ...o.bridge, ...o.env },
  });
  await agent.waitForLog(/session with the control plane established/);
  return agent;
}

/**
 * Take a one-host lab test down, whatever got started before a failure: its tasks stopped and cleaned up by
 * the agent (so no mount or namespace is left), then the agent, the clients, the server, the registries, the
 * lab and the directory.
 */
export async function stopLab(o: {
  readonly dir: string;
  readonly ecs?: ECSClient;
  readonly agent?: BerthAgentProcess;
  readonly clients?: readonly ({ destroy(): void } | undefined)[];
  readonly server?: BerthServerProcess;
  readonly registries?: readonly ({ stop(): Promise<void> } | undefined)[];
  readonly lab?: HostLab;
}): Promise<void> {
  if (o.ecs) await stopRunningTasks(o.ecs);
  if (o.agent) {
    await untilAgentIdle(join(o.dir, 'agent'));
    await o.agent.kill();
  }
  o.ecs?.destroy();
  for (const c of o.clients ?? []) c?.destroy();
  await o.server?.kill();
  for (const r of o.registries ?? []) await r?.stop();
  o.lab?.destroy();
  rmSync(o.dir, { recursive: true, force: true });
}
