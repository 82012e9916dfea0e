import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { readRecord, transact } from '../store/transact.js';
import { keys } from './keys.js';
import type { InstanceRecord } from './records/instances.js';
import type { ServiceRecord } from './records/services.js';
import { parseTaskRecord, type TaskRecord } from './records/tasks.js';
import { behindLoadBalancers, deactivateTaskInTx, desiredForAgent, stopTaskInTx } from './task-stop.js';

/**
 * A task behind load balancers stopping as in ECS: RUNNING → DEACTIVATING (desired STOPPED) while its targets drain,
 * its agent still told RUNNING; then STOPPING once drained, the agent told STOPPED.
 */
const NEEDS = { cpu: 0, memory: 64, ports: [], portsUdp: [] };
const ctx = { scope: { region: 'us-east-1', accountId: '123456789012' }, now: () => 1_700_000_000_000 };

async function world() {
  const store = new MemoryStore();
  const instance: InstanceRecord = { cluster: 'default', id: 'ci1', instance: { containerInstanceArn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/default/ci1', status: 'ACTIVE' }, reserved: NEEDS, ec2InstanceId: 'i-1' };
  const task: TaskRecord = {
    cluster: 'default',
    id: 't1',
    instanceId: 'ci1',
    serviceName: 'web',
    needs: NEEDS,
    task: { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/default/t1', lastStatus: 'RUNNING', desiredStatus: 'RUNNING', version: 3 },
  };
  await transact(store, async (tx) => {
    tx.putJson(keys.containerInstance('default', 'ci1'), instance);
    tx.putJson(keys.task('default', 't1'), task);
  });
  const read = async () => (await readRecord(store, parseTaskRecord, keys.task('default', 't1')))!;
  return { store, read };
}

describe('deactivateTaskInTx and stopTaskInTx(drained)', () => {
  it('DEACTIVATING with desired STOPPED (agent told RUNNING), unmoved by a plain stop, STOPPING once drained (agent told STOPPED)', async () => {
    const { store, read } = await world();
    const why = { reason: 'Scaling activity initiated by (deployment ecs-svc/1)', stopCode: 'ServiceSchedulerInitiated' } as const;
    await transact(store, async (tx) => deactivateTaskInTx(tx, await read(), why, ctx.now()));
    let t = await read();
    expect(t.task).toMatchObject({ lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', stoppedReason: why.reason, stopCode: why.stopCode, stoppingAt: ctx.now() / 1000, version: 4 });
    expect(desiredForAgent(t)).toBe('RUNNING');
    // StopTask meanwhile changes nothing: the drain goes on.
    await transact(store, async (tx) => stopTaskInTx(ctx, tx, await read(), { reason: 'user', stopCode: 'UserInitiated' }));
    expect((await read()).task).toEqual(t.task);
    await transact(store, async (tx) => stopTaskInTx(ctx, tx, await read(), { ...why, drained: true }));
    t = await read();
    expect(t.task).toMatchObject({ lastStatus: 'STOPPING', desiredStatus: 'STOPPED', stoppedReason: why.reason, version: 5 });
    expect(desiredForAgent(t)).toBe('STOPPED');
  });

  it('leaves a task not RUNNING, or already asked to stop, as it is', async () => {
    const { store, read } = await world();
    await transact(store, async (tx) => stopTaskInTx(ctx, tx, await read(), { reason: 'user', stopCode: 'UserInitiated' }));
    const stopping = await read();
    await transact(store, async (tx) => deactivateTaskInTx(tx, await read(), { reason: 'x', stopCode: 'ServiceSchedulerInitiated' }, ctx.now()));
    expect((await read()).task).toEqual(stopping.task);
    expect(desiredForAgent(stopping)).toBe('STOPPED');
  });
});

describe('behindLoadBalancers', () => {
  const service = (over: Omit<Partial<ServiceRecord>, 'berth'> & { berth?: Partial<ServiceRecord['berth']> }) =>
    ({ status: 'ACTIVE', loadBalancers: [], ...over, berth: { cluster: 'default', ...over.berth } }) as unknown as ServiceRecord;
  const tg = [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef', containerName: 'app', containerPort: 80 }];
  it("is the task's deployment's target groups (an older deployment keeps its own)", () => {
    expect(behindLoadBalancers(service({ loadBalancers: tg }), 'ecs-svc/1')).toBe(true);
    expect(behindLoadBalancers(service({}), 'ecs-svc/1')).toBe(false);
    expect(behindLoadBalancers(service({ loadBalancers: [{ loadBalancerName: 'classic', containerName: 'app', containerPort: 80 }] }), 'ecs-svc/1')).toBe(false);
    expect(behindLoadBalancers(service({ loadBalancers: [], berth: { deploymentLoadBalancers: { 'ecs-svc/1': tg } } }), 'ecs-svc/1')).toBe(true);
    expect(behindLoadBalancers(service({ loadBalancers: tg, berth: { deploymentLoadBalancers: { 'ecs-svc/1': [] } } }), 'ecs-svc/1')).toBe(false);
    // EXTERNAL and CODE_DEPLOY services' task sets are not registered by berth.
    expect(behindLoadBalancers(service({ loadBalancers: tg, deploymentController: { type: 'EXTERNAL' } }), 'ecs-svc/1')).toBe(false);
  });
});
