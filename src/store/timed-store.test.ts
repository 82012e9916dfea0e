import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory.js';
import { storeConformance } from './store.conformance.js';
import { TimedStore, type TxnOutcome } from './timed-store.js';

// The wrapper must not change what a store does: the whole conformance suite runs through it.
storeConformance('timed memory', {
  open: async () => new TimedStore(new MemoryStore({ limits: { maxValueBytes: 4_096, maxTxnOps: 64 } }), () => {}),
  fullHistory: false,
  limits: { maxValueBytes: 4_096, maxTxnOps: 64 },
  leaseTtlMs: 150,
});

describe('TimedStore', () => {
  it('reports each txn with its outcome', async () => {
    const seen: [number, TxnOutcome][] = [];
    const store = new TimedStore(new MemoryStore({ limits: { maxValueBytes: 16, maxTxnOps: 64 } }), (s, o) => seen.push([s, o]));
    await store.txn([], [{ type: 'put', key: 'a', value: '1' }]);
    await store.txn([{ key: 'a', modRevision: 0 }], [{ type: 'put', key: 'a', value: '2' }]);
    await expect(store.txn([], [{ type: 'put', key: 'b', value: 'x'.repeat(100) }])).rejects.toThrow();
    expect(seen.map(([, o]) => o)).toEqual(['succeeded', 'compare_failed', 'error']);
    expect(seen.every(([s]) => s >= 0 && s < 5)).toBe(true);
    await store.close();
  });
});
