import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { buildBusyboxImage, pushImage } from '../../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../../src/testing/docker-registry.js';
import { startBerthAgent, type BerthAgentProcess } from './berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './berth-server.js';
import { untilAgentIdle, type uniqueBridge } from './cluster.js';
import { createHostLab, type HostLab } from './hosts.js';
import { stopRunningTasks } from './task-output.js';

/** What a one-host lab test talks to. */
export interface LabControlPlane {
  readonly lab: HostLab;
  /** CNCF distribution on the lab's gateway, holding busybox as `image`. */
  readonly registry: LoopbackRegistry;
  readonly image: string;
  /** The built server, listening on the lab's gateway (reachable from the lab host). */
  readonly server: BerthServerProcess;
  readonly ecs: ECSClient;
  readonly logs: CloudWatchLogsClient;
}

/**
 * A one-host lab (`createHostLab(1)`), a registry holding busybox and the built server on its gateway, with ECS and
 * Logs clients as root. What it made before a failure is taken down before the failure is thrown.
 */
export async function startLabControlPlane(dir: string, region = 'us-east-1'): Promise<LabControlPlane> {
  const lab = createHostLab(1);
  let registry: LoopbackRegistry | undefined;
  try {
    registry = await startDockerRegistry({ address: lab.gateway });
    const image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), image);
    const server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    const config = { endpoint: server.url, region, credentials: { ...server.keys }, maxAttempts: 3 };
    return { lab, registry, image, server, ecs: new ECSClient(config), logs: new CloudWatchLogsClient(config) };
  } catch (error) {
    await registry?.stop();
    lab.destroy();
    throw error;
  }
}

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
