import { afterEach, describe, expect, it, vi } from 'vitest';
import { startPeriodic } from './periodic.js';

afterEach(() => vi.useRealTimers());

describe('startPeriodic', () => {
  it('runs a pass each interval, never two at once, logs a failure and goes on; stop waits for the pass in flight', async () => {
    vi.useFakeTimers();
    const errors: string[] = [];
    let release!: () => void;
    let passes = 0;
    let fail = true;
    const periodic = startPeriodic({
      log: { error: (_c, m) => errors.push(m) },
      what: 'sweep',
      intervalMs: 1_000,
      run: async () => {
        passes++;
        if (fail) {
          fail = false;
          throw new Error('boom');
        }
        await new Promise<void>((r) => (release = r));
      },
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(passes).toBe(1);
    expect(errors).toEqual(['sweep failed']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(passes).toBe(2);
    // The second pass is still running: further ticks start nothing.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(passes).toBe(2);
    let stopped = false;
    const stopping = periodic.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(passes).toBe(2);
  });
});
