import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../metrics/metric-store.js';
import { hostGroupKeys } from '../state/host-group-keys.js';
import { keys } from '../state/keys.js';
import { hostGroup, hostInstance } from '../hostgroups/testing/records.js';
import { parseHostGroup, parseScalingActivity, type HostInstanceRecord } from '../state/records/host-groups.js';
import { parseInstanceRecord, type InstanceRecord } from '../state/records/instances.js';
import type { TaskRecord } from '../state/records/tasks.js';
import { MemoryStore } from '../store/memory.js';
import { readRecord, transact } from '../store/transact.js';
import { MANAGED_DRAINING_HOOK } from './draining.js';
import { startManagedScaling, type ManagedProvider, type ManagedScalingController } from './managed-scaling-controller.js';

/**
 * The controller over a memory store and a hand-fed cache, one pass at a time with a clock the test moves: what it
 * writes to the group's record, the activities, the metric it publishes, protection and draining.
 */

const controllers: ManagedScalingController[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) await c.stop();
});

const T0 = 1_700_000_000_000;
const instance = (id: string, extra: Partial<HostInstanceRecord> = {}) => hostInstance(id, { launchConfigurationName: 'hosts', launchedAt: T0 - 3_600_000, ...extra });

async function harness(instances: HostInstanceRecord[], desired: number, provider: Partial<ManagedProvider> = {}) {
  const store = new MemoryStore();
  const put = (key: string, value: unknown) => transact(store, async (tx) => tx.putJson(key, value));
  let now = T0;
  const group = hostGroup(desired, instances, { name: 'web', launchConfigurationName: 'hosts', maxSize: 5, newInstancesProtectedFromScaleIn: true, createdTime: T0 });
  await put(hostGroupKeys.group('web'), group);
  await put(hostGroupKeys.launchConfiguration('hosts'), { name: 'hosts', arn: 'a', imageId: 'netns', instanceType: 'berth.small', createdTime: T0, groups: ['web'] });
  const containerInstances = new Map<string, InstanceRecord>();
  const tasks = new Map<string, { value: TaskRecord }>();
  const register = async (ec2: string, status = 'ACTIVE') => {
    const record = { cluster: 'c1', id: `ci-${ec2}`, ec2InstanceId: ec2, instance: { containerInstanceArn: `arn:ci-${ec2}`, status }, reserved: { cpu: 0, memory: 0, ports: [], portsUdp: [] } } as InstanceRecord;
    containerInstances.set(record.id, record);
    await put(keys.containerInstance('c1', record.id), record);
  };
  const addTask = (id: string, extra: Partial<TaskRecord> & { status?: string }) =>
    tasks.set(id, {
      value: { cluster: 'c1', id, task: { taskArn: `arn:${id}`, lastStatus: extra.status ?? 'RUNNING', desiredStatus: 'RUNNING', capacityProviderName: 'cp' }, needs: { cpu: 512, memory: 512, ports: [], portsUdp: [] }, ...extra } as TaskRecord,
    });
  const cache = {
    instanceRecords: () => containerInstances,
    liveTaskIds: (_c: string, ciId: string) => [...tasks.values()].filter((t) => t.value.instanceId === ciId && t.value.task.lastStatus !== 'STOPPED').map((t) => t.value.id),
    task: (_c: string, id: string) => tasks.get(id)?.value,
    tasks: { cache: tasks },
  };
  const published: Sample[] = [];
  const controller = startManagedScaling({
    store,
    log: pino({ level: 'silent' }),
    cache: cache as never,
    providers: async () => [
      {
        name: 'cp',
        cluster: 'c1',
        groupName: 'web',
        managedScaling: { status: 'ENABLED', targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10_000, instanceWarmupPeriod: 60 },
        managedTerminationProtection: 'ENABLED',
        managedDraining: 'ENABLED',
        ...provider,
      },
    ],
    publish: async (s) => void published.push(...s),
    now: () => now,
    intervalMs: 3_600_000,
    scaleInAfterMs: 5 * 60_000,
  });
  controllers.push(controller);
  const read = async () => (await readRecord(store, parseHostGroup, hostGroupKeys.group('web')))!;
  const activities = async () => (await store.range(hostGroupKeys.activitiesOf('web'))).entries.map((e) => parseScalingActivity(e.value, e.key));
  return { store, put, controller, register, addTask, tasks, published, read, activities, advance: (ms: number) => (now += ms) };
}

describe('the managed scaling controller', () => {
  it('scales an empty group out in the pass that sees a task waiting, publishing CapacityProviderReservation 200', async () => {
    const h = await harness([], 0);
    h.addTask('t1', { status: 'PROVISIONING' });
    await h.controller.runOnce();
    expect((await h.read()).desiredCapacity).toBe(1);
    expect(h.published).toHaveLength(1);
    expect(h.published[0]).toMatchObject({ series: { namespace: 'AWS/ECS/ManagedScaling', name: 'CapacityProviderReservation' }, sum: 200, unit: 'Percent' });
    expect(h.published[0]!.series.dimensions).toEqual([
      { Name: 'CapacityProviderName', Value: 'cp' },
      { Name: 'ClusterName', Value: 'c1' },
    ]);
    const [activity] = await h.activities();
    expect(activity).toMatchObject({ description: 'Setting desired capacity of web from 0 to 1', statusCode: 'Successful' });
    expect(activity!.cause).toContain('ECS managed scaling of capacity provider cp (CapacityProviderReservation 200, target 100) changed the desired capacity from 0 to 1.');
    // The hook managed draining needs is on the group.
    expect((await h.read()).terminationHook).toEqual({ name: MANAGED_DRAINING_HOOK, heartbeatTimeoutS: 3600 });
  });

  it('protects the instances running tasks and lets empty ones go after the scale-in period, through the draining hook', async () => {
    const h = await harness([instance('i-busy', { launchedAt: T0 - 7_200_000 }), instance('i-idle')], 2);
    await h.register('i-busy');
    await h.register('i-idle');
    h.addTask('t1', { instanceId: 'ci-i-busy' });
    await h.controller.runOnce();
    let group = await h.read();
    expect(group.instances.map((i) => [i.instanceId, i.protectedFromScaleIn])).toEqual([
      ['i-busy', true],
      ['i-idle', false],
    ]);
    expect(group.desiredCapacity).toBe(2); // low, but not for long enough yet
    expect(h.published.at(-1)!.sum).toBe(50);
    h.advance(5 * 60_000);
    await h.controller.runOnce();
    group = await h.read();
    expect(group.desiredCapacity).toBe(1);
    expect(group.instances.find((i) => i.instanceId === 'i-idle')!.lifecycleState).toBe('Terminating:Wait');
    expect(group.instances.find((i) => i.instanceId === 'i-busy')!.lifecycleState).toBe('InService');
    // Empty: the next pass completes the hook at once.
    await h.controller.runOnce();
    expect((await h.read()).instances.find((i) => i.instanceId === 'i-idle')!.lifecycleState).toBe('Terminating');
  });

  it('drains an instance taken out of service: DRAINING first, terminated once its tasks are gone', async () => {
    const h = await harness([instance('i-1', { lifecycleState: 'Terminating:Wait', waitingSince: T0 }), instance('i-2')], 1);
    await h.register('i-1');
    await h.register('i-2');
    h.addTask('t1', { instanceId: 'ci-i-1' });
    await h.put(hostGroupKeys.group('web'), { ...(await h.read()), terminationHook: { name: MANAGED_DRAINING_HOOK, heartbeatTimeoutS: 3600 } });
    await h.controller.runOnce();
    expect((await readRecord(h.store, parseInstanceRecord, keys.containerInstance('c1', 'ci-i-1')))!.instance.status).toBe('DRAINING');
    expect((await h.read()).instances[0]!.lifecycleState).toBe('Terminating:Wait');
    h.tasks.set('t1', { value: { ...h.tasks.get('t1')!.value, task: { ...h.tasks.get('t1')!.value.task, lastStatus: 'STOPPED' } } });
    await h.controller.runOnce();
    expect((await h.read()).instances[0]!.lifecycleState).toBe('Terminating');
  });

  it('with managed draining turned off, removes the hook and lets waiting instances go', async () => {
    const h = await harness([instance('i-1', { lifecycleState: 'Terminating:Wait', waitingSince: T0 })], 0, { managedDraining: 'DISABLED' });
    await h.put(hostGroupKeys.group('web'), { ...(await h.read()), terminationHook: { name: MANAGED_DRAINING_HOOK, heartbeatTimeoutS: 3600 } });
    await h.controller.runOnce();
    const group = await h.read();
    expect(group.terminationHook).toBeUndefined();
    expect(group.instances[0]!.lifecycleState).toBe('Terminating');
  });
});
