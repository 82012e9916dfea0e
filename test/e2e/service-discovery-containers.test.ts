/**
 * Containers resolving through berth's DNS by default: a simulated host (its own network namespace) runs
 * `berth agent` with no DNS setting at all; the server, started with --dns-listen on an arbitrary port of the lab
 * bridge's address, advertises that address on the agent's session, and the agent's node-local relay
 * (169.254.170.2:53) becomes the one nameserver it writes into containers' /etc/resolv.conf. Busybox tasks on the
 * host's bridge, in host network mode and in awsvpc mode run `nslookup` against it: a Cloud Map name and a name the server
 * forwards to an upstream; a task whose dnsServers replace berth's nameserver keeps its own.
 */
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { CreatePrivateDnsNamespaceCommand, CreateServiceCommand, RegisterInstanceCommand, ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { finishedOperation } from '../../src/testing/cloud-map-operations.js';

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
    // Any port: containers never see it (the agent's relay listens on 53 for them).
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`, '--dns-listen', `${lab.gateway}:0`, '--dns-upstream', `127.0.0.1:${upstream.address().port}`]);
    expect(server.stderr()).toMatch(new RegExp(`dns server on ${lab.gateway.replaceAll('.', '\\.')}:\\d+`));
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    sd = new ServiceDiscoveryClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, disableHostPrefix: true });
    agent = startBerthAgent({
      endpoint: server.url,
      keys: server.keys,
      dataDir: join(dir, 'agent'),
      netns: lab.hosts[0]!.netns,
      // No BERTH_DNS_SERVER: the default is what is tested.
      env: { BERTH_INSECURE_REGISTRIES: registry.host, ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s', ECS_CONTAINER_STOP_TIMEOUT: '1s' },
    });
    await agent.waitForLog(/session with the control plane established/);
    await agent.waitForLog(/dns relay listening/);
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

  async function runToExit(family: string, script: string, extra: Record<string, unknown> = {}, networkMode: 'bridge' | 'host' | 'awsvpc' = 'bridge'): Promise<Task> {
    await ecs.send(new RegisterTaskDefinitionCommand({ family, networkMode, containerDefinitions: [{ name: 'client', image, memory: 64, command: ['sh', '-c', script], ...extra }] }));
    const { tasks } = await ecs.send(
      new RunTaskCommand({ taskDefinition: family, ...(networkMode === 'awsvpc' ? { networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-lab'] } } } : {}) }),
    );
    const arn = tasks![0]!.taskArn!;
    const deadline = Date.now() + 90_000;
    for (;;) {
      const task = (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks![0]!;
      if (task.lastStatus === 'STOPPED') return task;
      if (Date.now() > deadline) throw new Error(`task ${family} did not stop: ${task.lastStatus}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Exits 0 when the relay is the one nameserver and both names resolve; each failed check has its own status. */
  const resolvesBoth =
    `grep -q '^nameserver 169\\.254\\.170\\.2$' /etc/resolv.conf || exit 11; ` +
    `[ "$(grep -c '^nameserver' /etc/resolv.conf)" = 1 ] || exit 12; ` +
    `nslookup backend.apps.internal | grep -q '10\\.77\\.0\\.5' || exit 13; ` +
    `nslookup outside.example.test | grep -q '192\\.0\\.2\\.7' || exit 14; ` +
    `exit 0`;

  it('a busybox task resolves a Cloud Map name and a forwarded one through the nameserver the agent wrote by default', async () => {
    const op = await sd.send(new CreatePrivateDnsNamespaceCommand({ Name: 'apps.internal', Vpc: 'vpc-lab' }));
    const nsId = (await finishedOperation(sd, op.OperationId!)).Targets!.NAMESPACE!;
    const svc = (await sd.send(new CreateServiceCommand({ Name: 'backend', NamespaceId: nsId, DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 5 }] } }))).Service!;
    await sd.send(new RegisterInstanceCommand({ ServiceId: svc.Id!, InstanceId: 'b-1', Attributes: { AWS_INSTANCE_IPV4: '10.77.0.5' } }));
    const task = await runToExit('dns-client', resolvesBoth);
    expect(task.stoppedReason ?? '', JSON.stringify(task.containers)).not.toMatch(/error|fail/i);
    expect(task.containers![0]!.exitCode).toBe(0);
  });

  it('a host-network task and an awsvpc task resolve through the relay as well', async () => {
    const host = await runToExit('dns-host', resolvesBoth, {}, 'host');
    expect(host.containers![0]!.exitCode).toBe(0);
    const awsvpc = await runToExit('dns-vpc', resolvesBoth, {}, 'awsvpc');
    expect(awsvpc.stoppedReason ?? '', JSON.stringify(awsvpc.containers)).not.toMatch(/error|fail/i);
    expect(awsvpc.containers![0]!.exitCode).toBe(0);
  });

  it("a task's dnsServers replace berth's nameserver", async () => {
    const task = await runToExit('dns-own', `grep -q '^nameserver 192\\.0\\.2\\.53$' /etc/resolv.conf || exit 21; grep -q '169\\.254\\.170\\.2' /etc/resolv.conf && exit 22; exit 0`, {
      dnsServers: ['192.0.2.53'],
    });
    expect(task.containers![0]!.exitCode).toBe(0);
  });
});
