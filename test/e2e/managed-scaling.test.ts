import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateCapacityProviderCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeContainerInstancesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListContainerInstancesCommand,
  PutClusterCapacityProvidersCommand,
  RegisterTaskDefinitionCommand,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage } from '../../src/testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../../src/testing/docker-registry.js';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { untilAgentIdle } from './support/cluster.js';
import { removeNetnsHosts, until } from './support/netns-hosts.js';

const isRoot = process.getuid?.() === 0;

/**
 * Capacity providers' managed scaling over a host group of real netns hosts (the netns provisioner: a namespace, a
 * veth and a real `berth agent` each), through the built server, the SDK and the AWS CLI: tasks run with the
 * provider's strategy over an empty group wait in PROVISIONING while the group scales out, then run; instances with
 * tasks are protected and survive a user's scale-in; a terminated instance waits DRAINING until its task is gone;
 * with no task left the group scales in to nothing; CapacityProviderReservation is read back with GetMetricData.
 * Then a service with the provider's strategy: the same scale-out, and managed draining replacing a terminated host's
 * service task elsewhere before the host goes; the service at 0 scales the group in.
 */
describe.runIf(isRoot && hasAwsCli)('managed scaling of a capacity provider over netns hosts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-managed-scaling-'));
  const third = randomBytes(1)[0]!;
  const second = 250 + (randomBytes(1)[0]! % 5);
  const prefix = `10.${second}.${third}`;
  const bridge = `bh-${second}-${third}`;
  const cluster = `ms-${randomBytes(3).toString('hex')}`;
  let server: BerthServerProcess;
  let registry: LoopbackRegistry;
  let ecs: ECSClient;
  let cloudwatch: CloudWatchClient;
  let image: string;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const hostsDir = () => join(server.dataDir, 'hosts');

  beforeAll(async () => {
    // The hosts' bridge made first, so the registry can listen on its gateway: the hosts pull from there.
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    execFileSync('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
    execFileSync('ip', ['link', 'set', bridge, 'up']);
    registry = await startDockerRegistry({ address: `${prefix}.1` });
    image = `${registry.host}/busybox:latest`;
    await pushImage(await buildBusyboxImage(join(dir, 'layout')), image);
    // 0.0.0.0: the hosts reach the server at their bridge's gateway address. Passes every 2 s, scale-in after 10 s low.
    const timing = ['--managed-scaling-interval', '2s', '--managed-scale-in-after', '10s', '--managed-draining-timeout', '3m'];
    server = await startBerthServer(join(dir, 'server'), ['--listen', '0.0.0.0:0', '--host-provisioner', 'netns', '--host-netns-subnet', `${prefix}.0/24`, ...timing]);
    const config = { endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 };
    ecs = new ECSClient(config);
    cloudwatch = new CloudWatchClient(config);
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  }, 120_000);

  afterAll(async () => {
    // Whatever a failed run left: its tasks stopped and cleaned up by their agents (no container or mount left), then
    // the agents, namespaces and the bridge.
    if (server) {
      const left = (await ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING' })).catch(() => ({ taskArns: [] }))).taskArns ?? [];
      for (const task of left) await ecs.send(new StopTaskCommand({ cluster, task })).catch(() => undefined);
      if (left.length > 0) await until('the tasks left stopped', async () => ((await tasks(left)).every((t) => t.lastStatus === 'STOPPED') ? true : undefined), 60_000).catch(() => undefined);
      for (const id of existsSync(hostsDir()) ? readdirSync(hostsDir()) : []) await untilAgentIdle(join(hostsDir(), id, 'data'));
    }
    await server?.kill();
    await registry?.stop();
    ecs?.destroy();
    cloudwatch?.destroy();
    removeNetnsHosts(server ? hostsDir() : join(dir, 'none'), bridge);
    rmSync(dir, { recursive: true, force: true });
  });

  const group = async () => (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', 'hosts')).json?.AutoScalingGroups?.[0];
  const activities = async () => (await aws('autoscaling', 'describe-scaling-activities', '--auto-scaling-group-name', 'hosts')).json?.Activities ?? [];
  const tasks = async (arns: readonly string[]): Promise<Task[]> => (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [...arns] }))).tasks ?? [];
  /** EC2 instance id → its container instance (ACTIVE or DRAINING). */
  const containerInstances = async () => {
    const arns = (await ecs.send(new ListContainerInstancesCommand({ cluster }))).containerInstanceArns ?? [];
    const all = arns.length ? ((await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: arns }))).containerInstances ?? []) : [];
    return new Map(all.map((c) => [c.ec2InstanceId!, c]));
  };
  const reservations = async () => {
    const end = new Date(Date.now() + 60_000);
    const out = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(Date.now() - 3_600_000),
        EndTime: end,
        MetricDataQueries: [
          {
            Id: 'cpr',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/ECS/ManagedScaling',
                MetricName: 'CapacityProviderReservation',
                Dimensions: [
                  { Name: 'ClusterName', Value: cluster },
                  { Name: 'CapacityProviderName', Value: 'lab-cp' },
                ],
              },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
    return out.MetricDataResults?.[0]?.Values ?? [];
  };

  it('scales out for tasks waiting in PROVISIONING, protects instances with tasks, drains before terminating, scales in to zero, and publishes CapacityProviderReservation', async () => {
    const userData = [
      '#!/bin/bash',
      `echo ECS_CLUSTER=${cluster} >> /etc/ecs/ecs.config`,
      'echo ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION=1s >> /etc/ecs/ecs.config',
      'echo ECS_CONTAINER_STOP_TIMEOUT=1s >> /etc/ecs/ecs.config',
      // The hosts pull from the lab registry on their gateway, in plain HTTP.
      `echo BERTH_INSECURE_REGISTRIES=${registry.host} >> /etc/ecs/ecs.config`,
      '',
    ].join('\n');
    let r = await aws('autoscaling', 'create-launch-configuration', '--launch-configuration-name', 'lab-hosts', '--image-id', 'netns', '--instance-type', 'berth.small', '--user-data', userData);
    expect(r.code, r.stderr).toBe(0);
    r = await aws(
      'autoscaling',
      'create-auto-scaling-group',
      '--auto-scaling-group-name',
      'hosts',
      '--launch-configuration-name',
      'lab-hosts',
      '--min-size',
      '0',
      '--max-size',
      '4',
      '--desired-capacity',
      '0',
      '--availability-zones',
      'us-east-1a',
      '--new-instances-protected-from-scale-in',
    );
    expect(r.code, r.stderr).toBe(0);
    const groupArn: string = (await group()).AutoScalingGroupARN;
    await ecs.send(
      new CreateCapacityProviderCommand({
        name: 'lab-cp',
        autoScalingGroupProvider: {
          autoScalingGroupArn: groupArn,
          managedScaling: { status: 'ENABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 4, instanceWarmupPeriod: 5 },
          managedTerminationProtection: 'ENABLED',
          managedDraining: 'ENABLED',
        },
      }),
    );
    await ecs.send(new PutClusterCapacityProvidersCommand({ cluster, capacityProviders: ['lab-cp'], defaultCapacityProviderStrategy: [] }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'sleeper',
        networkMode: 'none',
        containerDefinitions: [{ name: 'main', image, essential: true, cpu: 512, memory: 512, command: ['sleep', '3600'] }],
      }),
    );

    // Three tasks of 512 CPU units over an empty group of 1024-unit hosts: they wait, the group goes to 2.
    const asked = Date.now();
    const run = await ecs.send(new RunTaskCommand({ cluster, taskDefinition: 'sleeper', count: 3, capacityProviderStrategy: [{ capacityProvider: 'lab-cp', weight: 1 }] }));
    expect(run.failures).toEqual([]);
    expect(run.tasks!.map((t) => [t.lastStatus, t.capacityProviderName, t.containerInstanceArn])).toEqual(Array(3).fill(['PROVISIONING', 'lab-cp', undefined]));
    const arns = run.tasks!.map((t) => t.taskArn!);
    const scaledOut = await until('the group scaled out', async () => ((await group()).DesiredCapacity === 2 ? Date.now() : undefined), 60_000);
    expect(scaledOut - asked).toBeLessThan(60_000);
    expect((await tasks(arns)).every((t) => t.lastStatus === 'PROVISIONING')).toBe(true);
    const acts = await activities();
    expect(acts.some((a: { Cause: string }) => /ECS managed scaling of capacity provider lab-cp \(CapacityProviderReservation 200, target 100\) changed the desired capacity from 0 to 2\./.test(a.Cause))).toBe(true);

    const running = await until('the three tasks running on the new hosts', async () => {
      const ts = await tasks(arns);
      return ts.every((t) => t.lastStatus === 'RUNNING') ? ts : undefined;
    }, 180_000);
    expect(new Set(running.map((t) => t.containerInstanceArn)).size).toBe(2);

    // Managed termination protection: both hosts run tasks, so both are protected; a user's scale-in to 0 spares them,
    // and managed scaling puts the desired capacity back where the tasks need it.
    await until('both hosts protected', async () => {
      const g = await group();
      return g.Instances.length === 2 && g.Instances.every((i: { ProtectedFromScaleIn: boolean; LifecycleState: string }) => i.ProtectedFromScaleIn && i.LifecycleState === 'InService') ? true : undefined;
    }, 30_000);
    r = await aws('autoscaling', 'set-desired-capacity', '--auto-scaling-group-name', 'hosts', '--desired-capacity', '0');
    expect(r.code, r.stderr).toBe(0);
    for (let pass = 0; pass < 10; pass++) {
      const g = await group();
      expect(g.Instances.map((i: { LifecycleState: string }) => i.LifecycleState)).toEqual(['InService', 'InService']);
      await new Promise((res) => setTimeout(res, 1000));
    }
    await until('desired capacity back to 2', async () => ((await group()).DesiredCapacity === 2 ? true : undefined), 30_000);
    const causes: string[] = (await activities()).map((a: { Cause: string }) => a.Cause);
    expect(causes.some((c) => /a user request set the desired capacity changing the desired capacity from 2 to 0\./.test(c))).toBe(true);
    expect(causes.filter((c) => /ECS managed scaling of capacity provider lab-cp \(CapacityProviderReservation 100, target 100\) changed the desired capacity from 0 to 2\./.test(c))).toHaveLength(1);

    // Managed draining: the host with one task is terminated (with replacement). It waits in Terminating:Wait with its
    // container instance DRAINING for as long as the task runs; once the task is gone, the host goes.
    const perHost = new Map<string, number>();
    for (const t of running) perHost.set(t.containerInstanceArn!, (perHost.get(t.containerInstanceArn!) ?? 0) + 1);
    const lonely = [...perHost].find(([, n]) => n === 1)![0];
    const victim = [...(await containerInstances())].find(([, c]) => c.containerInstanceArn === lonely)![0];
    const victimTask = running.find((t) => t.containerInstanceArn === lonely)!.taskArn!;
    r = await aws('autoscaling', 'terminate-instance-in-auto-scaling-group', '--instance-id', victim, '--no-should-decrement-desired-capacity');
    expect(r.code, r.stderr).toBe(0);
    const state = async () => (await group()).Instances.find((x: { InstanceId: string }) => x.InstanceId === victim)?.LifecycleState;
    await until('the victim waiting on the draining hook', async () => ((await state()) === 'Terminating:Wait' ? true : undefined), 20_000);
    await until('its container instance DRAINING', async () => ((await containerInstances()).get(victim)?.status === 'DRAINING' ? true : undefined), 20_000);
    for (let pass = 0; pass < 6; pass++) {
      expect(await state()).toBe('Terminating:Wait');
      expect((await tasks([victimTask]))[0]!.lastStatus).toBe('RUNNING');
      await new Promise((res) => setTimeout(res, 1000));
    }
    await ecs.send(new StopTaskCommand({ cluster, task: victimTask }));
    await until('the drained host gone', async () => ((await state()) === undefined ? true : undefined), 120_000);
    const stopped = (await tasks([victimTask]))[0]!;
    expect(stopped.lastStatus).toBe('STOPPED');
    const termination = (await activities()).find((a: { Description: string }) => a.Description === `Terminating EC2 instance: ${victim}`);
    expect(termination.StatusCode).toBe('Successful');
    expect(stopped.stoppedAt!.getTime()).toBeLessThanOrEqual(new Date(termination.EndTime).getTime());
    expect(new Date(termination.EndTime).getTime() - new Date(termination.StartTime).getTime()).toBeGreaterThanOrEqual(6_000);

    // Every task stopped: the hosts empty, lose their protection, and the group scales in to nothing.
    for (const t of arns) await ecs.send(new StopTaskCommand({ cluster, task: t }));
    await until('every host terminated', async () => {
      const g = await group();
      return g.DesiredCapacity === 0 && g.Instances.length === 0 ? true : undefined;
    }, 240_000);
    expect((await activities()).some((a: { Cause: string }) => /taken out of service in response to ECS managed scaling of capacity provider lab-cp/.test(a.Cause))).toBe(true);
    expect(readdirSync(hostsDir())).toEqual([]);

    // CapacityProviderReservation through GetMetricData: 200 while tasks waited with no host.
    const values = await reservations();
    expect(values.length).toBeGreaterThan(0);
    expect(values).toContain(200);
  }, 900_000);

  it('a service over the empty group: its tasks wait and run; managed draining moves a terminated host’s task elsewhere first; at 0 the group scales in', async () => {
    const serviceTasks = async () => {
      const arns = (await ecs.send(new ListTasksCommand({ cluster, serviceName: 'web', desiredStatus: 'RUNNING' }))).taskArns ?? [];
      return arns.length ? tasks(arns) : [];
    };
    expect((await group()).Instances).toEqual([]);
    await ecs.send(
      new CreateServiceCommand({
        cluster,
        serviceName: 'web',
        taskDefinition: 'sleeper',
        desiredCount: 3,
        capacityProviderStrategy: [{ capacityProvider: 'lab-cp', weight: 1 }],
        deploymentConfiguration: { minimumHealthyPercent: 100, maximumPercent: 200 },
      }),
    );
    const waiting = await until('the service tasks waiting in PROVISIONING', async () => {
      const ts = await serviceTasks();
      return ts.length === 3 && ts.every((t) => t.lastStatus === 'PROVISIONING' && t.containerInstanceArn === undefined) ? ts : undefined;
    }, 30_000);
    expect(waiting.every((t) => t.capacityProviderName === 'lab-cp')).toBe(true);
    await until('the group scaled out to 2', async () => ((await group()).DesiredCapacity === 2 ? true : undefined), 60_000);
    const running = await until('the service running on two new hosts', async () => {
      const ts = await serviceTasks();
      return ts.length === 3 && ts.every((t) => t.lastStatus === 'RUNNING') ? ts : undefined;
    }, 180_000);
    expect(new Set(running.map((t) => t.containerInstanceArn)).size).toBe(2);

    // Terminate the host with one task (replaced): it drains, the service starts that task elsewhere (on the
    // replacement host, once up) and stops it there; only then is the host terminated.
    const perHost = new Map<string, number>();
    for (const t of running) perHost.set(t.containerInstanceArn!, (perHost.get(t.containerInstanceArn!) ?? 0) + 1);
    const lonely = [...perHost].find(([, n]) => n === 1)![0];
    const victim = [...(await containerInstances())].find(([, c]) => c.containerInstanceArn === lonely)![0];
    const victimTask = running.find((t) => t.containerInstanceArn === lonely)!.taskArn!;
    const r = await aws('autoscaling', 'terminate-instance-in-auto-scaling-group', '--instance-id', victim, '--no-should-decrement-desired-capacity');
    expect(r.code, r.stderr).toBe(0);
    const state = async () => (await group()).Instances.find((x: { InstanceId: string }) => x.InstanceId === victim)?.LifecycleState;
    await until('its container instance DRAINING', async () => ((await containerInstances()).get(victim)?.status === 'DRAINING' ? true : undefined), 20_000);
    let replacedWhileThere = false;
    const moved = await until('the task moved off and the host gone', async () => {
      const there = await state();
      const ts = await serviceTasks();
      const settled = ts.length === 3 && ts.every((t) => t.lastStatus === 'RUNNING' && t.containerInstanceArn !== lonely);
      if (there !== undefined) {
        expect(there).toBe('Terminating:Wait');
        replacedWhileThere ||= settled;
        return undefined;
      }
      return settled ? ts : undefined;
    }, 300_000);
    expect(replacedWhileThere).toBe(true);
    expect(moved.some((t) => t.taskArn === victimTask)).toBe(false);
    const stopped = (await tasks([victimTask]))[0]!;
    expect(stopped.lastStatus).toBe('STOPPED');
    const termination = (await activities()).find((a: { Description: string }) => a.Description === `Terminating EC2 instance: ${victim}`);
    expect(termination.StatusCode).toBe('Successful');
    expect(stopped.stoppedAt!.getTime()).toBeLessThanOrEqual(new Date(termination.EndTime).getTime());

    // The service at 0: the hosts empty and the group scales in to nothing.
    await ecs.send(new UpdateServiceCommand({ cluster, service: 'web', desiredCount: 0 }));
    await until('every host terminated', async () => {
      const g = await group();
      return g.DesiredCapacity === 0 && g.Instances.length === 0 ? true : undefined;
    }, 240_000);
    expect(readdirSync(hostsDir())).toEqual([]);
  }, 900_000);
});
