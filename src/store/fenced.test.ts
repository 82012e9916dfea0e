import { describe, expect, it } from 'vitest';
import { FencedOffError, FencedStore } from './fenced.js';
import { MemoryStore } from './memory.js';
import { transact } from './transact.js';

async function elect(store: MemoryStore, who: string): Promise<FencedStore> {
  const lease = await store.grantLease(5_000);
  const current = await store.get('leader');
  const { succeeded, revision } = await store.txn(
    [{ key: 'leader', modRevision: current?.modRevision ?? 0 }],
    [{ type: 'put', key: 'leader', value: who, lease: lease.id }],
  );
  expect(succeeded).toBe(true);
  return new FencedStore(store, 'leader', revision);
}

describe('FencedStore', () => {
  it("refuses a deposed leader's write while the new leader's succeeds, and transact does not retry it", async () => {
    const store = new MemoryStore();
    const old = await elect(store, 'a');
    await transact(old, async (tx) => tx.put('services/x', 'from a'));
    const next = await elect(store, 'b');

    let attempts = 0;
    await expect(
      transact(old, async (tx) => {
        attempts++;
        await tx.get('services/x');
        tx.put('services/x', 'from a, deposed');
      }),
    ).rejects.toBeInstanceOf(FencedOffError);
    expect(attempts).toBe(1);
    expect(old.holds).toBe(false);
    // Once fenced off, later writes are refused without asking the store.
    await expect(old.txn([], [{ type: 'put', key: 'services/y', value: 'a' }])).rejects.toBeInstanceOf(FencedOffError);

    await transact(next, async (tx) => tx.put('services/x', 'from b'));
    expect((await store.get('services/x'))?.value).toBe('from b');
    expect(await store.get('services/y')).toBeUndefined();
    await store.close();
  });

  it('reports an ordinary conflict as a failed txn, not as fenced off', async () => {
    const store = new MemoryStore();
    const fenced = await elect(store, 'a');
    await store.txn([], [{ type: 'put', key: 'k', value: '1' }]);
    const result = await fenced.txn([{ key: 'k', modRevision: 0 }], [{ type: 'put', key: 'k', value: '2' }]);
    expect(result.succeeded).toBe(false);
    expect(fenced.holds).toBe(true);
    await store.close();
  });

  it('refuses writes once the leader key is gone (lease ended), and after close without reaching the store', async () => {
    const store = new MemoryStore();
    const fenced = await elect(store, 'a');
    await store.txn([], [{ type: 'delete', key: 'leader' }]);
    await expect(fenced.txn([], [{ type: 'put', key: 'k', value: 'v' }])).rejects.toBeInstanceOf(FencedOffError);

    const again = await elect(store, 'a');
    await again.close();
    const before = await store.revision();
    await expect(again.txn([], [{ type: 'put', key: 'k', value: 'v' }])).rejects.toBeInstanceOf(FencedOffError);
    expect(await store.revision()).toBe(before);
    // The store underneath stays open.
    expect(await store.get('leader')).toBeDefined();
    await store.close();
  });

  it('tells its holder once when a write finds the fence lost', async () => {
    const store = new MemoryStore();
    const old = await elect(store, 'a');
    let told = 0;
    old.onLost(() => told++);
    await elect(store, 'b');
    await expect(old.txn([{ key: 'x', modRevision: 0 }], [{ type: 'put', key: 'x', value: '1' }])).rejects.toBeInstanceOf(FencedOffError);
    await expect(old.txn([], [{ type: 'put', key: 'y', value: '1' }])).rejects.toBeInstanceOf(FencedOffError);
    expect(told).toBe(1);
    await store.close();
  });
});
