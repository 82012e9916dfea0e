import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, DescribeCapacityProvidersCommand, DescribeClustersCommand, DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, StopTaskCommand, type Task } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { removeNetnsHosts, until } from './support/netns-hosts.js';

const isRoot = process.getuid?.() === 0;

/**
 * A capacity provider over a host group, through the built server and the AWS CLI v2: a group of netns hosts at
 * desired capacity 0 (managed scaling DISABLED: the user scales the group), a provider on it, the cluster's
 * providers and default strategy set; `aws ecs run-task --capacity-provider-strategy` answers a task waiting in
 * PROVISIONING (listed, counted as pending); once the group is given a host, its agent registers and the task runs
 * on that host with its capacityProviderName. A service of two tasks (one host's room each) runs one and waits with
 * the other until the group has a second host. ECS's refusals change nothing.
 */
describe.runIf(isRoot)('capacity providers of host groups', () => {
  if (!hasAwsCli) throw new Error('the AWS CLI v2 (/usr/bin/aws) is needed for this test');
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-capacity-'));
  const third = randomBytes(1)[0]!;
  const second = 245 + (randomBytes(1)[0]! % 5);
  const gateway = `10.${second}.${third}.1`;
  const bridge = `bh-${second}-${third}`;
  const cluster = `cp-${randomBytes(3).toString('hex')}`;
  let server: BerthServerProcess;
  let registry: LoopbackRegistry;
  let ecs: ECSClient;
  let image: string;
  let registryHost: string;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const hostsDir = () => join(server.dataDir, 'hosts');
  const agentLogs = () =>
    existsSync(hostsDir()) ? readdirSync(hostsDir()).map((id) => `${id}:\n${existsSync(join(hostsDir(), id, 'agent.log')) ? readFileSync(join(hostsDir(), id, 'agent.log'), 'utf8').slice(-3000) : ''}`).join('\n') : '';

  beforeAll(async () => {
    // The hosts pull from a registry on this machine, reached at their bridge's gateway over plain HTTP.
    registry = await startDockerRegistry({ address: '0.0.0.0' });
    const port = registry.host.split(':').at(-1)!;
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), `127.0.0.1:${port}/busybox:latest`);
    registryHost = `${gateway}:${port}`;
    image = `${registryHost}/busybox:latest`;
    server = await startBerthServer(join(dir, 'server'), ['--listen', '0.0.0.0:0', '--host-provisioner', 'netns', '--host-netns-subnet', `10.${second}.${third}.0/24`]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  }, 120_000);

  afterAll(async () => {
    // Whatever a failed run left: the hosts' agents and namespaces, the bridge, the registry.
    ecs?.destroy();
    await server?.kill();
    await registry?.stop();
    if (server) removeNetnsHosts(hostsDir(), bridge);
    rmSync(dir, { recursive: true, force: true });
  });

  const describeTask = async (arn: string): Promise<Task> => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks![0]!;
  const noProviders = () => JSON.stringify({ cluster, capacityProviders: [], defaultCapacityProviderStrategy: [] });
  const providers = async () => (await aws('ecs', 'describe-capacity-providers')).json.capacityProviders.map((p: { name: string }) => p.name);

  it('a task waits in PROVISIONING for the group and runs on its first host; a service’s second task waits for a second host', async () => {
    const userData = `#!/bin/bash\necho ECS_CLUSTER=${cluster} >> /etc/ecs/ecs.config\necho BERTH_INSECURE_REGISTRIES=${registryHost} >> /etc/ecs/ecs.config\necho ECS_CONTAINER_STOP_TIMEOUT=1s >> /etc/ecs/ecs.config\n`;
    let r = await aws('autoscaling', 'create-launch-configuration', '--launch-configuration-name', 'cp-hosts', '--image-id', 'netns', '--instance-type', 'berth.small', '--user-data', userData);
    expect(r.code, r.stderr).toBe(0);
    r = await aws('autoscaling', 'create-auto-scaling-group', '--auto-scaling-group-name', 'cp-lab', '--launch-configuration-name', 'cp-hosts', '--min-size', '0', '--max-size', '2', '--desired-capacity', '0', '--availability-zones', 'us-east-1a');
    expect(r.code, r.stderr).toBe(0);
    const groupArn = (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'cp-lab')).json.AutoScalingGroups[0].AutoScalingGroupARN;

    // Bad inputs: ECS's errors, nothing made.
    r = await aws('ecs', 'create-capacity-provider', '--name', 'ecs-lab', '--auto-scaling-group-provider', `autoScalingGroupArn=${groupArn}`);
    expect(r.stderr).toMatch(/InvalidParameterException.*can't be prefixed with "aws", "ecs", or "fargate"/);
    r = await aws('ecs', 'create-capacity-provider', '--name', 'lab', '--auto-scaling-group-provider', 'autoScalingGroupArn=no-such-group');
    expect(r.stderr).toMatch(/ClientException.*'no-such-group' does not exist/);
    r = await aws('ecs', 'create-capacity-provider', '--name', 'lab', '--auto-scaling-group-provider', `autoScalingGroupArn=${groupArn},managedTerminationProtection=ENABLED`);
    expect(r.stderr).toMatch(/ClientException.*instance protection from scale in/);
    expect(await providers()).toEqual(['FARGATE', 'FARGATE_SPOT']);

    r = await aws('ecs', 'create-capacity-provider', '--name', 'lab', '--auto-scaling-group-provider', `autoScalingGroupArn=${groupArn},managedScaling={status=DISABLED}`, '--tags', 'key=team,value=blue');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.capacityProvider).toMatchObject({
      name: 'lab',
      status: 'ACTIVE',
      autoScalingGroupProvider: {
        autoScalingGroupArn: groupArn,
        managedScaling: { status: 'DISABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
        managedTerminationProtection: 'DISABLED',
      },
    });
    // Debian's AWS CLI predates managedDraining and drops it when it reads the answer; the SDK shows it.
    const described = (await ecs.send(new DescribeCapacityProvidersCommand({ capacityProviders: ['lab'], include: ['TAGS'] }))).capacityProviders![0]!;
    expect(described).toMatchObject({ autoScalingGroupProvider: { managedDraining: 'ENABLED' }, tags: [{ key: 'team', value: 'blue' }] });
    r = await aws('ecs', 'put-cluster-capacity-providers', '--cluster', cluster, '--capacity-providers', 'lab', 'FARGATE', '--default-capacity-provider-strategy', 'capacityProvider=lab,weight=1', 'capacityProvider=FARGATE,weight=1');
    expect(r.stderr).toMatch(/InvalidParameterException.*mix of capacity providers using Auto Scaling groups and Fargate/);
    r = await aws('ecs', 'put-cluster-capacity-providers', '--cluster', cluster, '--capacity-providers', 'lab', '--default-capacity-provider-strategy', 'capacityProvider=lab,weight=1');
    expect(r.code, r.stderr).toBe(0);
    r = await aws('ecs', 'delete-capacity-provider', '--capacity-provider', 'lab');
    expect(r.stderr).toMatch(new RegExp(`ClientException.*associated with cluster: ${cluster}`));
    expect(await providers()).toEqual(['FARGATE', 'FARGATE_SPOT', 'lab']);

    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'waits',
        networkMode: 'host',
        requiresCompatibilities: ['EC2'],
        containerDefinitions: [{ name: 'app', image, memory: 128, command: ['sleep', '600'] }],
      }),
    );
    r = await aws('ecs', 'run-task', '--cluster', cluster, '--task-definition', 'waits', '--launch-type', 'EC2', '--capacity-provider-strategy', 'capacityProvider=lab,weight=1');
    expect(r.stderr).toMatch(/InvalidParameterException.*Specifying both a launch type and capacity provider strategy is not supported/);
    expect((await ecs.send(new ListTasksCommand({ cluster }))).taskArns).toEqual([]);

    // No host yet: the task waits, listed and counted as pending.
    r = await aws('ecs', 'run-task', '--cluster', cluster, '--task-definition', 'waits', '--capacity-provider-strategy', 'capacityProvider=lab,weight=1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.failures).toEqual([]);
    const waiting = r.json.tasks[0];
    expect(waiting).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', capacityProviderName: 'lab', launchType: 'EC2' });
    expect(waiting.containerInstanceArn).toBeUndefined();
    expect((await ecs.send(new ListTasksCommand({ cluster }))).taskArns).toEqual([waiting.taskArn]);
    const { clusters } = await ecs.send(new DescribeClustersCommand({ clusters: [cluster], include: ['STATISTICS'] }));
    expect(clusters![0]).toMatchObject({ pendingTasksCount: 1, runningTasksCount: 0, capacityProviders: ['lab'], defaultCapacityProviderStrategy: [{ capacityProvider: 'lab', weight: 1 }] });
    expect(clusters![0]!.statistics).toContainEqual({ name: 'pendingEC2TasksCount', value: '1' });
    await new Promise((r) => setTimeout(r, 3000));
    expect((await describeTask(waiting.taskArn)).lastStatus).toBe('PROVISIONING');

    // The user scales the group: its host registers and the task runs there.
    const scaledAt = Date.now();
    r = await aws('autoscaling', 'set-desired-capacity', '--auto-scaling-group-name', 'cp-lab', '--desired-capacity', '1');
    expect(r.code, r.stderr).toBe(0);
    const running = await until('the waiting task RUNNING on the new host', async () => {
      const t = await describeTask(waiting.taskArn);
      return t.lastStatus === 'RUNNING' ? t : t.lastStatus === 'STOPPED' ? Promise.reject(new Error(`task stopped: ${t.stoppedReason}\n${agentLogs()}`)) : undefined;
    }, 180_000, agentLogs);
    const seconds = (Date.now() - scaledAt) / 1000;
    console.log(`capacity wait → RUNNING on a new netns host: ${seconds.toFixed(1)} s after SetDesiredCapacity`);
    expect(running.capacityProviderName).toBe('lab');
    const [host] = (await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: [running.containerInstanceArn!] }))).containerInstances!;
    const groupInstances = (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'cp-lab')).json.AutoScalingGroups[0].Instances;
    expect(groupInstances.map((i: { InstanceId: string }) => i.InstanceId)).toEqual([host!.ec2InstanceId]);

    // A provider in use by a task stays on the cluster.
    r = await aws('ecs', 'put-cluster-capacity-providers', '--cli-input-json', noProviders());
    expect(r.stderr).toMatch(/ResourceInUseException.*in use and cannot be removed/);

    // The task stops on its host, leaving it empty.
    await ecs.send(new StopTaskCommand({ cluster, task: waiting.taskArn }));
    await until('the task STOPPED', async () => ((await describeTask(waiting.taskArn)).lastStatus === 'STOPPED' ? true : undefined), 60_000, agentLogs);

    // A service on the provider: two tasks, one host's room each — one runs, the other waits for a second host.
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'big',
        networkMode: 'host',
        containerDefinitions: [{ name: 'app', image, memory: 1536, command: ['sleep', '600'] }],
      }),
    );
    r = await aws('ecs', 'create-service', '--cluster', cluster, '--service-name', 'web', '--task-definition', 'big', '--desired-count', '2', '--capacity-provider-strategy', 'capacityProvider=lab,weight=1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.service).toMatchObject({ capacityProviderStrategy: [{ capacityProvider: 'lab', weight: 1 }] });
    const serviceTasks = async () => {
      const { taskArns = [] } = await ecs.send(new ListTasksCommand({ cluster, serviceName: 'web' }));
      return taskArns.length ? (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks! : [];
    };
    const split = await until('one service task RUNNING and one waiting', async () => {
      const tasks = await serviceTasks();
      const states = tasks.map((t) => (t.containerInstanceArn ? t.lastStatus : `waiting:${t.lastStatus}`)).sort();
      return states.join() === 'RUNNING,waiting:PROVISIONING' ? tasks : undefined;
    }, 120_000, agentLogs);
    expect(split.every((t) => t.capacityProviderName === 'lab')).toBe(true);
    r = await aws('autoscaling', 'set-desired-capacity', '--auto-scaling-group-name', 'cp-lab', '--desired-capacity', '2');
    expect(r.code, r.stderr).toBe(0);
    const both = await until('both service tasks RUNNING, on two hosts', async () => {
      const tasks = await serviceTasks();
      return tasks.length === 2 && tasks.every((t) => t.lastStatus === 'RUNNING') ? tasks : undefined;
    }, 180_000, agentLogs);
    expect(new Set(both.map((t) => t.containerInstanceArn)).size).toBe(2);
    r = await aws('ecs', 'delete-service', '--cluster', cluster, '--service', 'web', '--force');
    expect(r.code, r.stderr).toBe(0);
    await until('the service INACTIVE', async () => ((await aws('ecs', 'describe-services', '--cluster', cluster, '--services', 'web')).json.services?.[0]?.status === 'INACTIVE' ? true : undefined), 120_000, agentLogs);

    // Clean up through the APIs: the providers off the cluster, then the provider, then the group.
    r = await aws('ecs', 'put-cluster-capacity-providers', '--cli-input-json', noProviders());
    expect(r.code, r.stderr).toBe(0);
    r = await aws('ecs', 'delete-capacity-provider', '--capacity-provider', 'lab');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.capacityProvider).toMatchObject({ status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE' });
    r = await aws('autoscaling', 'delete-auto-scaling-group', '--auto-scaling-group-name', 'cp-lab', '--force-delete');
    expect(r.code, r.stderr).toBe(0);
    await until('the group gone', async () => ((await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'cp-lab')).json.AutoScalingGroups.length === 0 ? true : undefined));
  }, 360_000);
});
