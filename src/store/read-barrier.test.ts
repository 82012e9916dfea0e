import { describe, expect, it } from 'vitest';
import { ReadBarrier } from './read-barrier.js';

/** A revision source whose reads the test answers one by one. */
function source() {
  const pending: { resolve: (n: number) => void; reject: (e: Error) => void }[] = [];
  return {
    read: () => new Promise<number>((resolve, reject) => pending.push({ resolve, reject })),
    pending,
  };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('ReadBarrier', () => {
  it('shares one read among callers that arrive together', async () => {
    const s = source();
    const barrier = new ReadBarrier(s.read);
    const first = barrier.revision();
    expect(s.pending).toHaveLength(1);
    s.pending[0]!.resolve(7);
    expect(await first).toBe(7);
  });

  it('never answers a caller with a read sent before it arrived: it waits for the next, shared by all who waited', async () => {
    const s = source();
    const barrier = new ReadBarrier(s.read);
    const early = barrier.revision();
    const late1 = barrier.revision();
    const late2 = barrier.revision();
    expect(s.pending).toHaveLength(1);
    s.pending[0]!.resolve(5);
    expect(await early).toBe(5);
    await tick();
    // The late callers' read went out only after the first returned, and it is one read for both.
    expect(s.pending).toHaveLength(2);
    s.pending[1]!.resolve(9);
    expect(await late1).toBe(9);
    expect(await late2).toBe(9);
    // Idle again: the next caller starts a read of its own at once.
    const again = barrier.revision();
    expect(s.pending).toHaveLength(3);
    s.pending[2]!.resolve(10);
    expect(await again).toBe(10);
  });

  it('passes a failed read to its callers, and those waiting behind it get a fresh read', async () => {
    const s = source();
    const barrier = new ReadBarrier(s.read);
    const failing = barrier.revision();
    const behind = barrier.revision();
    s.pending[0]!.reject(new Error('store unavailable'));
    await expect(failing).rejects.toThrow('store unavailable');
    await tick();
    s.pending[1]!.resolve(3);
    expect(await behind).toBe(3);
  });
});
