import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../../state/keys.js';
import { MemoryStore } from '../../store/memory.js';
import { CutOffStore } from '../../testing/cut-off-store.js';
import { SessionPresence } from './presence.js';

const log = pino({ level: 'silent' });

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionPresence', () => {
  it('puts a key per session on the replica lease and deletes it on close only while it is still its own', async () => {
    const store = new MemoryStore();
    const a = new SessionPresence({ store, replicaId: 'a', log });
    const b = new SessionPresence({ store, replicaId: 'b', log });
    await a.start();
    await b.start();
    await a.announce('c', 'i1', 's1');
    expect(JSON.parse((await store.get(keys.presence('c', 'i1')))!.value)).toMatchObject({ replica: 'a', session: 's1' });
    // The agent reconnects to b before a notices its old session closed.
    await b.announce('c', 'i1', 's2');
    await a.withdraw('c', 'i1', 's1');
    expect(JSON.parse((await store.get(keys.presence('c', 'i1')))!.value)).toMatchObject({ replica: 'b', session: 's2' });
    await b.withdraw('c', 'i1', 's2');
    expect(await store.get(keys.presence('c', 'i1'))).toBeUndefined();
    await a.stop();
    await b.stop();
    await store.close();
  });

  it("a replica's keys vanish when it dies (lease expiry) and all at once when it stops (revoke)", async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    const dying = new CutOffStore(store);
    const a = new SessionPresence({ store: dying, replicaId: 'a', log, ttlMs: 5_000 });
    const b = new SessionPresence({ store, replicaId: 'b', log, ttlMs: 5_000 });
    await a.start();
    await b.start();
    await a.announce('c', 'i1', 's1');
    await b.announce('c', 'i2', 's2');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await store.get(keys.presence('c', 'i1'))).toBeDefined();
    dying.setCut(true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await store.get(keys.presence('c', 'i1'))).toBeUndefined();
    expect(await store.get(keys.presence('c', 'i2'))).toBeDefined();
    await b.stop();
    expect(await store.get(keys.presence('c', 'i2'))).toBeUndefined();
    await a.stop();
    await store.close();
  });

  it('puts its sessions again on a new lease when it comes back after its lease ended', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    const view = new CutOffStore(store);
    const a = new SessionPresence({ store: view, replicaId: 'a', log, ttlMs: 5_000, retryMs: 500 });
    await a.start();
    await a.announce('c', 'i1', 's1');
    view.setCut(true);
    await vi.advanceTimersByTimeAsync(6_000);
    expect(await store.get(keys.presence('c', 'i1'))).toBeUndefined();
    view.setCut(false);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(JSON.parse((await store.get(keys.presence('c', 'i1')))!.value)).toMatchObject({ replica: 'a', session: 's1' });
    await a.stop();
    await store.close();
  });

  it('retries withdrawing a closed session until the store takes it: a key left behind would show the agent connected', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    const view = new CutOffStore(store);
    const a = new SessionPresence({ store: view, replicaId: 'a', log, ttlMs: 60_000, retryMs: 100 });
    await a.start();
    await a.announce('c', 'i1', 's1');
    view.setCut(true);
    const withdrawn = a.withdraw('c', 'i1', 's1');
    await vi.advanceTimersByTimeAsync(350);
    expect(await store.get(keys.presence('c', 'i1'))).toBeDefined();
    view.setCut(false);
    await vi.advanceTimersByTimeAsync(150);
    await withdrawn;
    expect(await store.get(keys.presence('c', 'i1'))).toBeUndefined();
    await a.stop();
    await store.close();
  });
});
