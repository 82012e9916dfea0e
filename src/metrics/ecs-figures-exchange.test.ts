import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import type { Sample } from './metric-store.js';
import { combineDue, figureKeys, mergeFigures, parseClusterFigures, publishFigures } from './ecs-figures-exchange.js';
import type { TaskFigures } from './ecs-utilization.js';

const task = (id: string, cpuUsed: number, serviceName = 'web'): TaskFigures => ({ taskArn: `arn:task/${id}`, serviceName, cpuUsed, memoryUsed: 64, cpuReserved: 256, memoryReserved: 128 });
const capacity = { cpuRegistered: 2048, memoryRegistered: 4096, cpuReserved: 768, memoryReserved: 384 };

function setup() {
  const store = new MemoryStore();
  let now = 1_800_000_000_000; // a minute boundary: 1,800,000,000 s = 30,000,000 min
  const written: Sample[][] = [];
  const combine = () =>
    combineDue({ store, capacity: () => capacity, write: async (s) => void written.push([...s]), now: () => now, periodS: 60, graceMs: 5_000 });
  return { store, combine, written, advance: (ms: number) => (now += ms), minute: now / 1000 - 60 };
}

const value = (samples: readonly Sample[], name: string, dims: string) =>
  samples.find((s) => s.series.name === name && s.series.dimensions.map((d) => d.Value).join('/') === dims);

describe('AWS/ECS figures from several replicas', () => {
  it('adds up a cluster split over two replicas (each alone would say half) and merges a service across them', async () => {
    const { store, combine, written, advance, minute } = setup();
    await publishFigures(store, 'replica-a', minute, { c1: [task('1', 256), task('2', 0)] });
    await publishFigures(store, 'replica-b', minute, { c1: [task('3', 512)] });
    // The period ended at `now`; replicas had their grace (5 s), the leader waits twice that.
    advance(9_999);
    expect(await combine()).toEqual([]);
    advance(1);
    expect(await combine()).toEqual([minute]);
    const samples = written[0]!;
    // Cluster: (256 + 0 + 512) × 100 / 2048 registered = 37.5 (per replica: 12.5 and 25).
    expect(value(samples, 'CPUUtilization', 'c1')).toMatchObject({ count: 1, sum: 37.5 });
    // Service: Σ used / Σ reserved = 768 / 768 = 100 %, min 0 (task 2), max 200 (task 3).
    expect(value(samples, 'CPUUtilization', 'c1/web')).toMatchObject({ count: 3, sum: 300, min: 0, max: 200 });
    expect(value(samples, 'CPUReservation', 'c1')).toMatchObject({ sum: 37.5 });
    expect((await store.range(figureKeys.all())).entries).toEqual([]);
  });

  it('writes a period once: figures arriving for it after the leader combined it are dropped unread', async () => {
    const { store, combine, written, advance, minute } = setup();
    await publishFigures(store, 'replica-a', minute, { c1: [task('1', 256)] });
    advance(10_000);
    await combine();
    await publishFigures(store, 'replica-b', minute, { c1: [task('2', 256)] });
    advance(60_000);
    expect(await combine()).toEqual([]);
    expect(written).toHaveLength(1);
    expect((await store.range(figureKeys.all())).entries).toEqual([]);
  });

  it('a task reported by two replicas in one period (its agent moved) counts once, with the figures read last', () => {
    const merged = mergeFigures([{ c1: [task('1', 100)] }, { c1: [task('1', 300), task('2', 50)], c2: [task('9', 1, 'api')] }]);
    expect(merged.get('c1')!.map((t) => [t.taskArn, t.cpuUsed])).toEqual([
      ['arn:task/1', 300],
      ['arn:task/2', 50],
    ]);
    expect([...merged.keys()]).toEqual(['c1', 'c2']);
  });

  it('skips a malformed value instead of writing it as metrics', async () => {
    expect(parseClusterFigures('not json')).toBeUndefined();
    expect(parseClusterFigures('{"c1":[{"taskArn":"t","cpuUsed":"1","memoryUsed":1,"cpuReserved":1,"memoryReserved":1}]}')).toBeUndefined();
    const { store, combine, written, advance, minute } = setup();
    await store.txn([], [{ type: 'put', key: figureKeys.figures(minute, 'broken'), value: '[1,2]' }]);
    advance(10_000);
    expect(await combine()).toEqual([]);
    expect(written).toEqual([]);
    expect((await store.range(figureKeys.all())).entries).toEqual([]);
  });

  it('under the test-only time scale, waits twice the shorter grace and writes high-resolution datapoints', async () => {
    const store = new MemoryStore();
    let now = 1_800_000_005_000;
    const written: Sample[][] = [];
    const combine = () => combineDue({ store, capacity: () => capacity, write: async (s) => void written.push([...s]), now: () => now, periodS: 5, graceMs: 400 });
    await publishFigures(store, 'replica-a', now / 1000 - 5, { c1: [task('1', 128)] });
    now += 799;
    expect(await combine()).toEqual([]);
    now += 1;
    expect(await combine()).toEqual([now / 1000 - 5.8]);
    expect(written[0]!.every((s) => s.highRes && s.t === 1_800_000_000)).toBe(true);
  });
});
