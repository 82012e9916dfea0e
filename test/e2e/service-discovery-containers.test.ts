/**
 * A container resolving through berth's DNS server: a simulated host (its own network namespace) runs
 * `berth agent` with BERTH_DNS_SERVER set to the server's DNS address, and a busybox task on the host's bridge
 * runs `nslookup` against what the agent wrote into its /etc/resolv.conf: a Cloud Map name, a name the server
 * forwards to an upstream, and a task whose dnsServers replace berth's nameserver. resolv.conf carries no port,
 * so the server's DNS listens on port 53 of the lab bridge's own address (unique per run: no clash).
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand, CreateServiceCommand, GetOperationCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';

describe('containers resolve through berth DNS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-sd-containers-'));
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let sd: ServiceDiscoveryClient;
  const upstream = createSocket('udp4');
  let image: string;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test runs containers and binds port 53: run it as root');
    upstream.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      const question = q.questions![0]!;
      const known = question.name.toLowerCase() === 'outside.example.test' && question.type === 'A';
      upstream.send(
        dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags: dnsPacket.RECURSION_AVAILABLE | (known ? 0 : 3), questions: [question], answers: known ? [{ type: 'A', name: question.name, ttl: 60, class: 'IN', data: '192.0.2.7' }] : [] }),
        rinfo.port,
        rinfo.address,
      );
    });
    await new Promise<void>((ok) => upstream.bind(0, '127.0.0.1', () => ok()));
    lab = createHostLab(1);
    registry = await startDockerRegistry({ address: lab.gateway });
    image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);
    mkdirSync(join(dir, 'server'));
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`, '--dns-listen', `${lab.gateway}:53`, '--dns-upstream', `127.0.0.1:${upstream.address().port}`]);
    expect(server.stderr()).toContain(`dns server on ${lab.gateway}:53`);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    sd = new ServiceDiscoveryClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, disableHostPrefix: true });
    agent = startBerthAgent({
      endpoint: server.url,
      keys: server.keys,
      dataDir: join(dir, 'agent'),
      netns: lab.hosts[0]!.netns,
      env: { BERTH_INSECURE_REGISTRIES: registry.host, BERTH_DNS_SERVER: lab.gateway, ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s', ECS_CONTAINER_STOP_TIMEOUT: '1s' },
    });
    await agent.waitForLog(/session with the control plane established/);
  }, 180_000);

  afterAll(async () => {
    if (agent) {
      await untilAgentIdle(join(dir, 'agent')).catch(() => {});
      await agent.kill();
    }
    ecs?.destroy();
    sd?.destroy();
    await server?.kill();
    await registry?.stop();
    lab?.destroy();
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function runToExit(family: string, script: string, extra: Record<string, unknown> = {}): Promise<Task> {
    await ecs.send(new RegisterTaskDefinitionCommand({ family, networkMode: 'bridge', containerDefinitions: [{ name: 'client', image, memory: 64, command: ['sh', '-c', script], ...extra }] }));
    const { tasks } = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
    const arn = tasks![0]!.taskArn!;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const task = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
      if (task.lastStatus === 'STOPPED') return task;
      if (Date.now() > deadline) throw new Error(`task ${family} did not stop: ${task.lastStatus}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('a busybox task resolves a Cloud Map name and a forwarded one through the nameserver the agent wrote', async () => {
    const op = await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'apps.internal', Vpc: 'vpc-lab' }));
    const nsId = (await sd.send(new GetOperationCommand({ OperationId: op.OperationId! }))).Operation!.Targets!.NAMESPACE!;
    const svc = (await sd.send(new CreateServiceCommand({ Name: 'backend', NamespaceId: nsId, DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 5 }] } }))).Service!;
    await sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id!, InstanceId: 'b-1', Attributes: { AWS_INSTANCE_IPV4: '10.77.0.5' } }));
    const gw = lab.gateway.replaceAll('.', '\\.');
    // Each check exits with its own status, so a failure says which one it was.
    const task = await runToExit(
      'dns-client',
      `grep -q '^nameserver ${gw}$' /etc/resolv.conf || exit 11; ` +
        `[ "$(grep -c '^nameserver' /etc/resolv.conf)" = 1 ] || exit 12; ` +
        `nslookup backend.apps.internal | grep -q '10\\.77\\.0\\.5' || exit 13; ` +
        `nslookup outside.example.test | grep -q '192\\.0\\.2\\.7' || exit 14; ` +
        `exit 0`,
    );
    expect(task.stoppedReason ?? '', JSON.stringify(task.containers)).not.toMatch(/error|fail/i);
    expect(task.containers![0]!.exitCode).toBe(0);
  });

  it("a task's dnsServers replace berth's nameserver", async () => {
    const gw = lab.gateway.replaceAll('.', '\\.');
    const task = await runToExit('dns-own', `grep -q '^nameserver 192\\.0\\.2\\.53$' /etc/resolv.conf || exit 21; grep -q '${gw}' /etc/resolv.conf && exit 22; exit 0`, {
      dnsServers: ['192.0.2.53'],
    });
    expect(task.containers![0]!.exitCode).toBe(0);
  });
});
