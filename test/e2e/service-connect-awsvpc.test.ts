/**
 * Service Connect with awsvpc clients, a TCP alias and ingressPortOverride, end to end: a real `berth server`, two
 * simulated hosts (network namespaces, zones a and b, each bridge subnet routed to its host so awsvpc tasks are
 * reachable from the other, as in a VPC), each with a real `berth agent` and its per-host Service Connect proxy
 * (HAProxy). The namespace is made with CreateHttpNamespace (SDK) and named as the cluster's serviceConnectDefaults.
 *
 *   web    awsvpc, busybox httpd, portMappings `http` 80 appProtocol http → alias web:8080 (HTTP), ingressPortOverride 9080
 *   raw    bridge, busybox httpd, portMappings `raw` 80 without appProtocol → alias raw:7000 (TCP)
 *   client awsvpc, one task per host, looping `wget http://web:8080/` and `wget http://raw:7000/`
 *
 * Proven: each host's proxy serves web in mode http and raw in mode tcp; web's tasks are reached at their address and
 * port 9080, where their host's proxy listens inside the task's namespace (the container port 80 answers directly
 * too: bypass); neither client sees a failed request, from its first on, while both backends roll to a new task
 * definition at once, and both clients' answers move to the new revisions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateClusterCommand,
  UpdateServiceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { CreateHttpNamespaceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runtimeCommand } from '../../src/lb/haproxy-runtime.js';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { finishedOperation } from '../../src/testing/cloud-map-operations.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { HTTPD_SETUP } from './support/httpd-tasks.js';

const ALIASES = ['web:8080', 'raw:7000'] as const;
/** The client's loop: per round, one line per alias, `OK <n> <alias> <answer>` or `FAIL <n> <alias> <wget's error>`. */
const CLIENT_LOOP = `i=0; while true; do i=$((i+1)); for a in ${ALIASES.join(' ')}; do if out=$(wget -q -O- http://$a/ 2>&1); then echo "OK $i $a $out"; else echo "FAIL $i $a $out"; fi; done; sleep 0.05; done`;

interface Line {
  readonly ok: boolean;
  readonly n: number;
  readonly alias: string;
  readonly text: string;
}

describe('Service Connect: awsvpc clients, a TCP alias, ingressPortOverride', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-sc-vpc-'));
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  const agents: BerthAgentProcess[] = [];
  const subnets: string[] = [];
  const routes: string[] = [];
  const zones = ['us-east-1a', 'us-east-1b'];
  const agentDir = (i: number) => join(dir, `h${i}`);
  const vpc = { awsvpcConfiguration: { subnets: ['subnet-0a'] } };

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test runs containers in network namespaces: run it as root');
    lab = createHostLab(2);
    const n = randomBytes(2);
    for (let i = 0; i < 2; i++) subnets.push(`10.${100 + (n[0]! % 90)}.${(n[1]! % 250) + i}.0/24`);
    for (const [i, h] of lab.hosts.entries()) {
      execFileSync('ip', ['route', 'add', subnets[i]!, 'via', h.address]);
      routes.push(subnets[i]!);
    }
    registry = await startDockerRegistry({ address: lab.gateway });
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sh', '/setup.sh'], extraLayer: { '/setup.sh': HTTPD_SETUP } }), `${registry.host}/httpd:latest`);
    mkdirSync(join(dir, 'server'));
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    await Promise.all(
      lab.hosts.map(async (h, i) => {
        agents[i] = startBerthAgent({
          endpoint: server.url,
          keys: server.keys,
          dataDir: agentDir(i),
          netns: h.netns,
          env: {
            BERTH_AVAILABILITY_ZONE: zones[i]!,
            BERTH_BRIDGE_SUBNET: subnets[i]!,
            BERTH_INSECURE_REGISTRIES: registry.host,
            BERTH_SERVICE_CONNECT_ADDRESS: '169.254.170.3',
            ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
            ECS_CONTAINER_STOP_TIMEOUT: '1s',
          },
        });
        await agents[i]!.waitForLog(/session with the control plane established/);
      }),
    );
  }, 180_000);

  afterAll(async () => {
    for (const service of ['client', 'web', 'raw']) await ecs?.send(new DeleteServiceCommand({ service, force: true })).catch(() => {});
    const deadline = Date.now() + 60_000;
    while (ecs && Date.now() < deadline && ((await ecs.send(new ListTasksCommand({})).catch(() => ({ taskArns: [] }))).taskArns ?? []).length > 0) await new Promise((r) => setTimeout(r, 500));
    for (const [i, agent] of agents.entries()) {
      await untilAgentIdle(agentDir(i)).catch(() => {});
      await agent?.kill();
    }
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    for (const r of routes) {
      try {
        execFileSync('ip', ['route', 'delete', r], { stdio: 'ignore' });
      } catch {
        // gone with the lab's bridge
      }
    }
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** A host's client lines so far, from the container logs in its agent's data directory. */
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
      for (const m of text.matchAll(/(OK|FAIL) (\d+) (\S+) ?(.*)$/gm)) lines.push({ ok: m[1] === 'OK', n: Number(m[2]), alias: m[3]!, text: m[4]! });
    }
    return lines.sort((a, b) => a.n - b.n);
  }

  /** What a host's proxy holds and its agent said (for a failure's message). */
  async function proxyState(i: number): Promise<string> {
    const servers = await runtimeCommand(join(agentDir(i), 'sc', 'admin.sock'), 'show servers state').catch((e) => String(e));
    const said = agents[i]!.stderr().split('\n').filter((l) => /service.connect|haproxy/i.test(l)).slice(-10).join('\n');
    return `host ${i} servers:\n${servers.split('\n').filter((l) => !/127\.0\.0\.1 /.test(l)).join('\n')}\nagent:\n${said}`;
  }

  const fromHost = (i: number, url: string) =>
    spawnSync('nsenter', [`--net=/var/run/netns/${lab.hosts[i]!.netns}`, '--', 'curl', '-sS', '-m', '3', url], { encoding: 'utf8' });

  const definition = (family: string, svc: string) =>
    family === 'web'
      ? {
          family,
          networkMode: 'awsvpc' as const,
          containerDefinitions: [{ name: 'web', image: `${registry.host}/httpd:latest`, memory: 32, environment: [{ name: 'SVC', value: svc }], portMappings: [{ name: 'http', containerPort: 80, appProtocol: 'http' as const }] }],
        }
      : {
          family,
          networkMode: 'bridge' as const,
          containerDefinitions: [{ name: 'raw', image: `${registry.host}/httpd:latest`, memory: 32, environment: [{ name: 'SVC', value: svc }], portMappings: [{ name: 'raw', containerPort: 80, hostPort: 0 }] }],
        };

  async function runningTasks(service: string): Promise<Task[]> {
    const { taskArns = [] } = await ecs.send(new ListTasksCommand({ serviceName: service, desiredStatus: 'RUNNING' }));
    return taskArns.length ? ((await ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks ?? []).filter((t) => t.lastStatus === 'RUNNING') : [];
  }
  const eniAddress = (t: Task) => t.attachments?.find((a) => a.type === 'ElasticNetworkInterface')?.details?.find((d) => d.name === 'privateIPv4Address')?.value;

  it('awsvpc clients on two hosts reach an HTTP alias (ingress port override) and a TCP alias through a rollout of both, without a failed request', async () => {
    const sd = new ServiceDiscoveryClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, disableHostPrefix: true });
    const op = await sd.send(new CreateHttpNamespaceCommand({ Name: 'mesh' }));
    const nsId = (await finishedOperation(sd, op.OperationId!)).Targets!.NAMESPACE!;
    sd.destroy();
    const cluster = (await ecs.send(new UpdateClusterCommand({ cluster: 'default', serviceConnectDefaults: { namespace: 'mesh' } }))).cluster!;
    expect(cluster.serviceConnectDefaults?.namespace).toMatch(new RegExp(`^arn:aws:servicediscovery:us-east-1:\\d+:namespace/${nsId}$`));

    for (const family of ['web', 'raw']) await ecs.send(new RegisterTaskDefinitionCommand(definition(family, `${family}-v1`)));
    await ecs.send(
      new CreateServiceCommand({
        serviceName: 'web',
        taskDefinition: 'web',
        desiredCount: 2,
        networkConfiguration: vpc,
        serviceConnectConfiguration: { enabled: true, services: [{ portName: 'http', discoveryName: 'web', clientAliases: [{ port: 8080, dnsName: 'web' }], ingressPortOverride: 9080 }] },
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        serviceName: 'raw',
        taskDefinition: 'raw',
        desiredCount: 2,
        serviceConnectConfiguration: { enabled: true, services: [{ portName: 'raw', discoveryName: 'raw', clientAliases: [{ port: 7000, dnsName: 'raw' }] }] },
      }),
    );
    for (const service of ['web', 'raw']) {
      await expect.poll(async () => (await runningTasks(service)).length, { timeout: 90_000, interval: 500 }).toBe(2);
    }

    // The modes, and web's ingress listeners: in each web task's namespace, on its host's proxy, at port 9080.
    const webTasks = await runningTasks('web');
    const hostOf = (t: Task) => zones.indexOf(t.availabilityZone!);
    expect(new Set(webTasks.map(hostOf))).toEqual(new Set([0, 1]));
    for (const i of [0, 1]) {
      await expect
        .poll(() => readFileSync(join(agentDir(i), 'sc', 'haproxy.cfg'), 'utf8'), { timeout: 15_000 })
        .toMatch(/backend sc_raw_7000\n {2}mode tcp\n[^]*backend sc_web_8080\n {2}mode http\n/);
    }
    for (const t of webTasks) {
      const id = t.taskArn!.split('/').at(-1)!;
      const address = eniAddress(t)!;
      await expect.poll(() => readFileSync(join(agentDir(hostOf(t)), 'sc', 'haproxy.cfg'), 'utf8'), { timeout: 15_000 }).toContain(`listen sc_in_${id}_9080\n  bind ${address}:9080 namespace berth-${id}`);
      // From the other host: the ingress port (the proxy in the task's namespace) and the container port (bypass).
      const other = 1 - hostOf(t);
      expect(fromHost(other, `http://${address}:9080/`).stdout).toMatch(/^web-v1 /);
      expect(fromHost(other, `http://${address}:80/`).stdout).toMatch(/^web-v1 /);
      // Every host's proxy sends web's traffic for the task to the ingress port.
      for (const i of [0, 1]) {
        await expect.poll(async () => runtimeCommand(join(agentDir(i), 'sc', 'admin.sock'), 'show servers state sc_web_8080'), { timeout: 15_000 }).toMatch(new RegExp(` ${address.replace(/\./g, '\\.')} .* 9080 `));
      }
    }

    // awsvpc clients, one per host (spread over the zones).
    await ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'client', networkMode: 'awsvpc', containerDefinitions: [{ name: 'loop', image: `${registry.host}/httpd:latest`, memory: 32, command: ['sh', '-c', CLIENT_LOOP] }] }),
    );
    await ecs.send(new CreateServiceCommand({ serviceName: 'client', taskDefinition: 'client', desiredCount: 2, networkConfiguration: vpc, serviceConnectConfiguration: { enabled: true } }));
    for (const i of [0, 1]) {
      for (const alias of ALIASES) {
        const family = alias.split(':')[0]!;
        await expect
          .poll(() => new Set(clientLines(i).filter((l) => l.ok && l.alias === alias && l.text.startsWith(`${family}-v1 `)).map((l) => l.text)).size, { timeout: 60_000, interval: 250 })
          .toBe(2)
          .catch(async (e) => Promise.reject(new Error(`${e}\nclient ${i}: ${JSON.stringify(clientLines(i).slice(-4))}\n${await proxyState(i)}`)));
      }
    }

    // Both backends roll to v2 at once.
    for (const family of ['web', 'raw']) await ecs.send(new RegisterTaskDefinitionCommand(definition(family, `${family}-v2`)));
    const rollStart = Date.now();
    const atStart = [0, 1].map((i) => clientLines(i).at(-1)!.n);
    for (const family of ['web', 'raw']) await ecs.send(new UpdateServiceCommand({ service: family, taskDefinition: `${family}:2` }));
    await expect
      .poll(
        async () => {
          const { services = [] } = await ecs.send(new DescribeServicesCommand({ services: ['web', 'raw'] }));
          return services.every((s) => s.deployments!.length === 1 && s.deployments![0]!.rolloutState === 'COMPLETED' && s.runningCount === 2);
        },
        { timeout: 180_000, interval: 500 },
      )
      .toBe(true);
    const rolledMs = Date.now() - rollStart;
    const after = [0, 1].map((i) => clientLines(i).at(-1)!.n);
    for (const i of [0, 1]) {
      expect(after[i]! - atStart[i]!).toBeGreaterThanOrEqual(5);
      for (const alias of ALIASES) {
        const family = alias.split(':')[0]!;
        await expect.poll(() => clientLines(i).filter((l) => l.n > after[i]! && l.ok && l.alias === alias && l.text.startsWith(`${family}-v2 `)).length, { timeout: 30_000 }).toBeGreaterThanOrEqual(20);
      }
    }

    // Each stopped old task drained until the proxies had taken it out and its sessions were done, not to the bound.
    const drains = agents.flatMap((a) => a.stderr().split('\n').filter((l) => l.includes('service connect drain over')).map((l) => JSON.parse(l) as { end: string; ms: number }));
    console.log(`service connect drains: ${drains.map((d) => `${d.ms} ms (${d.end})`).join(', ')}`);
    expect(drains.length).toBeGreaterThanOrEqual(4);
    expect(drains.filter((d) => d.end !== 'drained')).toEqual([]);

    for (const i of [0, 1]) {
      const lines = clientLines(i);
      const failed = lines.filter((l) => !l.ok);
      console.log(
        `service connect (awsvpc client on host ${i + 1}): ${lines.length} requests from its first (${(after[i]! - atStart[i]!) * ALIASES.length} during the rollout), ${failed.length} failed; ` +
          ALIASES.map((a) => `${a} v2 from ${new Set(lines.filter((l) => l.alias === a && l.ok && l.text.startsWith(`${a.split(':')[0]}-v2 `)).map((l) => l.text)).size} tasks`).join(', ') +
          `; rollout ${rolledMs} ms`,
      );
      expect(lines[0]?.n).toBe(1);
      expect(failed, `${JSON.stringify(failed.slice(0, 5))}\n${await proxyState(i)}`).toEqual([]);
      for (const alias of ALIASES) {
        const family = alias.split(':')[0]!;
        expect(new Set(lines.filter((l) => l.ok && l.alias === alias && l.text.startsWith(`${family}-v2 `)).map((l) => l.text)).size).toBe(2);
        expect(lines.filter((l) => l.n > after[i]! + 5 && l.ok && l.alias === alias && l.text.startsWith(`${family}-v1 `))).toEqual([]);
      }
    }
  }, 420_000);
});
