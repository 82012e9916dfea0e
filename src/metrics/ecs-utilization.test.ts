import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Sample } from './metric-store.js';
import type { ClusterFigures } from './ecs-figures-exchange.js';
import { UtilizationAggregator } from './ecs-utilization-aggregator.js';
import { clusterSamples, serviceUtilization, type TaskFigures } from './ecs-utilization.js';

const task = (arn: string, cpuUsed: number, memoryUsed: number, cpuReserved = 256, memoryReserved = 128, serviceName: string | null = 'web'): TaskFigures => ({
  taskArn: arn,
  ...(serviceName !== null ? { serviceName } : {}),
  cpuUsed,
  memoryUsed,
  cpuReserved,
  memoryReserved,
});
const find = (samples: Sample[], name: string, withService: boolean) =>
  samples.find((s) => s.series.name === name && s.series.dimensions.some((d) => d.Name === 'ServiceName') === withService);
const average = (s: Sample | undefined) => s && s.sum / s.count;

describe('serviceUtilization', () => {
  it('is Σ used × 100 / Σ reserved, with the least and most utilized task as Minimum and Maximum', () => {
    // One task burns a whole CPU against 256 units, the other idles: (1024 + 0) × 100 / 512 = 200 %.
    const set = serviceUtilization([task('a', 1024, 10), task('b', 0, 6)], 'cpu')!;
    expect(set.count).toBe(2);
    expect(set.sum / set.count).toBeCloseTo(200);
    expect(set.min).toBe(0);
    expect(set.max).toBeCloseTo(400);
    const mem = serviceUtilization([task('a', 1024, 10), task('b', 0, 6)], 'memory')!;
    expect(mem.sum / mem.count).toBeCloseTo(6.25);
  });

  it('weighs tasks by their reservation, not one vote each', () => {
    // 100 of 100 and 0 of 300: ECS's ratio is 25 %, not the 50 % a mean of per-task percentages would give.
    const set = serviceUtilization([task('a', 100, 0, 100), task('b', 0, 0, 300)], 'cpu')!;
    expect(set.sum / set.count).toBeCloseTo(25);
  });

  it('has no datapoint when nothing is reserved; an unreserved task still adds its use', () => {
    expect(serviceUtilization([task('a', 500, 10, 0, 0)], 'cpu')).toBeUndefined();
    const set = serviceUtilization([task('a', 512, 0, 0), task('b', 0, 0, 512)], 'cpu')!;
    expect(set.sum / set.count).toBeCloseTo(100);
    expect(set.count).toBe(1);
  });
});

describe('clusterSamples', () => {
  it('writes per service and per cluster utilization, and the cluster reservation', () => {
    const capacity = { cpuRegistered: 2048, memoryRegistered: 4096, cpuReserved: 768, memoryReserved: 384 };
    const samples = clusterSamples('c1', 600, [task('a', 1024, 64), task('b', 0, 0), task('solo', 512, 64, 256, 128, null)], capacity);
    expect(samples.every((s) => s.series.namespace === 'AWS/ECS' && s.unit === 'Percent' && s.t === 600)).toBe(true);
    expect(find(samples, 'CPUUtilization', true)!.series.dimensions).toEqual([
      { Name: 'ClusterName', Value: 'c1' },
      { Name: 'ServiceName', Value: 'web' },
    ]);
    expect(average(find(samples, 'CPUUtilization', true))).toBeCloseTo(200);
    expect(average(find(samples, 'MemoryUtilization', true))).toBeCloseTo(25);
    expect(average(find(samples, 'CPUUtilization', false))).toBeCloseTo((1536 * 100) / 2048);
    expect(average(find(samples, 'MemoryUtilization', false))).toBeCloseTo((128 * 100) / 4096);
    expect(average(find(samples, 'CPUReservation', false))).toBeCloseTo(37.5);
    expect(average(find(samples, 'MemoryReservation', false))).toBeCloseTo(9.375);
  });

  it('writes no cluster-level figure without registered capacity', () => {
    const samples = clusterSamples('c1', 600, [task('a', 1, 1)], undefined);
    expect(samples.map((s) => s.series.name).sort()).toEqual(['CPUUtilization', 'MemoryUtilization']);
  });
});

describe('UtilizationAggregator (fake time)', () => {
  afterEach(() => vi.useRealTimers());

  type Published = { startS: number; figures: ClusterFigures };
  const cpu = (p: Published, cluster = 'c1') => p.figures[cluster]!.map((f) => [f.taskArn, f.cpuUsed]);

  it('hands each whole minute on once, after its grace, with a task counted once per minute', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 - (1_800_000_000_000 % 60_000) + 10_000 }); // 10 s into a minute
    const published: Published[] = [];
    const agg = new UtilizationAggregator({ publish: async (startS, figures) => void published.push({ startS, figures }), now: Date.now, graceMs: 5_000 });
    agg.start(1_000);
    const minute0 = Math.floor(Date.now() / 60_000) * 60;
    agg.add('c1', [task('a', 100, 10)]);
    await vi.advanceTimersByTimeAsync(20_000);
    agg.add('c1', [task('a', 300, 10), task('b', 0, 10)]); // a again, same minute: its latest figures count
    agg.add('c2', [task('z', 1, 1)]);
    await vi.advanceTimersByTimeAsync(29_000); // 59 s: the minute is not over
    expect(published).toEqual([]);
    await vi.advanceTimersByTimeAsync(5_000); // 64 s: over, but inside the grace
    expect(published).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000); // 66 s
    expect(published).toHaveLength(1);
    expect(published[0]!.startS).toBe(minute0);
    expect(cpu(published[0]!)).toEqual([
      [task('a', 0, 0).taskArn, 300],
      [task('b', 0, 0).taskArn, 0],
    ]);
    expect(Object.keys(published[0]!.figures)).toEqual(['c1', 'c2']);
    // The next minute had no figures: nothing more is handed on.
    await vi.advanceTimersByTimeAsync(120_000);
    expect(published).toHaveLength(1);
    agg.add('c1', [task('a', 50, 10)]);
    await vi.advanceTimersByTimeAsync(70_000);
    expect(published.map((p) => p.startS)).toEqual([minute0, minute0 + 180]);
    agg.stop();
  });

  it('under the test-only time scale, hands on each shorter period', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 - (1_800_000_000_000 % 60_000) + 1_000 });
    const published: Published[] = [];
    const agg = new UtilizationAggregator({ publish: async (startS, figures) => void published.push({ startS, figures }), now: Date.now, periodS: 5, graceMs: 400 });
    agg.start(200);
    const start = Math.floor(Date.now() / 5_000) * 5;
    agg.add('c1', [task('a', 128, 10)]);
    await vi.advanceTimersByTimeAsync(4_000); // 5 s: the period is over, inside its grace
    expect(published).toEqual([]);
    agg.add('c1', [task('a', 256, 10)]); // the next period's
    await vi.advanceTimersByTimeAsync(600);
    expect(published.map((p) => [p.startS, cpu(p)[0]![1]])).toEqual([[start, 128]]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(published.map((p) => [p.startS, cpu(p)[0]![1]])).toEqual([
      [start, 128],
      [start + 5, 256],
    ]);
    agg.stop();
  });
});
