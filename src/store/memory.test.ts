import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from './memory.js';
import { storeConformance } from './store.conformance.js';
import { LeaseNotFoundError, type WatchEvent } from './store.js';

storeConformance('memory', {
  open: async () => new MemoryStore({ limits: { maxValueBytes: 4_096, maxTxnOps: 64 } }),
  fullHistory: false,
  limits: { maxValueBytes: 4_096, maxTxnOps: 64 },
  leaseTtlMs: 150,
});

describe('MemoryStore leases (fake timers)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires a lease exactly one TTL after its last keepalive', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    const events: WatchEvent[] = [];
    store.watch('', {}, { onEvents: (e) => events.push(...e), onError: () => {} });
    const lease = await store.grantLease(10_000);
    await store.txn([], [{ type: 'put', key: 'presence/a', value: '', lease: lease.id }]);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(await store.keepAliveLease(lease.id)).toBe(10_000);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(await store.get('presence/a')).toBeDefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(await store.get('presence/a')).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['put', 'delete']);
    await expect(store.keepAliveLease(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
    await store.close();
  });

  it('stops lease timers on close', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    await store.grantLease(1_000);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
