import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WarmPool, type WarmPoolOptions } from './warm-pool.js';

/** A pool of numbered entries whose makes are settled by hand, on vitest's fake timers. */
function harness(overrides: Partial<WarmPoolOptions<string>> = {}) {
  const pending: { resolve: (e: string) => void; reject: (e: Error) => void }[] = [];
  const destroyed: string[] = [];
  const errors: string[] = [];
  let n = 0;
  const pool = new WarmPool<string>({
    size: 2,
    make: () => new Promise<string>((resolve, reject) => pending.push({ resolve, reject })),
    destroy: async (e) => void destroyed.push(e),
    adopt: async () => [],
    timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
    refillDelayMs: 250,
    retryDelayMs: 1_000,
    onError: (what) => void errors.push(what),
    ...overrides,
  });
  /** Finish the oldest make in flight with a new entry. */
  const made = async () => {
    pending.shift()!.resolve(`e${++n}`);
    await vi.advanceTimersByTimeAsync(0);
  };
  return { pool, pending, destroyed, errors, made };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('WarmPool', () => {
  it('fills to its size one make at a time once started, and hands nothing out before', async () => {
    const h = harness();
    expect(h.pool.take()).toBeUndefined();
    expect(h.pending).toHaveLength(0);
    await h.pool.start();
    expect(h.pool.state).toBe('running');
    expect(h.pending).toHaveLength(1);
    await h.made();
    expect(h.pending).toHaveLength(1);
    await h.made();
    expect(h.pending).toHaveLength(0);
    expect(h.pool.readyCount).toBe(2);
  });

  it('hands entries out oldest first and refills only after a quiet refillDelayMs since the last take', async () => {
    const h = harness();
    await h.pool.start();
    await h.made();
    await h.made();
    expect(h.pool.take()).toBe('e1');
    await vi.advanceTimersByTimeAsync(200);
    expect(h.pool.take()).toBe('e2');
    await vi.advanceTimersByTimeAsync(200);
    // A take that finds none defers the refill too: a burst of starts is under way.
    expect(h.pool.take()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(249);
    expect(h.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.pending).toHaveLength(1);
    await h.made();
    await h.made();
    expect(h.pool.take()).toBe('e3');
  });

  it('retries a failed make after retryDelayMs, doubling while makes keep failing, and resets after a success', async () => {
    const h = harness({ size: 1 });
    await h.pool.start();
    const fail = async () => {
      h.pending.shift()!.reject(new Error('plugin failed'));
      await vi.advanceTimersByTimeAsync(0);
    };
    await fail();
    expect(h.errors).toEqual(['make']);
    await vi.advanceTimersByTimeAsync(999);
    expect(h.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await fail();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(h.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.pending).toHaveLength(1);
    await h.made();
    expect(h.pool.take()).toBe('e1');
    await vi.advanceTimersByTimeAsync(250);
    await fail();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.pending).toHaveLength(1);
  });

  it('adopts what a previous process left before making more, and destroys adopted ones beyond its size', async () => {
    const h = harness({ adopt: async () => ['old1', 'old2', 'old3'] });
    await h.pool.start();
    expect(h.pool.readyCount).toBe(2);
    expect(h.pending).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.destroyed).toEqual(['old3']);
    expect(h.pool.take()).toBe('old1');
  });

  it('carries on empty when adopting fails', async () => {
    const h = harness({ adopt: async () => Promise.reject(new Error('unreadable')) });
    await h.pool.start();
    expect(h.errors).toEqual(['adopt']);
    expect(h.pool.state).toBe('running');
    expect(h.pending).toHaveLength(1);
  });

  it('drains: destroys the ready entries and the one being made once it is, then makes and hands out nothing', async () => {
    const h = harness();
    await h.pool.start();
    await h.made();
    expect(h.pending).toHaveLength(1);
    const drained = h.pool.drain();
    expect(h.pool.take()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.pool.state).toBe('draining');
    await h.made();
    await drained;
    expect(h.pool.state).toBe('closed');
    expect(h.destroyed.sort()).toEqual(['e1', 'e2']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(h.pending).toHaveLength(0);
  });

  it('drains a pool still adopting: the adopted entries are destroyed, none made', async () => {
    let adopt!: (entries: string[]) => void;
    const h = harness({ adopt: () => new Promise((resolve) => (adopt = resolve)) });
    const started = h.pool.start();
    const drained = h.pool.drain();
    adopt(['old1']);
    await started;
    await drained;
    expect(h.destroyed).toEqual(['old1']);
    expect(h.pending).toHaveLength(0);
    expect(h.pool.state).toBe('closed');
  });

  it('stops refilling at drain even with a refill due', async () => {
    const h = harness({ size: 1 });
    await h.pool.start();
    await h.made();
    h.pool.take();
    await h.pool.drain();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(h.pending).toHaveLength(0);
  });

  it('with size 0 makes nothing and hands out nothing', async () => {
    const h = harness({ size: 0 });
    await h.pool.start();
    expect(h.pending).toHaveLength(0);
    expect(h.pool.take()).toBeUndefined();
  });
});
