import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTargetHealth } from '../elb/target-health.js';
import { keys } from '../state/keys.js';
import { startApiFixture, TEST_KEYS, TEST_REGION, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';
import { removeAgentDir, startFakeAgent, type FakeAgent } from '../testing/fake-agents.js';

/**
 * Services behind a target group: the real server (ECS and ELBv2 APIs, the service controller) and a real agent
 * with fake runtime parts. The load balancer data plane (`berth lb`) is not wired to this test: target health is
 * set by calling the store function the data plane reports through (setTargetHealth), as it would.
 */
let api: ApiFixture;
let elb: ElasticLoadBalancingV2Client;
let agent: FakeAgent;
let tgArn: string;
let ec2Id: string;
const cluster = 'lb';
const DRAIN_S = 2;

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200, agentSilenceMs: 1_000, serviceResyncMs: 1_000 });
  elb = new ElasticLoadBalancingV2Client({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  agent = await startFakeAgent(api.server.url, { cluster });
  await api.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64, portMappings: [{ containerPort: 80, hostPort: 0 }] }] }),
  );
  const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'front', Subnets: ['subnet-a', 'subnet-b'] }))).LoadBalancers![0]!;
  const tg = (await elb.send(new CreateTargetGroupCommand({ Name: 'web', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1', TargetType: 'instance' }))).TargetGroups![0]!;
  tgArn = tg.TargetGroupArn!;
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(DRAIN_S) }] }));
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn!, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }));
  // (expect.poll is for tests; the hook waits for the agent with its own deadline.)
  for (const deadline = Date.now() + 5_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const instance = (await api.ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [agent.instanceId] }))).containerInstances?.[0];
    if (instance?.agentConnected) {
      ec2Id = instance.ec2InstanceId!;
      break;
    }
    if (Date.now() > deadline) throw new Error('the fake agent did not connect within 5 s');
  }
});
afterAll(async () => {
  elb.destroy();
  await agent.stop();
  await api.stop();
  removeAgentDir(agent);
});

const lbs = (containerName = 'app', containerPort = 80) => [{ targetGroupArn: tgArn, containerName, containerPort }];
const describe1 = async (name = 'web'): Promise<Service> => (await api.ecs.send(new DescribeServicesCommand({ cluster, services: [name] }))).services![0]!;
const messages = async (name = 'web') => (await describe1(name)).events!.map((e) => e.message!);
/**
 * How many targets the service's events say were (de)registered in `group`, over all its "registered N targets"
 * events: the controller writes one per pass, so tasks turning RUNNING in two passes give two events.
 */
async function targetsInEvents(verb: 'registered' | 'deregistered', group: string, name = 'web'): Promise<number> {
  const prefix = `(service ${name}) ${verb} `;
  const suffix = ` targets in (target-group ${group})`;
  return (await messages(name)).filter((m) => m.startsWith(prefix) && m.endsWith(suffix)).reduce((n, m) => n + Number(m.slice(prefix.length, -suffix.length)), 0);
}
const targets = async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? [];
async function tasks(desired: 'RUNNING' | 'STOPPED' = 'RUNNING'): Promise<Task[]> {
  const { taskArns } = await api.ecs.send(new ListTasksCommand({ cluster, serviceName: 'web', desiredStatus: desired }));
  return taskArns?.length ? (await api.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks! : [];
}
const hostPort = (t: Task) => t.containers![0]!.networkBindings!.find((b) => b.containerPort === 80)!.hostPort!;
const healthy = (ts: Task[]) => setTargetHealth(api.server.store, tgArn, ts.map((t) => ({ id: ec2Id, port: hostPort(t), state: 'healthy' as const })), 'test-lb');

describe('CreateService loadBalancers', () => {
  it.each([
    ['an unknown container', () => lbs('nope'), /The container nope does not exist in the task definition\./],
    ['a port the container does not map', () => lbs('app', 81), /The container app did not have a container port 81 defined\./],
    ['an unknown target group', () => [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/gone/0123456789abcdef', containerName: 'app', containerPort: 80 }], /targetGroupArn/],
    ['a missing containerPort', () => [{ targetGroupArn: 'x', containerName: 'app' }], /containerPort/],
  ])('refuses %s with InvalidParameterException and creates nothing', async (_what, given, message) => {
    const loadBalancers = given();
    const e = await failure(api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'refused', taskDefinition: 'web', desiredCount: 1, loadBalancers })));
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toMatch(message);
    expect((await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['refused'] }))).failures).toHaveLength(1);
  });

  it('refuses a target group no load balancer uses', async () => {
    const lone = (await elb.send(new CreateTargetGroupCommand({ Name: 'lone', Protocol: 'HTTP', Port: 80, VpcId: 'vpc-1' }))).TargetGroups![0]!;
    const e = await failure(
      api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'refused', taskDefinition: 'web', desiredCount: 1, loadBalancers: [{ targetGroupArn: lone.TargetGroupArn!, containerName: 'app', containerPort: 80 }] })),
    );
    expect(e.message).toBe(`The target group with targetGroupArn ${lone.TargetGroupArn} does not have an associated load balancer.`);
  });
});

describe('a service behind a target group', () => {
  it('registers RUNNING tasks, gates a rolling deployment on healthy targets, replaces an unhealthy one, drains before stopping on scale-in', { timeout: 60_000 }, async () => {
    const { service } = await api.ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: 'web',
        taskDefinition: 'web',
        desiredCount: 2,
        loadBalancers: lbs(),
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      }),
    );
    expect(service!.loadBalancers).toEqual(lbs());

    // RUNNING tasks become instance targets: the instance's EC2 id and each task's dynamic host port.
    await expect.poll(async () => (await targets()).length, { timeout: 10_000 }).toBe(2);
    const first = await tasks();
    expect(new Set((await targets()).map((t) => `${t.Target!.Id}:${t.Target!.Port}`))).toEqual(new Set(first.map((t) => `${ec2Id}:${hostPort(t)}`)));
    await expect.poll(() => targetsInEvents('registered', tgArn), { timeout: 10_000 }).toBe(2);
    // Not healthy yet (initial): the deployment does not complete.
    expect((await describe1()).deployments![0]!.rolloutState).toBe('IN_PROGRESS');
    await healthy(first);
    await expect.poll(async () => (await describe1()).deployments![0]!.rolloutState, { timeout: 10_000 }).toBe('COMPLETED');

    // A rolling deployment (100 % / 200 %): two new tasks start and register; the old ones stay while the new targets are initial.
    await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'web', forceNewDeployment: true }));
    await expect.poll(async () => (await targets()).length, { timeout: 10_000 }).toBe(4);
    const fresh = (await tasks()).filter((t) => !first.some((o) => o.taskArn === t.taskArn));
    expect(fresh).toHaveLength(2);
    await api.server.serviceController.idle();
    expect((await tasks()).filter((t) => first.some((o) => o.taskArn === t.taskArn))).toHaveLength(2);
    // New targets healthy: the old tasks are deregistered (draining) and stopped only once the delay has passed.
    await healthy(fresh);
    await expect.poll(async () => (await targets()).filter((t) => t.TargetHealth!.State === 'draining').length, { timeout: 10_000 }).toBe(2);
    const drainStarted = Date.now();
    // Meanwhile they show what ECS shows: DEACTIVATING, desired STOPPED (their agent keeps them running).
    const old = async () => (await tasks('STOPPED')).filter((t) => first.some((o) => o.taskArn === t.taskArn));
    expect((await old()).map((t) => [t.lastStatus, t.desiredStatus, t.stopCode])).toEqual([
      ['DEACTIVATING', 'STOPPED', 'ServiceSchedulerInitiated'],
      ['DEACTIVATING', 'STOPPED', 'ServiceSchedulerInitiated'],
    ]);
    await expect.poll(async () => (await old()).filter((t) => t.lastStatus === 'STOPPED').length, { timeout: 10_000 }).toBe(2);
    expect(Date.now() - drainStarted).toBeGreaterThanOrEqual(DRAIN_S * 1000 - 300);
    expect(await targetsInEvents('deregistered', tgArn)).toBe(2);

    // A target that turns unhealthy: its task is replaced with ECS's reason and event.
    const victim = fresh[0]!;
    await setTargetHealth(api.server.store, tgArn, [{ id: ec2Id, port: hostPort(victim), state: 'unhealthy', reason: 'Target.ResponseCodeMismatch' }], 'test-lb');
    await expect.poll(async () => (await tasks('STOPPED')).find((t) => t.taskArn === victim.taskArn)?.stoppedReason, { timeout: 15_000 }).toBe(`Task failed ELB health checks in (target-group ${tgArn})`);
    // DEACTIVATING while its target drains, then stopped.
    await expect.poll(async () => (await tasks('STOPPED')).find((t) => t.taskArn === victim.taskArn)?.lastStatus, { timeout: 15_000 }).toBe('STOPPED');
    const victimId = victim.taskArn!.split('/').at(-1);
    expect(await messages()).toContain(`(service web) (task ${victimId}) failed ELB health checks in (target-group ${tgArn}).`);
    await expect.poll(async () => (await describe1()).deployments![0]!.failedTasks, { timeout: 5_000 }).toBe(1);
    await expect.poll(async () => (await tasks()).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => (await targets()).filter((t) => t.TargetHealth!.State === 'initial').length, { timeout: 10_000 }).toBe(1);
    await healthy(await tasks());

    // Scale-in to 1: one target drains first; its task stays DEACTIVATING until the delay is over.
    const before = new Set((await tasks('STOPPED')).map((t) => t.taskArn));
    await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'web', desiredCount: 1 }));
    const leaving = async () => (await tasks('STOPPED')).filter((t) => !before.has(t.taskArn));
    await expect.poll(async () => (await leaving()).map((t) => t.lastStatus), { timeout: 10_000 }).toEqual(['DEACTIVATING']);
    const leavingPort = hostPort((await leaving())[0]!);
    expect((await targets()).find((t) => t.Target!.Port === leavingPort)?.TargetHealth?.State).toBe('draining');
    expect(await tasks()).toHaveLength(1);
    await expect.poll(async () => (await leaving()).map((t) => t.lastStatus), { timeout: 10_000 }).toEqual(['STOPPED']);
    const record = JSON.parse((await api.server.store.get(keys.service(cluster, 'web')))!.value);
    expect(record.berth.deregistering ?? {}).toEqual({});
  });
});

describe('an awsvpc service behind an ip target group', () => {
  it('registers each task by its address and the container port', { timeout: 30_000 }, async () => {
    await api.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'vpcweb', networkMode: 'awsvpc', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 64, portMappings: [{ containerPort: 8080 }] }] }),
    );
    const lb = (await elb.send(new CreateLoadBalancerCommand({ Name: 'front-ip', Subnets: ['subnet-a', 'subnet-b'] }))).LoadBalancers![0]!;
    const ipTg = (await elb.send(new CreateTargetGroupCommand({ Name: 'vpcweb', Protocol: 'HTTP', Port: 8080, VpcId: 'vpc-1', TargetType: 'ip' }))).TargetGroups![0]!.TargetGroupArn!;
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: lb.LoadBalancerArn!, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: ipTg }] }));
    // An instance group does not go with awsvpc, nor an ip group with bridge.
    const e = await failure(api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'wrong', taskDefinition: 'web', desiredCount: 1, loadBalancers: [{ targetGroupArn: ipTg, containerName: 'app', containerPort: 80 }] })));
    expect(e.message).toBe(`The provided target group ${ipTg} has target type ip, which is incompatible with the bridge network mode specified in the task definition.`);
    await api.ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: 'vpcweb',
        taskDefinition: 'vpcweb',
        desiredCount: 2,
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-a'] } },
        loadBalancers: [{ targetGroupArn: ipTg, containerName: 'app', containerPort: 8080 }],
      }),
    );
    const ipTargets = async () => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: ipTg }))).TargetHealthDescriptions ?? [];
    await expect.poll(async () => (await ipTargets()).length, { timeout: 10_000 }).toBe(2);
    const { taskArns } = await api.ecs.send(new ListTasksCommand({ cluster, serviceName: 'vpcweb' }));
    const addresses = (await api.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns! }))).tasks!.map((t) => t.containers![0]!.networkInterfaces![0]!.privateIpv4Address!);
    expect(new Set((await ipTargets()).map((t) => `${t.Target!.Id}:${t.Target!.Port}`))).toEqual(new Set(addresses.map((a) => `${a}:8080`)));
  });
});
