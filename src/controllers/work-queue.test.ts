import { describe, expect, it, vi } from 'vitest';
import { WorkQueue } from './work-queue.js';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
};

describe('WorkQueue', () => {
  it('coalesces a key added many times while queued into one pass', async () => {
    const seen: string[] = [];
    const first = gate();
    const q = new WorkQueue<string>({
      workers: 1,
      process: async (k) => {
        seen.push(k);
        if (k === 'x') await first.opened;
      },
    });
    q.add('x');
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    q.add('a');
    first.open();
    await q.idle();
    expect(seen).toEqual(['x', 'a', 'b']);
  });

  it('never runs two passes over one key at once; a key added during its pass runs once more afterwards', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    const hold = gate();
    const q = new WorkQueue<string>({
      workers: 4,
      process: async () => {
        running++;
        most = Math.max(most, running);
        passes++;
        if (passes === 1) await hold.opened;
        running--;
      },
    });
    q.add('k');
    await vi.waitFor(() => expect(passes).toBe(1));
    q.add('k');
    q.add('k');
    hold.open();
    await q.idle();
    expect(most).toBe(1);
    expect(passes).toBe(2);
  });

  it('runs different keys in parallel up to the number of workers', async () => {
    let running = 0;
    let most = 0;
    const hold = gate();
    const q = new WorkQueue<number>({
      workers: 3,
      process: async () => {
        running++;
        most = Math.max(most, running);
        await hold.opened;
        running--;
      },
    });
    for (let i = 0; i < 10; i++) q.add(i);
    await vi.waitFor(() => expect(running).toBe(3));
    hold.open();
    await q.idle();
    expect(most).toBe(3);
  });

  it('retries a failing key with a doubling backoff, and resets it after a success', async () => {
    const times: number[] = [];
    let failures = 3;
    const errors: unknown[] = [];
    const q = new WorkQueue<string>({
      workers: 1,
      baseBackoffMs: 20,
      onError: (_k, e) => errors.push(e),
      process: async () => {
        times.push(Date.now());
        if (failures-- > 0) throw new Error('boom');
      },
    });
    q.add('k');
    await vi.waitFor(() => expect(times).toHaveLength(4), { timeout: 2_000 });
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(78);
    expect(errors).toHaveLength(3);
  });

  it('runs a key again when its pass asks to, and an earlier request wins', async () => {
    const times: number[] = [];
    const q = new WorkQueue<string>({
      workers: 1,
      process: async () => {
        times.push(Date.now());
        return times.length === 1 ? { requeueAfterMs: 30 } : {};
      },
    });
    const start = Date.now();
    q.add('k');
    q.addAfter('other', 5_000);
    await vi.waitFor(() => expect(times).toHaveLength(2), { timeout: 2_000 });
    expect(times[1]! - start).toBeGreaterThanOrEqual(28);
    await q.stop();
  });
});
