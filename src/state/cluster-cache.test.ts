import { afterEach, describe, expect, it } from 'vitest';
import { emptyNeeds } from '../model/container-instance.js';
import { MemoryStore } from '../store/memory.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { ClusterCache } from './cluster-cache.js';
import { keys } from './keys.js';
import type { InstanceRecord } from './records/instances.js';
import type { TaskRecord } from './records/tasks.js';

const instance = (cluster: string, id: string, extra: Partial<InstanceRecord['instance']> = {}): InstanceRecord => ({
  cluster,
  id,
  ec2InstanceId: `i-${id}`,
  reserved: emptyNeeds,
  instance: {
    containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/${cluster}/${id}`,
    status: 'ACTIVE',
    agentConnected: true,
    registeredResources: [
      { name: 'CPU', type: 'INTEGER', integerValue: 1024 },
      { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 },
    ],
    ...extra,
  },
});

const task = (cluster: string, id: string, instanceId: string, extra: { lastStatus?: string; group?: string; serviceName?: string } = {}): TaskRecord => ({
  cluster,
  id,
  instanceId,
  needs: emptyNeeds,
  task: { taskArn: `arn:aws:ecs:us-east-1:123456789012:task/${cluster}/${id}`, lastStatus: extra.lastStatus ?? 'RUNNING', group: extra.group ?? 'family:web' },
  ...(extra.serviceName ? { serviceName: extra.serviceName } : {}),
});

const putAll = (store: Store, records: (InstanceRecord | TaskRecord)[]) =>
  store.txn(
    [],
    records.map((r) => ({
      type: 'put' as const,
      key: 'task' in r ? keys.task(r.cluster, r.id) : keys.containerInstance(r.cluster, r.id),
      value: JSON.stringify(r),
    })),
  );

let cache: ClusterCache | undefined;
afterEach(() => cache?.stop());

describe('ClusterCache', () => {
  it('gives placement each instance of a cluster with its live tasks, kept as they change', async () => {
    const store = new MemoryStore();
    await putAll(store, [instance('c', 'b'), instance('c', 'a'), instance('other', 'x'), task('c', 't1', 'a'), task('c', 't2', 'b', { group: 'service:s' })]);
    cache = new ClusterCache({ store }).start();
    await cache.ready();
    const view = () => cache!.snapshot('c').map((s) => ({ id: s.id, tasks: s.tasks.map((t) => `${t.taskId}:${t.group}`) }));
    expect(view()).toEqual([
      { id: 'a', tasks: ['t1:family:web'] },
      { id: 'b', tasks: ['t2:service:s'] },
    ]);
    expect(cache.snapshot('nowhere')).toEqual([]);

    // A task stops, another starts, an instance is drained and a new one joins.
    await putAll(store, [task('c', 't1', 'a', { lastStatus: 'STOPPED' }), task('c', 't3', 'b'), instance('c', 'b', { status: 'DRAINING' }), instance('c', '0')]);
    await cache.catchUp();
    expect(view()).toEqual([
      { id: '0', tasks: [] },
      { id: 'a', tasks: [] },
      { id: 'b', tasks: ['t2:service:s', 't3:family:web'] },
    ]);
    expect(cache.snapshot('c').find((s) => s.id === 'b')!.status).toBe('DRAINING');
    expect(cache.liveTaskIds('c', 'b')).toEqual(['t2', 't3']);

    // A deleted task leaves its instance's list.
    await store.txn([], [{ type: 'delete', key: keys.task('c', 't3') }]);
    await cache.catchUp();
    expect(cache.liveTaskIds('c', 'b')).toEqual(['t2']);
  });

  it('rebuilds only what changed: an untouched instance keeps its snapshot object, the cluster view is reused until a change', async () => {
    const store = new MemoryStore();
    await putAll(store, [instance('c', 'a'), instance('c', 'b')]);
    cache = new ClusterCache({ store }).start();
    await cache.ready();
    const first = cache.snapshot('c');
    expect(cache.snapshot('c')).toBe(first);
    await putAll(store, [task('c', 't1', 'a')]);
    await cache.catchUp();
    const second = cache.snapshot('c');
    expect(second).not.toBe(first);
    expect(second[1]).toBe(first[1]);
    expect(second[0]!.tasks).toEqual([{ taskId: 't1', group: 'family:web' }]);
  });

  it("keeps each service's tasks with the revision they were read at", async () => {
    const store = new MemoryStore();
    await putAll(store, [task('c', 't1', 'a', { serviceName: 'web' }), task('c', 't2', 'a', { serviceName: 'api' }), task('c', 't3', 'a')]);
    cache = new ClusterCache({ store }).start();
    await cache.ready();
    expect(cache.serviceTasks('c', 'web').map((t) => t.value.id)).toEqual(['t1']);
    const { revision } = await putAll(store, [task('c', 't1', 'a', { serviceName: 'web', lastStatus: 'STOPPED' })]);
    await cache.catchUp();
    expect(cache.serviceTasks('c', 'web')).toEqual([{ value: expect.objectContaining({ id: 't1' }), modRevision: revision }]);
    await store.txn([], [{ type: 'delete', key: keys.task('c', 't1') }]);
    await cache.catchUp();
    expect(cache.serviceTasks('c', 'web')).toEqual([]);
    expect(cache.serviceTasks('c', 'api')).toHaveLength(1);
  });

  it('catchUp sees a write made a moment ago by someone else (another replica, through the store)', async () => {
    const store = new MemoryStore();
    cache = new ClusterCache({ store }).start();
    await cache.ready();
    await putAll(store, [instance('c', 'new')]);
    await cache.catchUp();
    expect(cache.snapshot('c').map((s) => s.id)).toEqual(['new']);
  });

  it('catchUp answers StoreUnavailableError (503 at the API) when the cache cannot catch up', async () => {
    const store = new MemoryStore();
    // A watch that never delivers: the cache stays behind the store's revision.
    const silent = Object.create(store) as Store;
    silent.watch = () => ({ close: () => {} });
    cache = new ClusterCache({ store: silent }).start();
    await cache.ready();
    await putAll(store, [instance('c', 'unseen')]);
    await expect(cache.catchUp({ timeoutMs: 50 })).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
