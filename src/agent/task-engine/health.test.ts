import { describe, expect, it, vi } from 'vitest';
import { HealthMonitor, healthCommand, initialHealth, nextHealth, type HealthState } from './health.js';

const run = (results: boolean[], retries = 3, startPeriodChecks = 0): HealthState['status'][] => {
  let state = initialHealth;
  return results.map((passed, i) => (state = nextHealth(state, passed, i < startPeriodChecks, retries)).status);
};

describe('health state', () => {
  it('becomes HEALTHY on the first pass and UNHEALTHY after `retries` failures in a row', () => {
    expect(run([true, false, false, false, true], 3)).toEqual(['HEALTHY', 'HEALTHY', 'HEALTHY', 'UNHEALTHY', 'HEALTHY']);
    expect(run([false, false], 2)).toEqual(['UNKNOWN', 'UNHEALTHY']);
    expect(run([false, true, false, false], 3)).toEqual(['UNKNOWN', 'HEALTHY', 'HEALTHY', 'HEALTHY']);
  });

  it('does not count failures during the start period, but a pass ends it', () => {
    expect(run([false, false, false, false], 1, 3)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNHEALTHY']);
    expect(run([false, true], 1, 2)).toEqual(['UNKNOWN', 'HEALTHY']);
  });

  it('runs CMD as given and CMD-SHELL through sh -c', () => {
    expect(healthCommand({ command: ['CMD', 'wget', '-q', 'localhost'] })).toEqual(['wget', '-q', 'localhost']);
    expect(healthCommand({ command: ['CMD-SHELL', 'test -f /tmp/ok || exit 1'] })).toEqual(['/bin/sh', '-c', 'test -f /tmp/ok || exit 1']);
  });
});

describe('HealthMonitor', () => {
  it('checks every interval inside the container and reports each change of status', async () => {
    vi.useFakeTimers();
    try {
      const results = [0, 1, 1, 0];
      const calls: (readonly string[])[] = [];
      const runtime = {
        exec: async (_id: string, args: readonly string[]) => {
          calls.push(args);
          return { exitCode: results.shift() ?? 0, timedOut: false };
        },
      };
      const changes: string[] = [];
      const monitor = new HealthMonitor(runtime, 'c1', { command: ['CMD-SHELL', 'true'], interval: 5, retries: 2 }, 0, (s) => changes.push(s), () => Date.now());
      monitor.start();
      await vi.advanceTimersByTimeAsync(4_999);
      expect(calls).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(changes).toEqual(['HEALTHY']);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(changes).toEqual(['HEALTHY', 'UNHEALTHY']);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(changes).toEqual(['HEALTHY', 'UNHEALTHY', 'HEALTHY']);
      expect(calls[0]).toEqual(['/bin/sh', '-c', 'true']);
      monitor.stop();
      await vi.advanceTimersByTimeAsync(20_000);
      expect(calls).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('counts a timed-out check as a failure', async () => {
    vi.useFakeTimers();
    try {
      const runtime = { exec: async () => ({ exitCode: 0, timedOut: true }) };
      const changes: string[] = [];
      new HealthMonitor(runtime, 'c1', { command: ['CMD', 'sleep', '9'], interval: 5, timeout: 2, retries: 1 }, 0, (s) => changes.push(s)).start();
      await vi.advanceTimersByTimeAsync(5_000);
      expect(changes).toEqual(['UNHEALTHY']);
    } finally {
      vi.useRealTimers();
    }
  });
});
