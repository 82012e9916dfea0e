import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateClusterCommand, DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { alive, removeNetnsHosts, until } from './support/netns-hosts.js';

const isRoot = process.getuid?.() === 0;

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
/**
 * Host groups through the built server and the AWS CLI: the netns provisioner brings up real simulated hosts
 * (namespace, veth, their own `berth agent`) that register in the cluster with the launch configuration's size,
 * the group's zones and tags; scale-in spares protected hosts; a forced delete leaves nothing behind. The command
 * provisioner runs a script that records its calls and starts nothing: the host never registers and is replaced.
 */
describe.runIf(isRoot && hasAwsCli)('host groups (EC2 Auto Scaling) with the netns and command provisioners', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-hostgroups-'));
  const third = randomBytes(1)[0]!;
  const second = 250 + (randomBytes(1)[0]! % 5);
  const subnet = `10.${second}.${third}.0/24`;
  const bridge = `bh-${second}-${third}`;
  const cluster = `hg-${randomBytes(3).toString('hex')}`;
  let server: BerthServerProcess;
  let ecs: ECSClient;
  const aws = (...args: string[]) => awsCli(server.url, server.credentialsFile, args);
  const hostsDir = () => join(server.dataDir, 'hosts');

  beforeAll(async () => {
    const script = join(dir, 'provision.sh');
    writeFileSync(script, `#!/bin/sh\necho "$1 $2" >> "${dir}/calls"\nexit 0\n`);
    chmodSync(script, 0o755);
    // 0.0.0.0: the hosts reach the server at their bridge's gateway address.
    server = await startBerthServer(join(dir, 'server'), [
      '--listen',
      '0.0.0.0:0',
      '--host-provisioner',
      'netns',
      '--host-netns-subnet',
      subnet,
      '--host-provisioner',
      `lab=${script}`,
      '--host-registration-timeout',
      '4s',
    ]);
    ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: { ...server.keys }, maxAttempts: 3 });
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  }, 60_000);

  afterAll(async () => {
    // Whatever a failed run left: agents, namespaces, the bridge.
    await server?.kill();
    removeNetnsHosts(server ? hostsDir() : join(dir, 'none'), bridge);
    rmSync(dir, { recursive: true, force: true });
  });

  const group = async (name: string) => (await aws('autoscaling', 'describe-auto-scaling-groups', '--auto-scaling-group-names', name)).json?.AutoScalingGroups?.[0];

  it('brings up netns hosts that register with the configured size, zones and tags; scales in around protection; a forced delete cleans up', async () => {
    const userData = `#!/bin/bash\necho ECS_CLUSTER=${cluster} >> /etc/ecs/ecs.config\n`;
    let r = await aws('autoscaling', 'create-launch-configuration', '--launch-configuration-name', 'lab-hosts', '--image-id', 'netns', '--instance-type', 'berth.small', '--user-data', userData);
    expect(r.code, r.stderr).toBe(0);
    r = await aws('autoscaling', 'create-launch-configuration', '--launch-configuration-name', 'bad', '--image-id', 'netns', '--instance-type', 'm5.large');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ValidationError.*InstanceType: 'm5.large' is not a berth size/);
    r = await aws(
      'autoscaling',
      'create-auto-scaling-group',
      '--auto-scaling-group-name',
      'lab',
      '--launch-configuration-name',
      'lab-hosts',
      '--min-size',
      '0',
      '--max-size',
      '3',
      '--desired-capacity',
      '2',
      '--availability-zones',
      'us-east-1a',
      'us-east-1b',
      '--tags',
      'Key=team,Value=blue,PropagateAtLaunch=true',
    );
    expect(r.code, r.stderr).toBe(0);

    // Both hosts' agents register in the cluster, each as the instance id the group knows it by.
    const registered = await until('two registered hosts', async () => {
      const { containerInstanceArns = [] } = await ecs.send(new ListContainerInstancesCommand({ cluster }));
      if (containerInstanceArns.length < 2) return undefined;
      return (await ecs.send(new DescribeContainerInstancesCommand({ cluster, containerInstances: containerInstanceArns }))).containerInstances!;
    });
    const inService = await until('both instances InService', async () => {
      const g = await group('lab');
      return g?.Instances?.length === 2 && g.Instances.every((i: { LifecycleState: string }) => i.LifecycleState === 'InService') ? g.Instances : undefined;
    });
    expect(registered.map((ci) => ci.ec2InstanceId).sort()).toEqual(inService.map((i: { InstanceId: string }) => i.InstanceId).sort());
    for (const ci of registered) {
      expect(ci.registeredResources!.find((x) => x.name === 'CPU')!.integerValue).toBe(1024);
      expect(ci.registeredResources!.find((x) => x.name === 'MEMORY')!.integerValue).toBe(2048);
      expect(ci.attributes).toContainEqual(expect.objectContaining({ name: 'team', value: 'blue' }));
    }
    const zones = registered.map((ci) => ci.attributes!.find((a) => a.name === 'ecs.availability-zone')!.value).sort();
    expect(zones).toEqual(['us-east-1a', 'us-east-1b']);
    expect(inService.map((i: { AvailabilityZone: string }) => i.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b']);
    // The hosts' agents sign as berth's IAM user for them (AmazonEC2ContainerServiceforEC2Role), not as root.
    const hostKeys = JSON.parse(readFileSync(join(server.dataDir, 'netns-host-credentials.json'), 'utf8')) as { accessKeyId: string };
    expect(hostKeys.accessKeyId).not.toBe(server.keys.accessKeyId);
    for (const i of inService as { InstanceId: string }[]) {
      const environ = readFileSync(`/proc/${readFileSync(join(hostsDir(), i.InstanceId, 'agent.pid'), 'utf8')}/environ`, 'utf8').split('\0');
      expect(environ).toContain(`AWS_ACCESS_KEY_ID=${hostKeys.accessKeyId}`);
    }
    const attached = (await aws('iam', 'list-attached-user-policies', '--user-name', 'berth-netns-hosts')).json.AttachedPolicies;
    expect(attached).toEqual([expect.objectContaining({ PolicyName: 'AmazonEC2ContainerServiceforEC2Role' })]);
    const [kept, dropped] = inService.map((i: { InstanceId: string }) => i.InstanceId) as [string, string];
    expect(namespaces()).toContain(`berth-${dropped}`);

    // Scale in to 1: the protected host stays, the other is terminated (its namespace and agent go).
    r = await aws('autoscaling', 'set-instance-protection', '--auto-scaling-group-name', 'lab', '--instance-ids', kept, '--protected-from-scale-in');
    expect(r.code, r.stderr).toBe(0);
    const droppedPid = Number(readFileSync(join(hostsDir(), dropped, 'agent.pid'), 'utf8'));
    r = await aws('autoscaling', 'set-desired-capacity', '--auto-scaling-group-name', 'lab', '--desired-capacity', '1');
    expect(r.code, r.stderr).toBe(0);
    await until('the unprotected host gone', async () => {
      const g = await group('lab');
      return g?.Instances?.length === 1 ? true : undefined;
    });
    expect((await group('lab')).Instances[0].InstanceId).toBe(kept);
    expect(namespaces()).not.toContain(`berth-${dropped}`);
    expect(alive(droppedPid)).toBe(false);
    const activities = (await aws('autoscaling', 'describe-scaling-activities', '--auto-scaling-group-name', 'lab')).json.Activities;
    expect(activities).toContainEqual(expect.objectContaining({ Description: `Terminating EC2 instance: ${dropped}`, StatusCode: 'Successful' }));

    // A plain delete is refused while the group has hosts; a forced one terminates them all, protected or not.
    r = await aws('autoscaling', 'delete-auto-scaling-group', '--auto-scaling-group-name', 'lab');
    expect(r.stderr).toMatch(/ResourceInUse/);
    const keptPid = Number(readFileSync(join(hostsDir(), kept, 'agent.pid'), 'utf8'));
    // Every host this server ever launched has a directory here (the netns provisioner's own): their namespaces are
    // checked by id, not by a pattern, as other files' netns hosts (capacity providers, managed scaling) may exist.
    const launched = new Set([kept, dropped, ...readdirSync(hostsDir())]);
    r = await aws('autoscaling', 'delete-auto-scaling-group', '--auto-scaling-group-name', 'lab', '--force-delete');
    expect(r.code, r.stderr).toBe(0);
    await until('the group gone', async () => ((await group('lab')) === undefined ? true : undefined));
    const left = namespaces().split('\n').map((line) => line.split(' ')[0]);
    expect(left.filter((ns) => [...launched].some((id) => ns === `berth-${id}`))).toEqual([]);
    expect(alive(keptPid)).toBe(false);
    expect(readdirSync(hostsDir())).toEqual([]);
    r = await aws('autoscaling', 'delete-launch-configuration', '--launch-configuration-name', 'lab-hosts');
    expect(r.code, r.stderr).toBe(0);
  }, 240_000);

  it('replaces a command-provisioned host that never registers, with an activity saying why', async () => {
    let r = await aws('autoscaling', 'create-launch-configuration', '--launch-configuration-name', 'scripted', '--image-id', 'command:lab', '--instance-type', 'berth.micro');
    expect(r.code, r.stderr).toBe(0);
    r = await aws('autoscaling', 'create-auto-scaling-group', '--auto-scaling-group-name', 'scripted', '--launch-configuration-name', 'scripted', '--min-size', '1', '--max-size', '1', '--availability-zones', 'us-east-1a');
    expect(r.code, r.stderr).toBe(0);
    const failed = await until('a launch failed for want of registration', async () => {
      const { Activities = [] } = (await aws('autoscaling', 'describe-scaling-activities', '--auto-scaling-group-name', 'scripted')).json ?? {};
      return Activities.find((a: { StatusCode: string }) => a.StatusCode === 'Failed');
    }, 60_000);
    expect(failed.StatusMessage).toMatch(/^Instance i-[0-9a-f]{17} did not register with cluster default within 4 seconds of its launch$/);
    const first = /Launching a new EC2 instance: (i-[0-9a-f]{17})/.exec(failed.Description)![1]!;
    const calls = await until('the silent host terminated and a new one created', async () => {
      const lines = existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];
      return lines.includes(`terminate ${first}`) && lines.filter((l) => l.startsWith('create ')).length >= 2 ? lines : undefined;
    }, 30_000);
    expect(calls[0]).toBe(`create ${first}`);
    const g = await group('scripted');
    expect(g.Instances).toHaveLength(1);
    expect(g.Instances[0].InstanceId).not.toBe(first);
    r = await aws('autoscaling', 'delete-auto-scaling-group', '--auto-scaling-group-name', 'scripted', '--force-delete');
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
});
