/**
 * A Fargate service behind a load balancer, end to end: the built `berth server`, a simulated Fargate pool host (a
 * network namespace whose `berth agent` runs with BERTH_FARGATE=true, its tasks under gVisor), a real `berth lb`
 * driving a real HAProxy in the root namespace, ELBv2 set up through the SDK. The service (`launchType: FARGATE`,
 * awsvpc) names an ALB target group of targetType `ip`: its tasks are registered by their awsvpc address and the
 * container port, HAProxy's health checks find them healthy, and requests through the listener reach both tasks —
 * each answers with its own id, checked against what the task says when asked directly at its address.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateServiceCommand, DeleteServiceCommand, DescribeTasksCommand, ListTasksCommand, RegisterTaskDefinitionCommand, type Task } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, requireHaproxy } from '../../src/lb/testing/lb-lab.js';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import type { LoopbackRegistry } from '../../src/testing/docker-registry.js';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { BerthAgentProcess } from './support/berth-agent.js';
import { startBerthLb, type BerthLbProcess } from './support/berth-lb.js';
import type { BerthServerProcess } from './support/berth-server.js';
import { uniqueBridge } from './support/cluster.js';
import type { HostLab } from './support/hosts.js';
import { httpGet, unpooled } from './support/httpd-tasks.js';
import { startLabAgent, startLabControlPlane, stopLab } from './support/lab-agent.js';

const isRoot = process.getuid?.() === 0;
/** The task's program: its own id (gVisor has no /proc/sys/kernel/random/uuid) on /, `ok` on /health.html, httpd on 80. */
const SETUP = `#!/bin/sh
mkdir -p /www
echo "F $(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n')" > /www/index.html
echo ok > /www/health.html
exec httpd -f -p 80 -h /www
`;

describe.runIf(isRoot)('a Fargate service behind an ALB (ip targets, berth lb + HAProxy)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-fargate-lb-'));
  const bridge = uniqueBridge();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let agent: BerthAgentProcess;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let lb: BerthLbProcess | undefined;
  let routed = false;

  beforeAll(async () => {
    requireHaproxy();
    ({ lab, registry, server, ecs } = await startLabControlPlane(dir));
    await pushImage(await buildBusyboxImage(join(dir, 'httpd-layout'), 'latest', { cmd: ['sh', '/setup.sh'], extraLayer: { '/setup.sh': SETUP } }), `${registry.host}/httpd:latest`);
    // The pool host's task subnet is routed to it from the root namespace, where HAProxy runs (as in a VPC).
    execFileSync('ip', ['route', 'add', bridge.BERTH_BRIDGE_SUBNET, 'via', lab.hosts[0]!.address]);
    routed = true;
    agent = await startLabAgent({
      server,
      lab,
      dir,
      bridge,
      env: { BERTH_FARGATE: 'true', BERTH_MEMORY_MIB: '2048', BERTH_CPU_UNITS: '2048', BERTH_METADATA_ADDRESS: 'off', BERTH_INSECURE_REGISTRIES: registry.host },
    });
    elb = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    lb = startBerthLb({ endpoint: server.url, keys: server.keys, dataDir: join(dir, 'lb'), region: 'us-east-1', nodeId: 'lb-fargate' });
  }, 180_000);

  afterAll(async () => {
    await ecs?.send(new DeleteServiceCommand({ service: 'fg-web', force: true })).catch(() => {});
    await lb?.stop();
    await stopStaleHaproxy(join(dir, 'lb')).catch(() => []);
    elb?.destroy();
    unpooled.destroy();
    if (routed) {
      try {
        execFileSync('ip', ['route', 'delete', bridge.BERTH_BRIDGE_SUBNET], { stdio: 'ignore' });
      } catch {
        // gone with the lab's bridge
      }
    }
    await stopLab({ dir, ecs, agent, server, registries: [registry], lab });
  }, 120_000);

  const context = () => `agent: ${agent?.stderr().slice(-2000)}\nlb: ${lb?.output().slice(-2000)}`;

  async function running(count: number): Promise<Task[]> {
    let tasks: Task[] = [];
    await expect
      .poll(
        async () => {
          const { taskArns = [] } = await ecs.send(new ListTasksCommand({ serviceName: 'fg-web', desiredStatus: 'RUNNING' }));
          tasks = taskArns.length ? ((await ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks ?? []) : [];
          return tasks.filter((t) => t.lastStatus === 'RUNNING').length;
        },
        { timeout: 120_000, interval: 500, message: 'fg-web tasks RUNNING' },
      )
      .toBe(count);
    return tasks;
  }

  it('registers the Fargate tasks by their awsvpc address; traffic through the listener reaches both', async () => {
    const port = await freePort();
    const alb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'fg', Type: 'application', Subnets: ['subnet-0e2e', 'subnet-0e2f'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    const tg = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: 'fg-web',
          Protocol: 'HTTP',
          Port: 80,
          TargetType: 'ip',
          HealthCheckPath: '/health.html',
          HealthCheckIntervalSeconds: 5,
          HealthCheckTimeoutSeconds: 2,
          HealthyThresholdCount: 2,
          UnhealthyThresholdCount: 2,
        }),
      )
    ).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '2' }] }));
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: alb, Protocol: 'HTTP', Port: port, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg }] }));

    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'fg-web',
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        containerDefinitions: [{ name: 'web', image: `${registry.host}/httpd:latest`, portMappings: [{ containerPort: 80 }] }],
      }),
    );
    await ecs.send(
      new CreateServiceCommand({
        serviceName: 'fg-web',
        taskDefinition: 'fg-web',
        desiredCount: 2,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0e2e'], assignPublicIp: 'ENABLED' } },
        loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 80 }],
      }),
    );
    const tasks = await running(2).catch((e: Error) => {
      throw new Error(`${e.message}\n${context()}`);
    });
    for (const t of tasks) expect(t).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE' });
    const addresses = tasks.map((t) => t.containers![0]!.networkInterfaces![0]!.privateIpv4Address!);
    expect(addresses.every((a) => a.startsWith(bridge.BERTH_BRIDGE_SUBNET.split('.').slice(0, 3).join('.')))).toBe(true);

    const health = async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions ?? [];
    await expect
      .poll(async () => (await health()).map((d) => d.TargetHealth?.State).sort(), { timeout: 60_000, interval: 500, message: `targets healthy\n${context()}` })
      .toEqual(['healthy', 'healthy']);
    // The targets are the tasks' awsvpc addresses and the container port.
    expect((await health()).map((d) => `${d.Target!.Id}:${d.Target!.Port}`).sort()).toEqual(addresses.map((a) => `${a}:80`).sort());

    // Each task asked directly at its address, then through the listener: every answer is one of theirs, both answer.
    const direct = new Set(await Promise.all(addresses.map(async (a) => (await httpGet(a, 80, '/')).body)));
    expect([...direct].every((b) => /^F [0-9a-f]{16}$/.test(b))).toBe(true);
    expect(direct.size).toBe(2);
    const through: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await httpGet('127.0.0.1', port, '/');
      through.push(r.status === 200 ? r.body : `status ${r.status} ${r.body}${r.error ?? ''}`);
    }
    expect(through.filter((b) => !direct.has(b))).toEqual([]);
    expect(new Set(through)).toEqual(direct);
  }, 300_000);
});
