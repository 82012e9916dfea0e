import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PublishMetricsRequest } from '../model/acs.js';
import type { ContainerStats } from '../runtime/runtime.js';
import { cpuUnitsBetween, memoryMiB, MetricsPublisher } from './metrics-publisher.js';
import { systemTimers } from './task-engine/timers.js';

const reading = (readAt: number, cpuUsageNanos: number, memoryUsageBytes = 0, stat: Record<string, number> = {}): ContainerStats => ({
  readAt,
  cpuUsageNanos,
  memoryUsageBytes,
  memory: { stat },
});

describe('figures from cgroup readings', () => {
  it('CPU units are CPU time over wall time × 1024', () => {
    expect(cpuUnitsBetween(reading(0, 0), reading(60_000, 60e9))).toBeCloseTo(1024); // one whole CPU
    expect(cpuUnitsBetween(reading(0, 0), reading(60_000, 15e9))).toBeCloseTo(256);
    expect(cpuUnitsBetween(undefined, reading(60_000, 1))).toBeUndefined();
    expect(cpuUnitsBetween(reading(60_000, 5), reading(60_000, 9))).toBeUndefined(); // no time passed
    expect(cpuUnitsBetween(reading(0, 9e9), reading(60_000, 1))).toBeUndefined(); // a counter reset (a new container)
  });

  it('memory is usage less the inactive page cache, in MiB', () => {
    expect(memoryMiB(reading(0, 0, 10 * 1048576, { inactive_file: 4 * 1048576 }))).toBe(6);
    expect(memoryMiB(reading(0, 0, 10 * 1048576, { total_inactive_file: 1048576 }))).toBe(9);
    expect(memoryMiB(reading(0, 0, 3 * 1048576))).toBe(3);
  });
});

describe('MetricsPublisher (fake time)', () => {
  afterEach(() => vi.useRealTimers());

  it('takes a baseline at start and publishes each interval, summing a task’s containers', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    let cpu = 0;
    const sent: PublishMetricsRequest[] = [];
    const publisher = new MetricsPublisher({
      tasks: () => [{ arn: 'arn:aws:ecs:us-east-1:0:task/c/t1', runtimeIds: ['a', 'b'] }],
      // Container a burns half a CPU, b idles with 2 MiB.
      stats: async (id) => (id === 'a' ? reading(Date.now(), (cpu = (Date.now() - 1_000_000) * 0.5e6), 1048576) : reading(Date.now(), 0, 2 * 1048576)),
      send: (m) => sent.push(m),
      intervalMs: 60_000,
      timers: systemTimers,
      log: { error: () => undefined },
    });
    publisher.start();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(sent).toEqual([]); // the baseline alone says nothing
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.taskMetrics[0]!.cpuUsed).toBeCloseTo(512);
    expect(sent[0]!.taskMetrics[0]!.memoryUsed).toBeCloseTo(3);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent).toHaveLength(2);
    publisher.stop();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(sent).toHaveLength(2);
    expect(cpu).toBeGreaterThan(0);
  });
});
