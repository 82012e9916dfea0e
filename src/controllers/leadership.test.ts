import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FencedOffError } from '../store/fenced.js';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { CutOffStore } from '../testing/cut-off-store.js';
import { startLeadership, type LeaderTerm, type Leadership } from './leadership.js';

const TTL = 5_000;
const log = pino({ level: 'silent' });

interface Replica {
  readonly id: string;
  readonly view: CutOffStore;
  readonly leadership: Leadership;
  /** Fake-clock times its duties started and stopped, and its terms. */
  readonly started: number[];
  readonly stopped: number[];
  readonly terms: LeaderTerm[];
}

let shared: MemoryStore;
let replicas: Replica[];
/** When the shared store deleted the leader key (lease expiry or revoke), by fake clock. */
let keyGoneAt: number[];

function replica(id: string): Replica {
  const view = new CutOffStore(shared);
  const started: number[] = [];
  const stopped: number[] = [];
  const terms: LeaderTerm[] = [];
  const leadership = startLeadership({
    store: view,
    replicaId: id,
    log,
    ttlMs: TTL,
    lead: (term) => {
      started.push(Date.now());
      terms.push(term);
      return { stop: async () => void stopped.push(Date.now()) };
    },
  });
  const r = { id, view, leadership, started, stopped, terms };
  replicas.push(r);
  return r;
}

const leaders = () => replicas.filter((r) => r.leadership.role() === 'leader');

beforeEach(() => {
  vi.useFakeTimers();
  shared = new MemoryStore();
  replicas = [];
  keyGoneAt = [];
  shared.watch('leader', {}, {
    onEvents: (events) => {
      for (const e of events) if (e.type === 'delete') keyGoneAt.push(Date.now());
    },
    onError: () => {},
  });
});

afterEach(async () => {
  for (const r of replicas) {
    r.view.setCut(false);
    r.view.leaseCallsFail = false;
  }
  await Promise.all(replicas.map((r) => r.leadership.stop()));
  await shared.close();
  vi.useRealTimers();
});

describe('leader election', () => {
  it('elects exactly one leader among three, and keeps it while keepalives succeed', async () => {
    for (const id of ['a', 'b', 'c']) replica(id);
    await vi.advanceTimersByTimeAsync(10);
    expect(leaders()).toHaveLength(1);
    const first = leaders()[0]!;
    // Many TTLs later: the same leader, one term, no expiry.
    await vi.advanceTimersByTimeAsync(TTL * 10);
    expect(leaders()).toEqual([first]);
    expect(first.started).toHaveLength(1);
    expect(keyGoneAt).toEqual([]);
    expect(replicas.reduce((n, r) => n + r.started.length, 0)).toBe(1);
  });

  it("steps down before its lease can expire when its keepalives fail (the lease then ends by expiry); another takes over within a TTL", async () => {
    for (const id of ['a', 'b', 'c']) replica(id);
    await vi.advanceTimersByTimeAsync(10);
    const old = leaders()[0]!;
    const failedFrom = Date.now();
    old.view.leaseCallsFail = true;

    await vi.advanceTimersByTimeAsync(TTL + 100);
    expect(old.leadership.role()).toBe('follower');
    expect(old.stopped).toHaveLength(1);
    // It stopped its duties before the store could have ended its lease (lease ends ≥ last keepalive + TTL).
    expect(keyGoneAt.length).toBeGreaterThanOrEqual(1);
    expect(old.stopped[0]!).toBeLessThan(keyGoneAt[0]!);
    expect(keyGoneAt[0]! - failedFrom).toBeLessThanOrEqual(TTL);

    const next = leaders();
    expect(next).toHaveLength(1);
    expect(next[0]).not.toBe(old);
    expect(next[0]!.started[0]! - failedFrom).toBeLessThanOrEqual(TTL);
    // The old term's fence is closed: its writes are refused; the new term's succeed.
    await expect(transact(old.terms[0]!.store, async (tx) => tx.put('services/x', 'old'))).rejects.toBeInstanceOf(FencedOffError);
    await transact(next[0]!.terms[0]!.store, async (tx) => tx.put('services/x', 'new'));
    expect((await shared.get('services/x'))?.value).toBe('new');
  });

  it('steps down before its lease expires when cut off from the store altogether, and never overlaps the next', async () => {
    for (const id of ['a', 'b', 'c']) replica(id);
    await vi.advanceTimersByTimeAsync(10);
    const old = leaders()[0]!;
    old.view.setCut(true);
    await vi.advanceTimersByTimeAsync(TTL + 100);
    const next = leaders();
    expect(next).toHaveLength(1);
    expect(next[0]).not.toBe(old);
    expect(old.stopped[0]!).toBeLessThan(next[0]!.started[0]!);
    expect(old.stopped[0]!).toBeLessThan(keyGoneAt[0]!);

    // Reconnected, it follows: still one leader.
    old.view.setCut(false);
    await vi.advanceTimersByTimeAsync(TTL * 3);
    expect(leaders()).toEqual(next);
  });

  it('a clean stop revokes the lease, so another replica leads at once', async () => {
    for (const id of ['a', 'b', 'c']) replica(id);
    await vi.advanceTimersByTimeAsync(10);
    const old = leaders()[0]!;
    const stoppedAt = Date.now();
    await old.leadership.stop();
    await vi.advanceTimersByTimeAsync(1);
    const next = leaders();
    expect(next).toHaveLength(1);
    expect(next[0]).not.toBe(old);
    expect(next[0]!.started[0]! - stoppedAt).toBeLessThanOrEqual(1);
  });

  it('a follower campaigns when the store comes back after failing at start', async () => {
    const r = replica('a');
    r.view.setCut(true);
    await vi.advanceTimersByTimeAsync(TTL);
    expect(r.leadership.role()).toBe('follower');
    r.view.setCut(false);
    await vi.advanceTimersByTimeAsync(TTL);
    expect(r.leadership.role()).toBe('leader');
  });

  it('steps down when the leader key is taken away from it', async () => {
    const r = replica('a');
    await vi.advanceTimersByTimeAsync(10);
    expect(r.leadership.role()).toBe('leader');
    await (shared as Store).txn([], [{ type: 'delete', key: 'leader' }]);
    await vi.advanceTimersByTimeAsync(1);
    // It stepped down, and (the key being free) campaigned again for a new term.
    expect(r.stopped).toHaveLength(1);
    expect(r.terms).toHaveLength(2);
    expect(r.terms[1]!.revision).toBeGreaterThan(r.terms[0]!.revision);
  });

  it('a follower whose watch meets a compaction past the election watches on from there, without spinning, and still takes over', async () => {
    const a = replica('a');
    await vi.advanceTimersByTimeAsync(10);
    expect(a.leadership.role()).toBe('leader');
    const b = replica('b');
    await vi.advanceTimersByTimeAsync(10);
    // A long term: many writes, then history compacted past the election (keepalives never touch the key).
    for (let i = 0; i < 20; i++) await (shared as Store).txn([], [{ type: 'put', key: `other/${i}`, value: 'x' }]);
    const watches = vi.spyOn(b.view, 'watch');
    await shared.compact(await shared.revision());
    // Each TTL a follower looks at the key again and watches anew from the election: the history is gone.
    await vi.advanceTimersByTimeAsync(TTL + 100);
    expect(watches.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(watches.mock.calls.length).toBeLessThanOrEqual(3);
    await a.leadership.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(b.leadership.role()).toBe('leader');
  });
});
