/**
 * Load balancing across hosts, end to end: a real `berth server`, three simulated hosts (network namespaces) each
 * with a real `berth agent` running busybox httpd tasks in runc, and a real `berth lb` driving a real HAProxy.
 * ELBv2 is set up partly with the AWS CLI v2, partly with the SDK. Proven here: agents register their host address
 * (`berth.host-address`); two bridge services with dynamic host ports spread over the three hosts sit behind ONE ALB
 * as `instance` targets, routed by path-pattern and host-header rules; an awsvpc service behind an `ip` group; an
 * NLB TCP listener; a target failing its health check stops getting traffic within interval × unhealthy threshold
 * and its task is replaced with ECS's reason and event; a target that recovers gets traffic again.
 *
 * The tasks are support/httpd-tasks.ts's: the test makes a target fail (and recover) by asking the task itself, so
 * the time its traffic takes to stop is measured from that moment.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haproxyPaths } from '../../src/lb/haproxy-process.js';
import { runtimeCommand } from '../../src/lb/haproxy-runtime.js';
import { stopStaleHaproxy } from '../../src/lb/stale-haproxy.js';
import { freePort, labDir, requireHaproxy } from '../../src/lb/testing/lb-lab.js';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthAgent, type BerthAgentProcess } from './support/berth-agent.js';
import { REPO_ROOT, startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { HTTPD_SETUP, httpGet, sampler, unpooled } from './support/httpd-tasks.js';

const isRoot = process.getuid?.() === 0;
const CLI = join(REPO_ROOT, 'dist/cli/main.js');
/** Health checks of every group: interval 5 s, thresholds 2 (a failing target is out after at most 10 s). */
const INTERVAL_S = 5;
const THRESHOLD = 2;

describe.runIf(isRoot)('berth lb across three hosts: instance and ip targets of services, rules, NLB, health', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-lbmh-'));
  const lbDir = labDir();
  let lab: HostLab;
  let registry: LoopbackRegistry;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let lb: { child: ChildProcess; output: () => string } | undefined;
  const agents: BerthAgentProcess[] = [];
  const hostNames = ['h1', 'h2', 'h3'];
  const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  /** Each host's own bridge subnet (routed to it from the root namespace: awsvpc tasks are reachable, as in a VPC). */
  const subnets: string[] = [];
  const routes: string[] = [];
  /** ec2InstanceId → host index; container instance ARN → host index. */
  const hostOfInstance = new Map<string, number>();
  const hostOfArn = new Map<string, number>();
  const ec2OfArn = new Map<string, string>();
  let albPort = 0;
  let nlbPort = 0;
  const tg: Record<'a' | 'b' | 'v' | 'tcp' | 's', string> = { a: '', b: '', v: '', tcp: '', s: '' };

  /** Start host i's agent (again: same data directory, so the same container instance). */
  async function startAgent(i: number, env: Record<string, string> = {}): Promise<void> {
    const agent = startBerthAgent({
      endpoint: server.url,
      keys: server.keys,
      dataDir: join(dir, hostNames[i]!),
      netns: lab.hosts[i]!.netns,
      env: {
        BERTH_CPU_UNITS: '2048',
        BERTH_MEMORY_MIB: '1024',
        BERTH_AVAILABILITY_ZONE: zones[i]!,
        BERTH_BRIDGE_SUBNET: subnets[i]!,
        BERTH_INSECURE_REGISTRIES: registry.host,
        ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION: '1s',
        ECS_CONTAINER_STOP_TIMEOUT: '1s',
        ECS_IMAGE_PULL_BEHAVIOR: 'prefer-cached',
        ...env,
      },
    });
    agents[i] = agent;
    await agent.waitForLog(/session with the control plane established/);
  }

  const cli = async (args: string[]) => {
    const r = await awsCli(server.url, server.credentialsFile, args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.json;
  };

  beforeAll(async () => {
    requireHaproxy();
    if (!hasAwsCli) throw new Error('the AWS CLI v2 (/usr/bin/aws) is required');
    lab = createHostLab(3);
    const n = randomBytes(2);
    for (let i = 0; i < 3; i++) subnets.push(`10.${100 + (n[0]! % 90)}.${(n[1]! % 250) + i}.0/24`);
    for (const [i, h] of lab.hosts.entries()) {
      execFileSync('ip', ['route', 'add', subnets[i]!, 'via', h.address]);
      routes.push(subnets[i]!);
    }
    registry = await startDockerRegistry({ address: lab.gateway });
    await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sh', '/setup.sh'], extraLayer: { '/setup.sh': HTTPD_SETUP } }), `${registry.host}/httpd:latest`);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    elb = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    // No BERTH_HOST_ADDRESS: each agent registers the source address of its route to the control plane.
    await Promise.all(lab.hosts.map((_h, i) => startAgent(i)));
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }));
    for (const ci of containerInstances!) {
      const i = zones.indexOf(ci.attributes!.find((a) => a.name === 'ecs.availability-zone')!.value!);
      hostOfInstance.set(ci.ec2InstanceId!, i);
      hostOfArn.set(ci.containerInstanceArn!, i);
      ec2OfArn.set(ci.containerInstanceArn!, ci.ec2InstanceId!);
    }
    const child = spawn(
      process.execPath,
      [CLI, 'lb', '--endpoint', server.url, '--address', '127.0.0.1', '--node-id', 'lb-mh', '--data-dir', join(lbDir.dir, 'lb'), '--region', 'us-east-1', '--log-level', 'warn'],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: server.keys.accessKeyId, AWS_SECRET_ACCESS_KEY: server.keys.secretAccessKey, AWS_SESSION_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    lb = { child, output: () => output };
  }, 120_000);

  afterAll(async () => {
    if (process.env.LB_E2E_DEBUG) console.log(lb?.output());
    if (ecs) {
      for (const service of ['a', 'b', 'v']) await ecs.send(new DeleteServiceCommand({ service, force: true })).catch(() => {});
      const { taskArns = [] } = await ecs.send(new ListTasksCommand({ desiredStatus: 'RUNNING' })).catch(() => ({ taskArns: [] }));
      for (const task of taskArns) await ecs.send(new StopTaskCommand({ task })).catch(() => {});
    }
    for (const [i] of agents.entries()) await untilAgentIdle(join(dir, hostNames[i]!));
    for (const a of agents) await a.kill();
    if (lb && lb.child.exitCode === null && lb.child.signalCode === null) {
      const gone = new Promise((r) => lb!.child.once('exit', r));
      lb.child.kill('SIGTERM');
      await gone;
    }
    await stopStaleHaproxy(join(lbDir.dir, 'lb')).catch(() => []);
    ecs?.destroy();
    elb?.destroy();
    unpooled.destroy();
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
    lbDir.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  const health = async (arn: string): Promise<TargetHealthDescription[]> => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [];
  const states = async (arn: string) => (await health(arn)).map((d) => d.TargetHealth?.State).sort();

  async function running(filter: { serviceName?: string; startedBy?: string }, count: number): Promise<Task[]> {
    let tasks: Task[] = [];
    await expect
      .poll(
        async () => {
          const { taskArns = [] } = await ecs.send(new ListTasksCommand({ ...filter, desiredStatus: 'RUNNING' }));
          tasks = taskArns.length ? ((await ecs.send(new DescribeTasksCommand({ tasks: taskArns }))).tasks ?? []) : [];
          return tasks.filter((t) => t.lastStatus === 'RUNNING').length;
        },
        { timeout: 60_000, interval: 300 },
      )
      .toBe(count);
    return tasks;
  }

  /** Where a bridge task's port 80 is published: its host's address and the dynamic host port. */
  const published = (t: Task) => ({ host: lab.hosts[hostOfArn.get(t.containerInstanceArn!)!]!.address, port: t.containers![0]!.networkBindings!.find((b) => b.containerPort === 80)!.hostPort! });
  /** What a task answers, asked directly (its body is how the test knows where a balanced request went). */
  const bodyOf = async (t: Task) => {
    const ip = t.containers![0]!.networkInterfaces?.[0]?.privateIpv4Address;
    const at = ip ? { host: ip, port: 80 } : published(t);
    return (await httpGet(at.host, at.port, '/')).body;
  };
  const through = async (port: number, path: string, n: number, headers: Record<string, string> = {}) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await httpGet('127.0.0.1', port, path, headers);
      out.push(r.status === 200 ? r.body : `status ${r.status} ${r.body}${r.error ?? ''}`);
    }
    return out;
  };
  const taskDefinition = (family: string, svc: string, networkMode: 'bridge' | 'awsvpc') =>
    new RegisterTaskDefinitionCommand({
      family,
      networkMode,
      containerDefinitions: [
        {
          name: 'web',
          image: `${registry.host}/httpd:latest`,
          memory: 32,
          environment: [{ name: 'SVC', value: svc }],
          portMappings: [networkMode === 'bridge' ? { containerPort: 80, hostPort: 0 } : { containerPort: 80 }],
        },
      ],
    });

  it('each agent registers berth.host-address: the source address of its route to the control plane', async () => {
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }));
    expect(containerInstances).toHaveLength(3);
    for (const ci of containerInstances!) {
      const address = ci.attributes!.find((a) => a.name === 'berth.host-address')?.value;
      expect(address).toBe(lab.hosts[hostOfInstance.get(ci.ec2InstanceId!)!]!.address);
    }
  });

  it('one ALB routes by path and by host header to two bridge services on dynamic ports over three hosts; awsvpc behind ip targets; an NLB', async () => {
    const started = Date.now();
    albPort = await freePort();
    nlbPort = await freePort();
    const checks = {
      HealthCheckPath: '/health.html',
      HealthCheckIntervalSeconds: INTERVAL_S,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: THRESHOLD,
      UnhealthyThresholdCount: THRESHOLD,
    };
    // The ALB, service a's group, the listener and its path rule through the CLI.
    const alb = (await cli(['elbv2', 'create-load-balancer', '--name', 'web', '--type', 'application', '--subnets', 'subnet-0a', 'subnet-0b'])).LoadBalancers[0].LoadBalancerArn as string;
    tg.a = (
      await cli([
        'elbv2', 'create-target-group', '--name', 'svc-a', '--protocol', 'HTTP', '--port', '80', '--target-type', 'instance',
        '--health-check-path', '/health.html', '--health-check-interval-seconds', String(INTERVAL_S), '--health-check-timeout-seconds', '2',
        '--healthy-threshold-count', String(THRESHOLD), '--unhealthy-threshold-count', String(THRESHOLD),
      ])
    ).TargetGroups[0].TargetGroupArn;
    await cli(['elbv2', 'modify-target-group-attributes', '--target-group-arn', tg.a, '--attributes', 'Key=deregistration_delay.timeout_seconds,Value=2']);
    const listener = (
      await cli([
        'elbv2', 'create-listener', '--load-balancer-arn', alb, '--protocol', 'HTTP', '--port', String(albPort),
        '--default-actions', JSON.stringify([{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'no route' } }]),
      ])
    ).Listeners[0].ListenerArn as string;
    await cli([
      'elbv2', 'create-rule', '--listener-arn', listener, '--priority', '10',
      '--conditions', JSON.stringify([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/a/*'] } }]),
      '--actions', JSON.stringify([{ Type: 'forward', TargetGroupArn: tg.a }]),
    ]);
    // The rest through the SDK.
    for (const [key, name, targetType, protocol] of [
      ['b', 'svc-b', 'instance', 'HTTP'],
      ['v', 'svc-v', 'ip', 'HTTP'],
      ['s', 'solo', 'instance', 'HTTP'],
      ['tcp', 'svc-a-tcp', 'instance', 'TCP'],
    ] as const) {
      const hc = protocol === 'TCP' ? { HealthCheckProtocol: 'TCP' as const, HealthCheckIntervalSeconds: INTERVAL_S, HealthCheckTimeoutSeconds: 2, HealthyThresholdCount: THRESHOLD, UnhealthyThresholdCount: THRESHOLD } : checks;
      tg[key] = (await elb.send(new CreateTargetGroupCommand({ Name: name, Protocol: protocol, Port: 80, TargetType: targetType, ...hc }))).TargetGroups![0]!.TargetGroupArn!;
      await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg[key], Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '2' }] }));
    }
    const rule = (priority: number, Conditions: object[], arn: string) =>
      elb.send(new CreateRuleCommand({ ListenerArn: listener, Priority: priority, Conditions: Conditions as never, Actions: [{ Type: 'forward', TargetGroupArn: arn }] }));
    await rule(20, [{ Field: 'host-header', HostHeaderConfig: { Values: ['b.example.test'] } }], tg.b);
    await rule(30, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/v/*'] } }], tg.v);
    await rule(40, [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/s/*'] } }], tg.s);
    const nlb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'tcp', Type: 'network', Subnets: ['subnet-0a'] }))).LoadBalancers![0]!.LoadBalancerArn!;
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: nlb, Protocol: 'TCP', Port: nlbPort, DefaultActions: [{ Type: 'forward', TargetGroupArn: tg.tcp }] }));

    // Services: a (in its ALB group and the NLB's), b, both bridge with hostPort 0 spread over the zones; v awsvpc.
    await ecs.send(taskDefinition('web-a', 'A', 'bridge'));
    await ecs.send(taskDefinition('web-b', 'B', 'bridge'));
    await ecs.send(taskDefinition('web-v', 'V', 'awsvpc'));
    const spread = [{ type: 'spread' as const, field: 'attribute:ecs.availability-zone' }];
    await ecs.send(
      new CreateServiceCommand({
        serviceName: 'a',
        taskDefinition: 'web-a',
        desiredCount: 3,
        placementStrategy: spread,
        loadBalancers: [
          { targetGroupArn: tg.a, containerName: 'web', containerPort: 80 },
          { targetGroupArn: tg.tcp, containerName: 'web', containerPort: 80 },
        ],
      }),
    );
    await ecs.send(new CreateServiceCommand({ serviceName: 'b', taskDefinition: 'web-b', desiredCount: 3, placementStrategy: spread, loadBalancers: [{ targetGroupArn: tg.b, containerName: 'web', containerPort: 80 }] }));
    await ecs.send(
      new CreateServiceCommand({
        serviceName: 'v',
        taskDefinition: 'web-v',
        desiredCount: 2,
        placementStrategy: spread,
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a'] } },
        loadBalancers: [{ targetGroupArn: tg.v, containerName: 'web', containerPort: 80 }],
      }),
    );
    const [a, b, v] = [await running({ serviceName: 'a' }, 3), await running({ serviceName: 'b' }, 3), await running({ serviceName: 'v' }, 2)];
    // Spread: one task of a and one of b on each host, on dynamic host ports.
    expect(new Set(a.map((t) => hostOfArn.get(t.containerInstanceArn!)))).toEqual(new Set([0, 1, 2]));
    expect(new Set(b.map((t) => hostOfArn.get(t.containerInstanceArn!)))).toEqual(new Set([0, 1, 2]));
    for (const t of [...a, ...b]) expect(published(t).port).toBeGreaterThanOrEqual(49153);

    await expect.poll(() => states(tg.a), { timeout: 45_000, interval: 500 }).toEqual(['healthy', 'healthy', 'healthy']);
    await expect.poll(() => states(tg.b), { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy', 'healthy']);
    await expect.poll(() => states(tg.v), { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy']);
    await expect.poll(() => states(tg.tcp), { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy', 'healthy']);
    const healthyAfter = Date.now() - started;
    // The targets are the tasks': instance id and dynamic host port; the awsvpc task's address and port 80.
    const targets = async (arn: string) => (await health(arn)).map((d) => `${d.Target!.Id}:${d.Target!.Port}`).sort();
    expect(await targets(tg.a)).toEqual(a.map((t) => `${ec2OfArn.get(t.containerInstanceArn!)}:${published(t).port}`).sort());
    expect(await targets(tg.tcp)).toEqual(await targets(tg.a));
    expect(await targets(tg.v)).toEqual(v.map((t) => `${t.containers![0]!.networkInterfaces![0]!.privateIpv4Address}:80`).sort());

    const bodies = async (tasks: Task[]) => new Set(await Promise.all(tasks.map(bodyOf)));
    const [A, B, V] = [await bodies(a), await bodies(b), await bodies(v)];
    expect([...A, ...B, ...V].every((x) => /^[ABV] [0-9a-f-]{36}$/.test(x))).toBe(true);
    // Every request lands on the right service, and every task gets traffic.
    expect(new Set(await through(albPort, '/a/', 12)), lb!.output()).toEqual(A);
    expect(new Set(await through(albPort, '/', 12, { host: 'b.example.test' }))).toEqual(B);
    expect(new Set(await through(albPort, '/v/', 8))).toEqual(V);
    // Priority order: the path rule (10) wins over the host rule (20); no rule: the default fixed response.
    expect(new Set(await through(albPort, '/a/', 6, { host: 'b.example.test' }))).toEqual(A);
    expect(await through(albPort, '/', 2, { host: 'c.example.test' })).toEqual(['status 404 no route', 'status 404 no route']);
    // The NLB's TCP listener (one connection per request) reaches service a's tasks on their host ports.
    expect(new Set(await through(nlbPort, '/', 12))).toEqual(A);
    console.log(`lb-multi-host: ELBv2 set up, 8 tasks on 3 hosts, every target healthy ${healthyAfter} ms after the test began`);
  }, 150_000);

  it('a target failing its health check stops getting traffic within interval × unhealthy threshold; the service replaces its task', async () => {
    expect(tg.a).not.toBe('');
    const before = await running({ serviceName: 'a' }, 3);
    const victim = before[0]!;
    const victimBody = await bodyOf(victim);
    const victimId = victim.taskArn!.split('/').pop()!;
    const s = sampler(albPort, '/a/');
    await expect.poll(() => s.samples.some((x) => x.body === victimBody), { timeout: 5_000 }).toBe(true);
    const at = published(victim);
    expect((await httpGet(at.host, at.port, '/cgi-bin/sick')).body).toBe('sick');
    const sickAt = Date.now();
    // Wait until the victim has had no request for 3 s, then measure when its last one was answered.
    const lastHit = () => s.samples.filter((x) => x.body === victimBody).at(-1)?.at ?? sickAt;
    await expect.poll(() => Date.now() - Math.max(lastHit(), sickAt) > 3_000, { timeout: 25_000, interval: 200 }).toBe(true);
    const stoppedAfter = Math.max(0, lastHit() - sickAt);
    const budget = INTERVAL_S * THRESHOLD * 1000;
    console.log(`lb-multi-host: a failing target's last request ${stoppedAfter} ms after its health page went away (interval × threshold: ${budget} ms)`);
    expect(stoppedAfter).toBeLessThanOrEqual(budget + 1_500);

    // ECS's reason and event; the target drains out of the group; a new task takes its place and gets traffic.
    const reason = `Task failed ELB health checks in (target-group ${tg.a})`;
    await expect
      .poll(async () => (await ecs.send(new DescribeTasksCommand({ tasks: [victim.taskArn!] }))).tasks![0]!, { timeout: 20_000, interval: 300 })
      .toMatchObject({ lastStatus: 'STOPPED', stoppedReason: reason });
    const events = (await ecs.send(new DescribeServicesCommand({ services: ['a'] }))).services![0]!.events!.map((e) => e.message);
    expect(events).toContain(`(service a) (task ${victimId}) failed ELB health checks in (target-group ${tg.a}).`);
    const after = await running({ serviceName: 'a' }, 3);
    const replacement = after.find((t) => !before.some((b) => b.taskArn === t.taskArn))!;
    expect(replacement).toBeDefined();
    await expect.poll(() => states(tg.a), { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy', 'healthy']);
    const replacementBody = await bodyOf(replacement);
    await expect.poll(() => s.samples.some((x) => x.body === replacementBody), { timeout: 10_000, interval: 200 }).toBe(true);
    await s.stop();
    // Never an error through the ALB meanwhile, and the victim's body never again after it went out.
    expect(s.samples.filter((x) => x.status !== 200)).toEqual([]);
    expect(s.samples.filter((x) => x.body === victimBody && x.at > sickAt + stoppedAfter)).toEqual([]);
    console.log(`lb-multi-host: ${s.samples.length} requests through the ALB during the failure and replacement, all 200`);
  }, 120_000);

  it('a target registered by hand (CLI) that fails is unhealthy with its reason and gets no traffic; recovered, it gets traffic again', async () => {
    expect(tg.s).not.toBe('');
    await ecs.send(taskDefinition('web-s', 'S', 'bridge'));
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: 'web-s', count: 2, startedBy: 'solo', placementStrategy: [{ type: 'spread', field: 'instanceId' }] }));
    expect(failures).toEqual([]);
    const solo = await running({ startedBy: 'solo' }, tasks!.length);
    const target = (t: Task) => `Id=${ec2OfArn.get(t.containerInstanceArn!)},Port=${published(t).port}`;
    await cli(['elbv2', 'register-targets', '--target-group-arn', tg.s, '--targets', ...solo.map(target)]);
    const cliHealth = async () =>
      ((await cli(['elbv2', 'describe-target-health', '--target-group-arn', tg.s])).TargetHealthDescriptions as TargetHealthDescription[]).map((d) => ({
        key: `Id=${d.Target!.Id},Port=${d.Target!.Port}`,
        ...d.TargetHealth,
      }));
    await expect.poll(async () => (await cliHealth()).map((h) => h.State), { timeout: 30_000, interval: 500 }).toEqual(['healthy', 'healthy']);
    const [sick, well] = [solo[0]!, solo[1]!];
    const [sickBody, wellBody] = [await bodyOf(sick), await bodyOf(well)];
    expect(new Set(await through(albPort, '/s/', 6))).toEqual(new Set([sickBody, wellBody]));

    const s = sampler(albPort, '/s/');
    const at = published(sick);
    await httpGet(at.host, at.port, '/cgi-bin/sick');
    const sickAt = Date.now();
    await expect
      .poll(async () => (await cliHealth()).find((h) => h.key === target(sick)), { timeout: 20_000, interval: 250 })
      .toMatchObject({ State: 'unhealthy', Reason: 'Target.ResponseCodeMismatch', Description: 'Health checks failed with these codes: [404]' });
    const unhealthyAfter = Date.now() - sickAt;
    await expect.poll(() => Date.now() - (s.samples.filter((x) => x.body === sickBody).at(-1)?.at ?? sickAt) > 3_000, { timeout: 20_000, interval: 200 }).toBe(true);
    const stoppedAfter = Math.max(0, (s.samples.filter((x) => x.body === sickBody).at(-1)?.at ?? sickAt) - sickAt);
    expect(stoppedAfter).toBeLessThanOrEqual(INTERVAL_S * THRESHOLD * 1000 + 1_500);
    expect((await cliHealth()).find((h) => h.key === target(well))?.State).toBe('healthy');

    // Recovered: healthy again after `healthyThreshold` passing checks, and back in the rotation.
    await httpGet(at.host, at.port, '/cgi-bin/well');
    const wellAt = Date.now();
    await expect.poll(async () => (await cliHealth()).find((h) => h.key === target(sick))?.State, { timeout: 20_000, interval: 250 }).toBe('healthy');
    const healthyAfter = Date.now() - wellAt;
    await expect.poll(() => s.samples.some((x) => x.body === sickBody && x.at > wellAt), { timeout: 5_000, interval: 100 }).toBe(true);
    const backAfter = s.samples.find((x) => x.body === sickBody && x.at > wellAt)!.at - wellAt;
    await s.stop();
    expect(s.samples.filter((x) => x.status !== 200)).toEqual([]);
    expect(backAfter).toBeLessThanOrEqual(INTERVAL_S * THRESHOLD * 1000 + 1_500);
    console.log(
      `lb-multi-host: hand-registered target: unhealthy in DescribeTargetHealth ${unhealthyAfter} ms and last request ${stoppedAfter} ms after its health page went away; ` +
        `healthy again ${healthyAfter} ms and first request ${backAfter} ms after it came back (interval ${INTERVAL_S} s × threshold ${THRESHOLD})`,
    );
  }, 120_000);

  it('an agent restarted with another BERTH_HOST_ADDRESS re-registers it, and berth lb sends its targets there', async () => {
    expect(tg.b).not.toBe('');
    const i = 2;
    const old = lab.hosts[i]!.address;
    const moved = old.replace(/\.(\d+)$/, (_m, last: string) => `.${Number(last) + 40}`);
    execFileSync('ip', ['-n', lab.hosts[i]!.netns, 'addr', 'add', `${moved}/24`, 'dev', 'eth0']);
    const ec2 = [...hostOfInstance].find(([, h]) => h === i)![0];
    await agents[i]!.kill();
    const restartedAt = Date.now();
    await startAgent(i, { BERTH_HOST_ADDRESS: moved });
    // The same container instance, its attribute updated by the re-registration.
    const { containerInstanceArns } = await ecs.send(new ListContainerInstancesCommand({}));
    const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ containerInstances: containerInstanceArns! }));
    expect(containerInstances).toHaveLength(3);
    expect(containerInstances!.find((ci) => ci.ec2InstanceId === ec2)!.attributes!.find((a) => a.name === 'berth.host-address')?.value).toBe(moved);
    // HAProxy's servers for this host's targets move to the new address (the node reads instances every 10 s).
    const servers = () => runtimeCommand(haproxyPaths(join(lbDir.dir, 'lb')).adminSocket, 'show servers state');
    const movedInHaproxy = async () => {
      const out = await servers();
      return out.includes(` ${moved} `) && !out.includes(` ${old} `);
    };
    await expect.poll(movedInHaproxy, { timeout: 30_000, interval: 500 }).toBe(true);
    const followedAfter = Date.now() - restartedAt;
    // And they serve there: every task of b gets traffic again once its moved target has passed its checks.
    const b = await running({ serviceName: 'b' }, 3);
    const B = new Set(await Promise.all(b.map(bodyOf)));
    await expect.poll(async () => new Set(await through(albPort, '/', 9, { host: 'b.example.test' })), { timeout: 30_000, interval: 500 }).toEqual(B);
    console.log(`lb-multi-host: berth lb served a re-registered host's targets on its new address ${followedAfter} ms after the agent restarted`);
  }, 90_000);
});
