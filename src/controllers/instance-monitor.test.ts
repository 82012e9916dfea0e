import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../state/keys.js';
import { parseInstanceRecord, type InstanceRecord } from '../state/records/instances.js';
import { Informer } from '../store/informer.js';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { CutOffStore } from '../testing/cut-off-store.js';
import { startInstanceMonitor, type InstanceMonitor } from './instance-monitor.js';

const log = pino({ level: 'silent' });
let store: MemoryStore;
let monitor: InstanceMonitor | undefined;
let instances: Informer<InstanceRecord> | undefined;

afterEach(async () => {
  await monitor?.stop();
  monitor = undefined;
  instances?.stop();
  await store.close();
});

/** The monitor with an instances informer on the same view of the store, as the server gives it the cluster cache's. */
function start(view: Store) {
  instances = new Informer({ store: view, prefix: keys.containerInstances(), parse: parseInstanceRecord }).start();
  return startInstanceMonitor({ store: view, log, instances });
}

function record(id: string, connected: boolean): InstanceRecord {
  return {
    cluster: 'c',
    id,
    ec2InstanceId: `i-${id}`,
    instance: { containerInstanceArn: `arn:aws:ecs:us-east-1:123456789012:container-instance/c/${id}`, status: 'ACTIVE', agentConnected: connected },
    reserved: { cpu: 0, memory: 0, ports: [] } as unknown as InstanceRecord['reserved'],
  };
}

const put = (key: string, value: unknown, lease?: string) =>
  store.txn([], [{ type: 'put', key, value: JSON.stringify(value), ...(lease ? { lease } : {}) }]);
const read = async (id: string) => parseInstanceRecord((await store.get(keys.containerInstance('c', id)))!.value, id);

describe('instance monitor', () => {
  it('follows presence keys: connected while one exists, disconnectedAt when it goes (also by lease expiry)', async () => {
    store = new MemoryStore();
    await put(keys.containerInstance('c', 'a'), record('a', false));
    monitor = start(store);
    await monitor.idle();
    // Never connected: nothing written.
    expect((await read('a')).disconnectedAt).toBeUndefined();

    const lease = await store.grantLease(100);
    await put(keys.presence('c', 'a'), { replica: 'r1', session: 's', since: 1 }, lease.id);
    await expect.poll(async () => (await read('a')).instance.agentConnected).toBe(true);
    expect((await read('a')).lastSeenAt).toBeTypeOf('number');

    // The replica holding the session dies: its lease expires, the key goes.
    await expect.poll(async () => (await read('a')).instance.agentConnected, { timeout: 2_000 }).toBe(false);
    expect((await read('a')).disconnectedAt).toBeTypeOf('number');
  });

  it('reconciles every instance when it starts: a stale connected flag without presence is cleared, presence without the flag set', async () => {
    store = new MemoryStore();
    await put(keys.containerInstance('c', 'stale'), record('stale', true));
    await put(keys.containerInstance('c', 'live'), record('live', false));
    await put(keys.presence('c', 'live'), { replica: 'r1', session: 's', since: 1 });
    monitor = start(store);
    await monitor.idle();
    expect((await read('stale')).instance.agentConnected).toBe(false);
    expect((await read('stale')).disconnectedAt).toBeTypeOf('number');
    expect((await read('live')).instance.agentConnected).toBe(true);
  });

  it('lists and watches again after its watch breaks, catching up on what changed meanwhile', async () => {
    store = new MemoryStore();
    await put(keys.containerInstance('c', 'a'), record('a', false));
    const view = new CutOffStore(store);
    monitor = start(view);
    await monitor.idle();
    view.setCut(true);
    // Changed while the monitor's watch was broken: no event reaches it.
    await put(keys.presence('c', 'a'), { replica: 'r1', session: 's', since: 1 });
    view.setCut(false);
    await expect.poll(async () => (await read('a')).instance.agentConnected).toBe(true);
  });
});
