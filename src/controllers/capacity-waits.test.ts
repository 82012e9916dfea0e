import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyNeeds } from '../model/container-instance.js';
import type { CapacityProviderRecord } from '../model/capacity-provider.js';
import { capacityProviderKeys } from '../state/capacity-provider-keys.js';
import { CAPACITY_WAIT_MS } from '../state/capacity-waits.js';
import { ClusterCache } from '../state/cluster-cache.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { keys } from '../state/keys.js';
import type { HostGroupRecord } from '../state/records/host-groups.js';
import type { InstanceRecord } from '../state/records/instances.js';
import { parseInstanceRecord } from '../state/records/instances.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import { launchTasksInTx, type LaunchSpec } from '../state/task-launch.js';
import { stopTaskInTx } from '../state/task-stop.js';
import { MemoryStore } from '../store/memory.js';
import { readRecord, transact } from '../store/transact.js';
import { startCapacityWaits } from './capacity-waits.js';

const scope = { region: 'us-east-1', accountId: '123456789012' };
const needs = { ...emptyNeeds, cpu: 512, memory: 1024 };

const provider: CapacityProviderRecord = {
  name: 'web-cp',
  capacityProviderArn: 'arn:aws:ecs:us-east-1:123456789012:capacity-provider/web-cp',
  status: 'ACTIVE',
  autoScalingGroupProvider: {
    autoScalingGroupArn: 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:u:autoScalingGroupName/web',
    groupName: 'web',
    managedScaling: { status: 'DISABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10000, instanceWarmupPeriod: 300 },
    managedTerminationProtection: 'DISABLED',
    managedDraining: 'ENABLED',
  },
  tags: [],
  createdAt: 0,
};

const hostOf = (instanceId: string) => ({
  instanceId,
  availabilityZone: 'us-east-1a',
  lifecycleState: 'InService' as const,
  healthStatus: 'Healthy' as const,
  protectedFromScaleIn: false,
  launchConfigurationName: 'hosts',
  instanceType: 'berth.small',
  imageId: 'netns',
  launchedAt: 0,
  provisioned: true,
  activityId: 'a',
});

const group = (instanceIds: string[]): HostGroupRecord => ({
  name: 'web',
  arn: provider.autoScalingGroupProvider.autoScalingGroupArn,
  launchConfigurationName: 'hosts',
  minSize: 0,
  maxSize: 4,
  desiredCapacity: instanceIds.length,
  defaultCooldown: 300,
  availabilityZones: ['us-east-1a'],
  healthCheckType: 'EC2',
  healthCheckGracePeriod: 0,
  newInstancesProtectedFromScaleIn: false,
  tags: [],
  createdTime: 0,
  instances: instanceIds.map(hostOf),
});

/** A container instance of 1024 CPU units and 1536 MiB: one task of `needs` fits, two do not. */
const instance = (id: string, ec2InstanceId: string): InstanceRecord => ({
  cluster: 'c',
  id,
  ec2InstanceId,
  reserved: emptyNeeds,
  instance: {
    containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/c/${id}`,
    ec2InstanceId,
    status: 'ACTIVE',
    agentConnected: true,
    attributes: [{ name: 'ecs.availability-zone', value: 'us-east-1a' }],
    registeredResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 1536 },
    ],
  },
});

const spec = (waiting: number, since: number): LaunchSpec => ({
  cluster: 'c',
  td: { taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:1', family: 'web', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 1024 }] },
  propagatedTags: [],
  tags: [],
  overrides: {},
  group: 'family:web',
  needs,
  capacityProvider: { name: 'web-cp', waiting, placement: { capacityProvider: 'web-cp', since, constraints: [], strategies: [], requiredAttributes: [] } },
});

let stops: (() => unknown)[] = [];
afterEach(async () => {
  for (const s of stops) await s();
  stops = [];
});

async function harness() {
  const store = new MemoryStore();
  let now = 0;
  const put = (key: string, value: unknown) => store.txn([], [{ type: 'put', key, value: JSON.stringify(value) }]);
  await put(capacityProviderKeys.provider('web-cp'), provider);
  await put(hostGroupKeys.group('web'), group(['i-web1', 'i-web2']));
  const cache = new ClusterCache({ store }).start();
  stops.push(() => cache.stop());
  await cache.ready();
  const ctx = { scope, now: () => now };
  const start = () => {
    const c = startCapacityWaits({ store, cache, scope, log: pino({ level: 'silent' }), now: () => now, intervalMs: 3_600_000, random: () => 0 });
    stops.push(() => c.stop());
    return c;
  };
  const launch = (waiting: number, on: string[] = []) => transact(store, (tx) => launchTasksInTx(ctx, tx, spec(waiting, now), on));
  const task = async (id: string) => (await readRecord(store, parseTaskRecord, keys.task('c', id)))!;
  const waitingIndex = async () => (await store.range(capacityProviderKeys.waitingTasks())).entries.map((e) => e.key.split('/').pop());
  return { store, put, ctx, start, launch, task, waitingIndex, advance: (ms: number) => (now += ms) };
}

describe('tasks waiting for capacity', () => {
  it('waits in PROVISIONING with no instance, then is placed on its group’s instance once one registers', async () => {
    const h = await harness();
    const { created, failures } = await h.launch(1);
    expect(failures).toEqual([]);
    const id = created[0]!.id;
    expect(created[0]!.task).toMatchObject({ lastStatus: 'PROVISIONING', desiredStatus: 'RUNNING', launchType: 'EC2', capacityProviderName: 'web-cp' });
    expect(created[0]!.task.containerInstanceArn).toBeUndefined();
    expect(await h.waitingIndex()).toEqual([id]);
    const waits = h.start();
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 0, waiting: 1 });

    // An instance of another group never takes it; one of its own group does.
    await h.put(keys.containerInstance('c', 'other'), instance('other', 'i-elsewhere'));
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 0, waiting: 1 });
    await h.put(keys.containerInstance('c', 'web1'), instance('web1', 'i-web1'));
    expect(await waits.pass()).toEqual({ placed: 1, stopped: 0, waiting: 0 });
    const placed = await h.task(id);
    expect(placed.instanceId).toBe('web1');
    expect(placed.waiting).toBeUndefined();
    expect(placed.task).toMatchObject({ lastStatus: 'PENDING', containerInstanceArn: instance('web1', 'i-web1').instance.containerInstanceArn, availabilityZone: 'us-east-1a', capacityProviderName: 'web-cp', version: 2 });
    expect((await readRecord(h.store, parseInstanceRecord, keys.containerInstance('c', 'web1')))!.reserved).toMatchObject({ cpu: 512, memory: 1024 });
    expect(await h.waitingIndex()).toEqual([]);
  });

  it('places on a full instance once its task stops, oldest waiting first; a new leader carries on from the store', async () => {
    const h = await harness();
    await h.put(keys.containerInstance('c', 'web1'), instance('web1', 'i-web1'));
    const first = (await h.launch(0, ['web1'])).created[0]!;
    expect(first.instanceId).toBe('web1');
    h.advance(1000);
    const older = (await h.launch(1)).created[0]!;
    h.advance(1000);
    const newer = (await h.launch(1)).created[0]!;
    // A launch placed where there is no room after all waits too, rather than fail.
    const raced = await h.launch(0, ['web1']);
    expect(raced).toMatchObject({ failures: [], created: [{ task: { lastStatus: 'PROVISIONING' } }] });
    const leader1 = h.start();
    expect(await leader1.pass()).toEqual({ placed: 0, stopped: 0, waiting: 3 });
    await leader1.stop();

    await transact(h.store, async (tx) => stopTaskInTx(h.ctx, tx, (await tx.getRecord(parseTaskRecord, keys.task('c', first.id)))!, { reason: 'done', stopCode: 'UserInitiated' }));
    // The agent reports it stopped: its resources come back.
    await h.put(keys.containerInstance('c', 'web1'), instance('web1', 'i-web1'));
    const leader2 = h.start();
    expect(await leader2.pass()).toEqual({ placed: 1, stopped: 0, waiting: 2 });
    expect((await h.task(older.id)).instanceId).toBe('web1');
    expect((await h.task(newer.id)).instanceId).toBeUndefined();
  });

  it('gives up after ECS’s 30 minutes: STOPPED, TaskFailedToStart, saying the provider was empty', async () => {
    const h = await harness();
    const id = (await h.launch(1)).created[0]!.id;
    const waits = h.start();
    h.advance(CAPACITY_WAIT_MS - 1);
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 0, waiting: 1 });
    h.advance(1);
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 1, waiting: 0 });
    expect((await h.task(id)).task).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'TaskFailedToStart: EMPTY CAPACITY PROVIDER' });
    expect(await h.waitingIndex()).toEqual([]);
  });

  it('stops its waiting tasks at once, not after 30 minutes, when the group is being deleted or the provider is deleted', async () => {
    const h = await harness();
    const first = (await h.launch(1)).created[0]!.id;
    const waits = h.start();
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 0, waiting: 1 });
    // DeleteAutoScalingGroup --force-delete: the group is being deleted, no host will come.
    await h.put(hostGroupKeys.group('web'), { ...group(['i-web1']), deleting: true });
    h.advance(1000);
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 1, waiting: 0 });
    expect((await h.task(first)).task).toMatchObject({ lastStatus: 'STOPPED', desiredStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'TaskFailedToStart: EMPTY CAPACITY PROVIDER' });
    expect(await h.waitingIndex()).toEqual([]);

    // The group gone and its provider INACTIVE (as retireGroupProviderInTx leaves it).
    await h.put(hostGroupKeys.group('web'), group([]));
    const second = (await h.launch(1)).created[0]!.id;
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 0, waiting: 1 });
    await h.store.txn([], [{ type: 'delete', key: hostGroupKeys.group('web') }]);
    await h.put(capacityProviderKeys.provider('web-cp'), { ...provider, status: 'INACTIVE', updateStatus: 'DELETE_COMPLETE', deletedAt: 0 });
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 1, waiting: 0 });
    expect((await h.task(second)).task).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'TaskFailedToStart', stoppedReason: 'TaskFailedToStart: EMPTY CAPACITY PROVIDER' });
  });

  it('names what was short when the group had instances, and forgets a task stopped while it waited', async () => {
    const h = await harness();
    await h.put(keys.containerInstance('c', 'web1'), instance('web1', 'i-web1'));
    await h.launch(0, ['web1']);
    const full = (await h.launch(1)).created[0]!.id;
    const stopped = (await h.launch(1)).created[0]!;
    await transact(h.store, (tx) => stopTaskInTx(h.ctx, tx, stopped, { reason: 'Task stopped by user', stopCode: 'UserInitiated' }));
    expect((await h.task(stopped.id)).task.lastStatus).toBe('STOPPED');
    const waits = h.start();
    h.advance(CAPACITY_WAIT_MS);
    expect(await waits.pass()).toEqual({ placed: 0, stopped: 1, waiting: 0 });
    expect((await h.task(full)).task.stoppedReason).toBe('TaskFailedToStart: RESOURCE:MEMORY');
    expect(await h.waitingIndex()).toEqual([]);
  });
});
