import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRecord } from '../state/records/instances.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { parseHostGroup } from '../state/records/host-groups.js';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { startGroupController, type GroupController } from './group-controller.js';
import { hostGroupsService } from './host-groups-service.js';
import { commandProvisioner } from './provisioners/command.js';
import { provisionerSet } from './provisioners/provisioner.js';
import { checkedCalls } from './testing/checked-calls.js';

/**
 * The group controller with the real `command` provisioner: a shell script that records its calls and, for
 * `create`, starts nothing — so the hosts never register unless the test says a container instance appeared.
 * Passes are driven by hand with a clock the test moves.
 */

const dirs: string[] = [];
const controllers: GroupController[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function labScript(dir: string, { failCreate = false } = {}): string {
  const path = join(dir, 'provision.sh');
  writeFileSync(
    path,
    [
      '#!/bin/sh',
      'set -e',
      `echo "$1 $2 zone=$BERTH_AVAILABILITY_ZONE cpu=$BERTH_CPU_UNITS mem=$BERTH_MEMORY_MIB cluster=$BERTH_CLUSTER" >> "${dir}/calls"`,
      `if [ "$1" = create ]; then cat > "${dir}/$2.ecs.config"; fi`,
      failCreate ? 'if [ "$1" = create ]; then echo "no capacity left in rack 7" >&2; exit 3; fi' : '',
      'exit 0',
    ].join('\n'),
  );
  chmodSync(path, 0o755);
  return path;
}

function harness(opts: { failCreate?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'berth-hostgroups-'));
  dirs.push(dir);
  const store = new MemoryStore();
  let now = 1_700_000_000_000;
  const service = hostGroupsService({ store, scope: { region: 'eu-west-1', accountId: '123456789012' }, now: () => now });
  const call = checkedCalls(service);
  const registered: InstanceRecord[] = [];
  const controller = startGroupController({
    store,
    log: pino({ level: 'silent' }),
    provisioners: provisionerSet(undefined, new Map([['lab', commandProvisioner({ path: labScript(dir, opts) })]])),
    containerInstances: () => registered,
    now: () => now,
    registrationTimeoutMs: 60_000,
    intervalMs: 3_600_000,
    backendHost: 'http://10.0.0.1:7400',
  });
  controllers.push(controller);
  const pass = async () => {
    await controller.runOnce();
    await controller.idle();
  };
  const calls = () => (existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : []);
  const group = async () => (await call('DescribeAutoScalingGroups', { AutoScalingGroupNames: ['web'] })).AutoScalingGroups[0];
  const register = (ec2InstanceId: string) =>
    registered.push({ cluster: 'web', id: ec2InstanceId, ec2InstanceId, instance: { containerInstanceArn: `arn:${ec2InstanceId}`, status: 'ACTIVE', agentConnected: true }, reserved: {} } as never);
  return { dir, store, call, pass, calls, group, register, advance: (ms: number) => (now += ms) };
}

async function webGroup(h: ReturnType<typeof harness>, desired = 2) {
  await h.call('CreateLaunchConfiguration', {
    LaunchConfigurationName: 'hosts',
    ImageId: 'command:lab',
    InstanceType: 'berth.medium',
    UserData: Buffer.from('#!/bin/bash\necho ECS_CLUSTER=web >> /etc/ecs/ecs.config\necho \'ECS_INSTANCE_ATTRIBUTES={"rack":"7"}\' >> /etc/ecs/ecs.config\n').toString('base64'),
  });
  await h.call('CreateAutoScalingGroup', {
    AutoScalingGroupName: 'web',
    LaunchConfigurationName: 'hosts',
    MinSize: 0,
    MaxSize: 4,
    DesiredCapacity: desired,
    AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
    Tags: [
      { Key: 'team', Value: 'blue', PropagateAtLaunch: true },
      { Key: 'cost', Value: 'x', PropagateAtLaunch: false },
    ],
  });
}

describe('the host group controller with the command provisioner', () => {
  it('holds an InService host of a group with a termination hook in Terminating:Wait (launching its replacement), until the hook lets it go or a forced delete', async () => {
    const h = harness();
    await webGroup(h, 2);
    await h.pass();
    const ids: string[] = (await h.group()).Instances.map((i: { InstanceId: string }) => i.InstanceId);
    for (const id of ids) h.register(id);
    await h.pass();
    await transact(h.store, async (tx) => {
      const g = (await tx.getRecord(parseHostGroup, hostGroupKeys.group('web')))!;
      tx.putJson(hostGroupKeys.group('web'), { ...g, terminationHook: { name: 'ecs-managed-draining-termination-hook', heartbeatTimeoutS: 60 } });
    });
    await h.call('TerminateInstanceInAutoScalingGroup', { InstanceId: ids[0], ShouldDecrementDesiredCapacity: false });
    await h.pass();
    let instances = (await h.group()).Instances;
    expect(instances.find((i: { InstanceId: string }) => i.InstanceId === ids[0]).LifecycleState).toBe('Terminating:Wait');
    // Not live: its replacement is launched; not terminated: no provisioner call for it.
    expect(instances.filter((i: { LifecycleState: string }) => i.LifecycleState === 'Pending')).toHaveLength(1);
    expect(h.calls().filter((c) => c.startsWith('terminate'))).toEqual([]);
    await expect(h.call('TerminateInstanceInAutoScalingGroup', { InstanceId: ids[0], ShouldDecrementDesiredCapacity: false })).rejects.toThrow(/already being terminated/);
    await h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web', ForceDelete: true });
    instances = (await h.group()).Instances;
    expect(instances.every((i: { LifecycleState: string }) => i.LifecycleState === 'Terminating')).toBe(true);
    await h.pass();
    expect(h.calls().filter((c) => c.startsWith('terminate')).map((c) => c.split(' ')[1]).sort()).toEqual([...ids, instances.find((i: { InstanceId: string }) => !ids.includes(i.InstanceId)).InstanceId].sort());
  });

  it('launches the desired hosts across zones with their ecs.config, and puts them in service when their agents register', async () => {
    const h = harness();
    await webGroup(h);
    await h.pass();
    const g = await h.group();
    expect(g.Instances.map((i: { AvailabilityZone: string }) => i.AvailabilityZone).sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
    expect(g.Instances.every((i: { LifecycleState: string; InstanceId: string }) => i.LifecycleState === 'Pending' && /^i-[0-9a-f]{17}$/.test(i.InstanceId))).toBe(true);
    const ids: string[] = g.Instances.map((i: { InstanceId: string }) => i.InstanceId);
    expect(h.calls().sort()).toEqual(
      ids.map((id, n) => `create ${id} zone=${g.Instances[n].AvailabilityZone} cpu=2048 mem=4096 cluster=web`).sort(),
    );
    const config = readFileSync(join(h.dir, `${ids[0]}.ecs.config`), 'utf8');
    expect(config).toContain('ECS_CLUSTER=web\n');
    expect(config).toContain('ECS_INSTANCE_ATTRIBUTES={"team":"blue","rack":"7"}\n');
    expect(config).toContain(`BERTH_EC2_INSTANCE_ID=${ids[0]}\n`);
    expect(config).toContain('ECS_BACKEND_HOST=http://10.0.0.1:7400\n');
    expect(config).toContain('BERTH_CPU_UNITS=2048\nBERTH_MEMORY_MIB=4096\n');
    // A second pass asks for nothing more: the hosts are recorded and provisioned.
    await h.pass();
    expect(h.calls()).toHaveLength(2);
    for (const id of ids) h.register(id);
    await h.pass();
    expect((await h.group()).Instances.map((i: { LifecycleState: string }) => i.LifecycleState)).toEqual(['InService', 'InService']);
    const described = (await h.call('DescribeAutoScalingInstances', { InstanceIds: [ids[1]] })).AutoScalingInstances;
    expect(described).toEqual([expect.objectContaining({ InstanceId: ids[1], AutoScalingGroupName: 'web', LifecycleState: 'InService', InstanceType: 'berth.medium' })]);
    expect((await h.call('DescribeAutoScalingInstances', {})).AutoScalingInstances).toHaveLength(2);
    const launches = (await h.call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities.filter((a: { Description: string }) => a.Description.startsWith('Launching'));
    expect(launches.map((a: { StatusCode: string }) => a.StatusCode)).toEqual(['Successful', 'Successful']);
  });

  it('terminates and replaces a host that never registers, with an activity saying why', async () => {
    const h = harness();
    await webGroup(h, 1);
    await h.pass();
    const [first] = (await h.group()).Instances;
    h.advance(59_000);
    await h.pass();
    expect((await h.group()).Instances).toHaveLength(1);
    h.advance(2_000);
    await h.pass();
    const after = (await h.group()).Instances;
    expect(after).toHaveLength(1);
    expect(after[0].InstanceId).not.toBe(first.InstanceId);
    // The replacement is launched in the pass that takes the silent host out: the two calls run side by side.
    const calls = h.calls().map((c) => c.split(' ').slice(0, 2).join(' '));
    expect(calls[0]).toBe(`create ${first.InstanceId}`);
    expect(calls.slice(1).sort()).toEqual([`create ${after[0].InstanceId}`, `terminate ${first.InstanceId}`].sort());
    const activities = (await h.call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities;
    const launch = activities.find((a: { Description: string }) => a.Description === `Launching a new EC2 instance: ${first.InstanceId}`);
    expect(launch).toMatchObject({ StatusCode: 'Failed', StatusMessage: `Instance ${first.InstanceId} did not register with cluster web within 60 seconds of its launch` });
    const termination = activities.find((a: { Description: string }) => a.Description === `Terminating EC2 instance: ${first.InstanceId}`);
    expect(termination).toMatchObject({ StatusCode: 'Successful', Cause: expect.stringContaining('in response to a failed registration') });
  });

  it('a create that fails is recorded with the command\'s error, terminated and retried', async () => {
    const h = harness({ failCreate: true });
    await webGroup(h, 1);
    await h.pass();
    await h.pass();
    const failed = (await h.call('DescribeScalingActivities', { AutoScalingGroupName: 'web' })).Activities.find((a: { StatusCode: string }) => a.StatusCode === 'Failed');
    expect(failed.StatusMessage).toMatch(/exited 3: no capacity left in rack 7$/);
    expect(h.calls().map((c) => c.split(' ')[0]).sort()).toEqual(['create', 'create', 'terminate']);
    expect(h.calls()[0]).toMatch(/^create /);
  });

  it('scales in unprotected hosts only, and a forced delete terminates every host and removes the group', async () => {
    const h = harness();
    await webGroup(h, 3);
    await h.pass();
    const ids: string[] = (await h.group()).Instances.map((i: { InstanceId: string }) => i.InstanceId);
    for (const id of ids) h.register(id);
    await h.pass();
    await h.call('SetInstanceProtection', { AutoScalingGroupName: 'web', InstanceIds: [ids[0], ids[1]], ProtectedFromScaleIn: true });
    await h.call('SetDesiredCapacity', { AutoScalingGroupName: 'web', DesiredCapacity: 1 });
    await h.pass();
    // Only one host was unprotected: it goes; the two protected stay although desired is 1.
    expect((await h.group()).Instances.map((i: { InstanceId: string }) => i.InstanceId).sort()).toEqual([ids[0], ids[1]].sort());
    expect(h.calls().filter((c) => c.startsWith('terminate'))).toEqual([expect.stringContaining(`terminate ${ids[2]}`)]);
    const err = await h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web' }).catch((e: Error) => e);
    expect(err).toMatchObject({ type: 'ResourceInUse' });
    await h.call('DeleteAutoScalingGroup', { AutoScalingGroupName: 'web', ForceDelete: true });
    expect((await h.group()).Status).toBe('Delete in progress');
    await h.pass();
    expect(await h.group()).toBeUndefined();
    expect(h.calls().filter((c) => c.startsWith('terminate'))).toHaveLength(3);
    await h.call('DeleteLaunchConfiguration', { LaunchConfigurationName: 'hosts' });
  });

  it('TerminateInstanceInAutoScalingGroup replaces the host or shrinks the group', async () => {
    const h = harness();
    await webGroup(h, 2);
    await h.pass();
    const [a, b] = (await h.group()).Instances.map((i: { InstanceId: string }) => i.InstanceId);
    const { Activity } = await h.call('TerminateInstanceInAutoScalingGroup', { InstanceId: a, ShouldDecrementDesiredCapacity: false });
    expect(Activity).toMatchObject({ Description: `Terminating EC2 instance: ${a}`, StatusCode: 'InProgress' });
    await h.pass();
    await h.pass();
    expect((await h.group()).Instances).toHaveLength(2);
    await h.call('TerminateInstanceInAutoScalingGroup', { InstanceId: b, ShouldDecrementDesiredCapacity: true });
    await h.pass();
    await h.pass();
    expect(await h.group()).toMatchObject({ DesiredCapacity: 1, Instances: [expect.not.objectContaining({ InstanceId: b })] });
    const missing = await h.call('TerminateInstanceInAutoScalingGroup', { InstanceId: 'i-00000000000000000', ShouldDecrementDesiredCapacity: true }).catch((e: Error) => e);
    expect(missing).toMatchObject({ type: 'ValidationError', message: expect.stringMatching(/^InstanceId: /) });
  });
});

describe('a leader change', () => {
  it('re-asks for a recorded host whose create outcome was never recorded, and launches no other', async () => {
    const store = new MemoryStore();
    const service = hostGroupsService({ store, scope: { region: 'eu-west-1', accountId: '123456789012' }, now: Date.now });
    const call = checkedCalls(service);
    await call('CreateLaunchConfiguration', { LaunchConfigurationName: 'hosts', ImageId: 'command:lab', InstanceType: 'berth.micro' });
    await call('CreateAutoScalingGroup', { AutoScalingGroupName: 'web', LaunchConfigurationName: 'hosts', MinSize: 1, MaxSize: 1, AvailabilityZones: ['eu-west-1a'] });
    const asked: string[][] = [[], []];
    const controllerOf = (n: number, create: () => Promise<void>) =>
      startGroupController({
        store,
        log: pino({ level: 'silent' }),
        provisioners: provisionerSet(undefined, new Map([['lab', { create: async (h) => (asked[n]!.push(h.instanceId), create()), terminate: async () => {} }]])),
        containerInstances: () => [],
        intervalMs: 3_600_000,
      });
    // The first leader records the host and asks for it; its create never returns (the leader is gone).
    const deposed = controllerOf(0, () => new Promise<void>(() => {}));
    await deposed.runOnce();
    await expect.poll(() => asked[0]!.length).toBe(1);
    const successor = controllerOf(1, async () => {});
    controllers.push(successor);
    await successor.runOnce();
    await successor.idle();
    expect(asked[1]).toEqual(asked[0]);
    const [group] = (await call('DescribeAutoScalingGroups', {})).AutoScalingGroups;
    expect(group.Instances).toEqual([expect.objectContaining({ InstanceId: asked[0]![0], LifecycleState: 'Pending' })]);
    await successor.runOnce();
    await successor.idle();
    expect(asked[1]).toHaveLength(1);
  });
});
