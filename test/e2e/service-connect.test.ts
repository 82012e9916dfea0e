/**
 * ECS Service Connect end to end: a real `berth server` and two real `berth agent`s, each on a simulated host
 * (its own network namespace) and in a cluster of its own, each with its per-host Service Connect proxy
 * (HAProxy). Busybox httpd backend tasks run in cluster `default` on host 1; a busybox client task that loops
 * `wget http://backend:8080/` runs in each cluster (host 1 and host 2): a namespace spans clusters, as in ECS.
 * The default cluster's serviceConnectDefaults name a new namespace (ECS creates it, HTTP); the backend service
 * is created with the AWS CLI v2. Neither client sees a failed request, from its first on (a task's containers
 * start only once its host's proxy serves its namespace's aliases), while the backend is rolled to a new task
 * definition, and both clients' answers move to the new revision.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  CreateClusterCommand,
  ListServicesByNamespaceCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateClusterCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { ListInstancesCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeCommand } from '../../src/lb/haproxy-runtime.js';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { HTTPD_SETUP } from './support/httpd-tasks.js';

/** The client's loop: one line per request, `OK <n> <answer>` or `FAIL <n> <wget's error>` (no `-T`: busybox 1.35's wget crashes with it on a refused connection). */
const CLIENT_LOOP =
  'i=0; while true; do i=$((i+1)); if out=$(wget -q -O- http://backend:8080/ 2>&1); then echo "OK $i $out"; else echo "FAIL $i $out"; fi; sleep 0.05; done';

interface Line {
  readonly ok: boolean;
  readonly n: number;
  readonly text: string;
}

describe('Service Connect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-sc-'));
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  /** Host 1, cluster `default` (the backend and a client); host 2, cluster `remote` (a client). */
  const agents: BerthAgentProcess[] = [];
  let ecs: ECSClient;
  const agentDir = (i: number) => join(dir, `agent-${i}`);

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test runs containers in network namespaces: run it as root');
    if (!hasAwsCli) throw new Error('the AWS CLI v2 (/usr/bin/aws) is required');
    lab = createHostLab(2);
    registry = await startDockerRegistry({ address: lab.gateway });
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sh', '/setup.sh'], extraLayer: { '/setup.sh': HTTPD_SETUP } }), `${registry.host}/httpd:latest`);
    mkdirSync(join(dir, 'server'));
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    // Host 2's cluster (its Service Connect default is set in the test, once the namespace exists).
    await ecs.send(new CreateClusterCommand({ clusterName: 'remote' }));
    for (const [i, cluster] of ['default', 'remote'].entries()) {
      agents.push(
        startBerthAgent({
          endpoint: server.url,
          keys: server.keys,
          cluster,
          dataDir: agentDir(i),
          netns: lab.hosts[i]!.netns,
          env: {
            BERTH_INSECURE_REGISTRIES: registry.host,
            BERTH_SERVICE_CONNECT_ADDRESS: '169.254.170.3',
            ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
            ECS_CONTAINER_STOP_TIMEOUT: '1s',
          },
        }),
      );
    }
    for (const agent of agents) await agent.waitForLog(/session with the control plane established/);
  }, 180_000);

  afterAll(async () => {
    for (const service of ['client', 'backend']) await ecs?.send(new DeleteServiceCommand({ service, force: true })).catch(() => {});
    await ecs?.send(new DeleteServiceCommand({ cluster: 'remote', service: 'client', force: true })).catch(() => {});
    const deadline = Date.now() + 60_000;
    for (const [i, cluster] of ['default', 'remote'].entries()) {
      if (!agents[i]) continue;
      while (Date.now() < deadline && ((await ecs.send(new ListTasksCommand({ cluster }))).taskArns ?? []).length > 0) await new Promise((r) => setTimeout(r, 500));
      await untilAgentIdle(agentDir(i)).catch(() => {});
      await agents[i]!.kill();
    }
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** A client's lines so far, from its container log in its agent's data directory (host `i`). */
  function clientLines(i: number): Line[] {
    const root = join(agentDir(i), 'containers');
    const lines: Line[] = [];
    for (const id of readdirSync(root)) {
      let text: string;
      try {
        text = readFileSync(join(root, id, 'container.log'), 'utf8');
      } catch {
        continue;
      }
      for (const m of text.matchAll(/(OK|FAIL) (\d+) ?(.*)$/gm)) lines.push({ ok: m[1] === 'OK', n: Number(m[2]), text: m[3]! });
    }
    return lines.sort((a, b) => a.n - b.n);
  }

  /** The agent's Service Connect lines (for a failure's message). */
  const serviceConnectLog = (i: number) =>
    agents[i]!
      .stderr()
      .split('\n')
      .filter((l) => /service-connect|service connect|haproxy/.test(l))
      .slice(-15)
      .join('\n');

  /** What the proxy holds and answers now (for a failure's message). */
  async function proxyState(i: number): Promise<string> {
    const servers = await runtimeCommand(join(agentDir(i), 'sc', 'admin.sock'), 'show servers state').catch((e) => String(e));
    const curl = spawnSync('nsenter', [`--net=/var/run/netns/${lab.hosts[i]!.netns}`, '--', 'curl', '-sS', '-m', '3', '-H', 'Host: backend', 'http://169.254.170.3:8080/'], { encoding: 'utf8' });
    const hosts = readdirSync(join(agentDir(i), 'containers')).map((id) => {
      try {
        return `${id}: ${readFileSync(join(agentDir(i), 'containers', id, 'hosts'), 'utf8')}`;
      } catch {
        return `${id}: -`;
      }
    });
    return `servers:\n${servers.split('\n').slice(0, 4).join('\n')}\ncurl from the host: ${curl.stdout}${curl.stderr}\nhosts files:\n${hosts.join('\n')}`;
  }

  const backendDef = (svc: string) => ({
    family: 'backend',
    networkMode: 'bridge' as const,
    containerDefinitions: [{ name: 'web', image: `${registry.host}/httpd:latest`, memory: 64, environment: [{ name: 'SVC', value: svc }], portMappings: [{ name: 'http', containerPort: 80, hostPort: 0 }] }],
  });

  it('a client reaches http://backend:8080 through the per-host proxy while the backend rolls to a new revision, without a failed request', async () => {
    // The cluster's default namespace: a new name, so ECS creates an HTTP namespace of that name.
    // (The agent made the default cluster when it registered: UpdateCluster sets the default.)
    const cluster = (await ecs.send(new UpdateClusterCommand({ cluster: 'default', serviceConnectDefaults: { namespace: 'internal' } }))).cluster!;
    expect(cluster.serviceConnectDefaults?.namespace).toMatch(/^arn:aws:servicediscovery:us-east-1:\d+:namespace\/ns-/);
    const nsArn = cluster.serviceConnectDefaults!.namespace!;

    await ecs.send(new RegisterTaskDefinitionCommand(backendDef('v1')));
    // Bad input through the CLI: a portName no portMappings entry has → ECS's error naming the field; nothing created.
    const bad = await awsCli(server.url, server.credentialsFile, [
      'ecs', 'create-service', '--service-name', 'backend', '--task-definition', 'backend:1', '--desired-count', '2',
      '--service-connect-configuration', JSON.stringify({ enabled: true, services: [{ portName: 'web', clientAliases: [{ port: 8080, dnsName: 'backend' }] }] }),
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/InvalidParameterException.*services\[0\]\.portName 'web' does not match/);
    expect((await ecs.send(new DescribeServicesCommand({ services: ['backend'] }))).services).toEqual([]);

    const created = await awsCli(server.url, server.credentialsFile, [
      'ecs', 'create-service', '--service-name', 'backend', '--task-definition', 'backend:1', '--desired-count', '2',
      '--service-connect-configuration', JSON.stringify({ enabled: true, services: [{ portName: 'http', discoveryName: 'backend', clientAliases: [{ port: 8080, dnsName: 'backend' }] }] }),
    ]);
    expect(created.code, created.stderr).toBe(0);
    const deployment = created.json.service.deployments[0];
    expect(deployment.serviceConnectConfiguration).toEqual({
      enabled: true,
      namespace: nsArn,
      services: [{ portName: 'http', discoveryName: 'backend', clientAliases: [{ port: 8080, dnsName: 'backend' }] }],
    });
    expect(deployment.serviceConnectResources).toEqual([{ discoveryName: 'backend', discoveryArn: expect.stringMatching(/:service\/srv-/) }]);

    // Clients come after the backend runs (a client started while the alias has no task gets 503, in ECS too).
    await expect
      .poll(async () => (await ecs.send(new DescribeServicesCommand({ services: ['backend'] }))).services![0]!.runningCount, { timeout: 90_000, interval: 500 })
      .toBe(2);
    // A client in each cluster: `remote` (host 2) names the same namespace as its default, by name.
    await ecs.send(new UpdateClusterCommand({ cluster: 'remote', serviceConnectDefaults: { namespace: 'internal' } }));
    await ecs.send(new RegisterTaskDefinitionCommand({ family: 'client', networkMode: 'bridge', containerDefinitions: [{ name: 'loop', image: `${registry.host}/httpd:latest`, memory: 32, command: ['sh', '-c', CLIENT_LOOP] }] }));
    for (const cluster of ['default', 'remote']) {
      await ecs.send(new CreateServiceCommand({ cluster, serviceName: 'client', taskDefinition: 'client', desiredCount: 1, serviceConnectConfiguration: { enabled: true } }));
    }
    const listed = await ecs.send(new ListServicesByNamespaceCommand({ namespace: 'internal' }));
    expect(listed.serviceArns?.map((a) => a.split(':service/')[1]).sort()).toEqual(['default/backend', 'default/client', 'remote/client']);

    // Each client's first answer from v1: the alias resolves (agent-written /etc/hosts) and its host's proxy has the tasks.
    for (const i of [0, 1]) {
      await expect
        .poll(() => clientLines(i).some((l) => l.ok && l.text.startsWith('v1 ')), { timeout: 60_000, interval: 250 })
        .toBe(true)
        .catch(async (e) => Promise.reject(new Error(`${e}\nclient ${i}: ${JSON.stringify(clientLines(i).slice(-5))}\nagent: ${serviceConnectLog(i)}\n${await proxyState(i)}`)));
      await expect.poll(() => new Set(clientLines(i).filter((l) => l.ok).map((l) => l.text)).size, { timeout: 30_000 }).toBe(2);
    }
    const v1Tasks = new Set(clientLines(0).filter((l) => l.ok && l.text.startsWith('v1 ')).map((l) => l.text));

    // Another registrar in the same Cloud Map service, with ECS's attributes for this ECS service: ECS must leave it.
    const sd = new ServiceDiscoveryClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, disableHostPrefix: true });
    const srvId = deployment.serviceConnectResources[0].discoveryArn.split('/').at(-1);
    await sd.send(new RegisterInstanceCommand({ ServiceId: srvId, InstanceId: 'registered-by-hand', Attributes: { AWS_INSTANCE_IPV4: '10.99.0.1', AWS_INSTANCE_PORT: '80', ECS_CLUSTER_NAME: 'default', ECS_SERVICE_NAME: 'backend' } }));

    // Roll the backend to v2.
    await ecs.send(new RegisterTaskDefinitionCommand(backendDef('v2')));
    const rollStart = Date.now();
    const atStart = [0, 1].map((i) => clientLines(i).at(-1)!.n);
    await ecs.send(new UpdateServiceCommand({ service: 'backend', taskDefinition: 'backend:2' }));
    await expect
      .poll(async () => {
        const s = (await ecs.send(new DescribeServicesCommand({ services: ['backend'] }))).services![0]!;
        return s.deployments!.length === 1 && s.deployments![0]!.rolloutState === 'COMPLETED' && s.runningCount === 2;
      }, { timeout: 120_000, interval: 500 })
      .toBe(true);
    const rolledMs = Date.now() - rollStart;
    const after = [0, 1].map((i) => clientLines(i).at(-1)!.n);
    for (const i of [0, 1]) {
      // Requests were made all through the rollout (the old tasks' stop included).
      expect(after[i]! - atStart[i]!).toBeGreaterThanOrEqual(5);
      // Answers from v2 only, from both new tasks, for a while after the rollout.
      await expect.poll(() => clientLines(i).filter((l) => l.n > after[i]! && l.ok && l.text.startsWith('v2 ')).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(20);
    }

    // ECS's bookkeeping in Cloud Map: the running tasks are the instances of the discoveryName's service, beside the
    // one registered by hand (ECS deregistered the old tasks, not it).
    const running = async () => ((await ecs.send(new ListTasksCommand({ serviceName: 'backend', desiredStatus: 'RUNNING' }))).taskArns ?? []).map((a) => a.split('/').at(-1)!);
    await expect.poll(async () => ((await sd.send(new ListInstancesCommand({ ServiceId: srvId }))).Instances ?? []).map((i) => i.Id).sort(), { timeout: 15_000 }).toEqual([...(await running()), 'registered-by-hand'].sort());
    const instance = (await sd.send(new ListInstancesCommand({ ServiceId: srvId }))).Instances!.find((i) => i.Id !== 'registered-by-hand')!;
    expect(instance.Attributes).toMatchObject({ AWS_INSTANCE_IPV4: lab.hosts[0]!.address, ECS_SERVICE_NAME: 'backend', ECS_CLUSTER_NAME: 'default', ECS_TASK_DEFINITION_FAMILY: 'backend' });
    sd.destroy();

    for (const i of [0, 1]) {
      // Every request counts, from the client's very first.
      const lines = clientLines(i);
      const failed = lines.filter((l) => !l.ok);
      const v2 = lines.filter((l) => l.ok && l.text.startsWith('v2 '));
      const lateV1 = lines.filter((l) => l.n > after[i]! + 5 && l.ok && l.text.startsWith('v1 '));
      console.log(`service connect, client on host ${i + 1}: ${lines.length} requests from its first (${after[i]! - atStart[i]!} during the rollout), ${failed.length} failed, v1 tasks ${v1Tasks.size}, v2 answers ${v2.length} from ${new Set(v2.map((l) => l.text)).size} tasks; rollout ${rolledMs} ms`);
      expect(lines[0]?.n).toBe(1);
      expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
      expect(new Set(v2.map((l) => l.text)).size).toBe(2);
      expect(lateV1).toEqual([]);
    }
  }, 300_000);
});
