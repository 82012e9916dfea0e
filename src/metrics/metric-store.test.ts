import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricStore, type Sample } from './metric-store.js';
import { seriesRef } from './series.js';
import { parseStatistic, statisticOf } from './statistics.js';

const cpu = seriesRef('App', 'Latency', [{ Name: 'Service', Value: 'web' }]);
const T0 = 1_780_000_000 - (1_780_000_000 % 216_000); // a 60-hour boundary: every level's row starts here
const one = (t: number, v: number, highRes = false): Sample => ({ series: cpu, unit: 'Milliseconds', t, highRes, count: 1, sum: v, min: v, max: v, values: [v], counts: [1] });

describe('MetricStore', () => {
  let dir: string;
  let nowMs: number;
  let store: MetricStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'metric-store-'));
    nowMs = (T0 + 600) * 1000;
    store = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aggregates per period, aligned to the start, across row boundaries', async () => {
    // One value a second for 10 minutes: ten rows of the per-second level, one of each coarser level.
    await store.put(Array.from({ length: 600 }, (_, i) => one(T0 + i, i, true)));
    const perMinute = store.query({ series: cpu, start: T0, end: T0 + 600, period: 60 });
    expect(perMinute).toHaveLength(10);
    expect(perMinute[1]).toMatchObject({ t: T0 + 60, count: 60, sum: (60 + 119) * 30, min: 60, max: 119 });
    const perSecond = store.query({ series: cpu, start: T0 + 30, end: T0 + 40, period: 1 });
    expect(perSecond.map((p) => p.sum)).toEqual([30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
    const tenSeconds = store.query({ series: cpu, start: T0 + 55, end: T0 + 75, period: 10 });
    expect(tenSeconds.map((p) => [p.t - T0, p.count, p.min, p.max])).toEqual([[55, 10, 55, 64], [65, 10, 65, 74]]);
    // 5-minute and 1-hour levels hold the same totals.
    expect(store.query({ series: cpu, start: T0, end: T0 + 600, period: 300 }).map((p) => p.count)).toEqual([300, 300]);
    expect(store.query({ series: cpu, start: T0, end: T0 + 3600, period: 3600 })).toMatchObject([{ t: T0, count: 600, min: 0, max: 599 }]);
  });

  it('writes rows whole per writer: two stores on one file (two replicas) add up', async () => {
    const other = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs });
    try {
      await Promise.all([store.put([one(T0 + 5, 1)]), other.put([one(T0 + 6, 3)])]);
      await store.put([one(T0 + 7, 5)]);
      expect(other.query({ series: cpu, start: T0, end: T0 + 60, period: 60 })).toMatchObject([{ count: 3, sum: 9, min: 1, max: 5 }]);
    } finally {
      other.close();
    }
  });

  it("a reader's cached rows and series give way to what any writer commits after", async () => {
    const other = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs });
    const minute = (s: MetricStore, series = cpu) => s.query({ series, start: T0, end: T0 + 60, period: 60 });
    try {
      await store.put([one(T0 + 5, 1)]);
      expect(minute(other)).toMatchObject([{ count: 1, sum: 1 }]);
      await store.put([one(T0 + 6, 3)]); // another connection's commit
      expect(minute(other)).toMatchObject([{ count: 2, sum: 4 }]);
      await other.put([one(T0 + 7, 5)]); // its own
      expect(minute(other)).toMatchObject([{ count: 3, sum: 9, min: 1, max: 5 }]);
      const fresh = seriesRef('App', 'Fresh', []);
      expect(minute(other, fresh)).toEqual([]);
      expect(minute(store, fresh)).toEqual([]);
      await store.put([{ ...one(T0 + 1, 2), series: fresh }]);
      expect(minute(other, fresh)).toHaveLength(1);
      expect(minute(store, fresh)).toHaveLength(1);
    } finally {
      other.close();
    }
  });

  it('reopened, it has what was acknowledged and adds to it (rows read back from disk)', async () => {
    await store.put([one(T0 + 1, 2)]);
    store.close();
    store = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs, cachedRows: 0 });
    await store.put([one(T0 + 2, 4)]);
    await store.put([one(T0 + 3, 6)]);
    expect(store.query({ series: cpu, start: T0, end: T0 + 60, period: 60 })).toMatchObject([{ count: 3, sum: 12 }]);
  });

  it('percentiles from the sketch are within 1 % and survive roll-ups', async () => {
    await store.put(Array.from({ length: 1000 }, (_, i) => one(T0 + (i % 600), i + 1)));
    const [hour] = store.query({ series: cpu, start: T0, end: T0 + 3600, period: 3600, sketches: true });
    for (const p of [50, 90, 99]) {
      const v = statisticOf(parseStatistic(`p${p}`)!, hour!)!;
      expect(Math.abs(v - p * 10) / (p * 10)).toBeLessThanOrEqual(0.01);
    }
    // Statistic sets carry no values: no percentile.
    await store.put([{ series: seriesRef('App', 'Set', []), unit: 'None', t: T0, highRes: false, count: 4, sum: 10, min: 1, max: 4 }]);
    const [set] = store.query({ series: seriesRef('App', 'Set', []), start: T0, end: T0 + 60, period: 60, sketches: true });
    expect(statisticOf(parseStatistic('p50')!, set!)).toBeUndefined();
    expect(statisticOf(parseStatistic('Average')!, set!)).toBe(2.5);
  });

  it('rolls minute sketches up once settled, so hour percentiles outlive the minutes', async () => {
    await store.put(Array.from({ length: 1000 }, (_, i) => one(T0 + (i % 600), i + 1)));
    const p90 = () => {
      const [hour] = store.query({ series: cpu, start: T0, end: T0 + 3600, period: 3600, sketches: true });
      return hour ? statisticOf(parseStatistic('p90')!, hour) : undefined;
    };
    const before = p90()!;
    expect(Math.abs(before - 900) / 900).toBeLessThanOrEqual(0.01);
    nowMs = (T0 + 14 * 86_400 + 3600 + 3599) * 1000; // the two 5-minute slots are settled, the hour not yet
    expect(store.sweep().rolled).toBe(2);
    nowMs = (T0 + 14 * 86_400 + 7200) * 1000;
    expect(store.sweep().rolled).toBe(1);
    expect(store.sweep().rolled).toBe(0); // nothing new to roll
    expect(p90()).toBe(before); // rolled, not counted twice
    nowMs = (T0 + 15 * 86_400 + 7200) * 1000; // the minutes are gone
    store.sweep();
    expect(store.query({ series: cpu, start: T0, end: T0 + 3600, period: 60 })).toEqual([]);
    expect(p90()).toBe(before);
  });

  it('keeps raw seconds 3 hours, minutes 15 days, 5 minutes 63 days, hours 15 months', async () => {
    await store.put([one(T0 + 1, 1, true)]);
    const has = (period: number) => store.query({ series: cpu, start: T0, end: T0 + 3600, period }).length === 1;
    const sweepAt = (s: number) => {
      nowMs = (T0 + s) * 1000;
      return store.sweep();
    };
    expect([has(1), has(60), has(300), has(3600)]).toEqual([true, true, true, true]);
    sweepAt(3 * 3600 + 59); // the second's row (T0..T0+60) is not yet 3 h past its end
    expect(has(1)).toBe(true);
    sweepAt(3 * 3600 + 61);
    expect([has(1), has(60)]).toEqual([false, true]);
    sweepAt(15 * 86_400 + 3601);
    expect([has(60), has(300)]).toEqual([false, true]);
    sweepAt(63 * 86_400 + 18_001);
    expect([has(300), has(3600)]).toEqual([false, true]);
    expect(store.list({ limit: 10 })).toHaveLength(1);
    const last = sweepAt(455 * 86_400 + 216_001);
    expect(has(3600)).toBe(false);
    expect(last.series).toBe(1);
    expect(store.list({ limit: 10 })).toHaveLength(0);
  });

  it('does not keep per-second data that is already older than 3 hours when it arrives', async () => {
    nowMs = (T0 + 5 * 3600) * 1000;
    await store.put([one(T0 + 1, 1, true)]);
    expect(store.query({ series: cpu, start: T0, end: T0 + 60, period: 1 })).toEqual([]);
    expect(store.query({ series: cpu, start: T0, end: T0 + 60, period: 60 })).toHaveLength(1);
  });

  it('lists a new series only once the commit of its data has made it durable', async () => {
    const put = store.put([one(T0 + 1, 2)]);
    // The series is recorded (it has an id the data is folded under), its data not committed yet.
    expect(store.list({ limit: 10 })).toEqual([]);
    await put;
    expect(store.list({ limit: 10 })).toMatchObject([{ namespace: 'App', name: 'Latency', unit: 'Milliseconds', lastPut: T0 + 600 }]);
  });

  it('lists by namespace, name, dimension filters, activity and after a key', async () => {
    const s = (ns: string, name: string, dims: Record<string, string>): Sample => ({ ...one(T0, 1), series: seriesRef(ns, name, Object.entries(dims).map(([Name, Value]) => ({ Name, Value }))) });
    await store.put([s('A', 'x', { k: '1' }), s('A', 'x', { k: '2' }), s('A', 'y', {}), s('B', 'x', { k: '1', j: '0' })]);
    expect(store.list({ namespace: 'A', limit: 10 }).map((r) => r.name)).toEqual(['x', 'x', 'y']);
    expect(store.list({ name: 'x', dimensions: [{ Name: 'k', Value: '1' }], limit: 10 }).map((r) => r.namespace)).toEqual(['A', 'B']);
    expect(store.list({ dimensions: [{ Name: 'j' }], limit: 10 })).toHaveLength(1);
    const first = store.list({ limit: 2 });
    expect(store.list({ limit: 10, after: first[1]!.key })).toHaveLength(2);
    nowMs += 4 * 3600 * 1000;
    await store.put([s('A', 'y', {})]);
    expect(store.list({ activeSince: T0 + 3600, limit: 10 }).map((r) => r.name)).toEqual(['y']);
  });

  describe('slot log and compaction', () => {
    const minute = (s: MetricStore) => s.query({ series: cpu, start: T0, end: T0 + 120, period: 60, sketches: true });
    const logged = () => {
      const db = new Database(join(dir, 'metrics.db'), { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM slot_log').pluck().get() as number;
      } finally {
        db.close();
      }
    };

    it('commits append changed slots; a compaction writes rows whole and drops their records; reads agree throughout', async () => {
      store.close();
      store = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs, compactEvery: 3 });
      const other = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs });
      try {
        await store.put([one(T0 + 1, 10)]);
        await store.put([one(T0 + 61, 20)]);
        expect(logged()).toBeGreaterThan(0);
        // Another replica reads the writer's log laid over its rows (none written yet).
        expect(minute(other)).toMatchObject([{ count: 1, sum: 10 }, { count: 1, sum: 20 }]);
        await store.put([one(T0 + 2, 30)]); // the third commit compacts
        expect(logged()).toBe(0);
        expect(minute(other)).toMatchObject([{ count: 2, sum: 40, min: 10, max: 30 }, { count: 1, sum: 20 }]);
        await store.put([one(T0 + 3, 40)]);
        const [first] = minute(other);
        expect(first).toMatchObject({ count: 3, sum: 80 });
        expect(statisticOf(parseStatistic('p100')!, first!)).toBe(40);
        expect([...first!.sketch!.values()].reduce((a, b) => a + b, 0)).toBe(3);
        expect(minute(store)).toEqual(minute(other));
      } finally {
        other.close();
      }
    });

    it("a writer gone between compactions: its log is read by the next process and folded into its rows by the leader's sweep", async () => {
      await store.put([one(T0 + 1, 2)]);
      await store.put([one(T0 + 2, 4)]);
      store.close(); // nothing is written on close: what it acknowledged is in the log
      expect(logged()).toBeGreaterThan(0);
      store = new MetricStore(join(dir, 'metrics.db'), { now: () => nowMs, cachedRows: 0 });
      await store.put([one(T0 + 3, 6)]);
      const before = minute(store);
      expect(before).toMatchObject([{ count: 3, sum: 12, min: 2, max: 6 }]);
      store.sweep();
      expect(logged()).toBe(0);
      expect(minute(store)).toEqual(before);
      await store.put([one(T0 + 4, 8)]);
      expect(minute(store)).toMatchObject([{ count: 4, sum: 20 }]);
    });

    it('checkpoints the write-ahead log from a worker thread between commits, so it is rewound rather than grown', async () => {
      const size = (file: string) => statSync(join(dir, file)).size;
      const schemaOnly = size('metrics.db');
      for (let i = 0; i < 70; i++) await store.put([one(T0 + (i % 60), i)]);
      // SQLite's own checkpoint would wait for 50,000 pages: the data reached the database file through the worker's.
      expect(size('metrics.db')).toBeGreaterThan(schemaOnly);
      const wal = size('metrics.db-wal');
      for (let i = 0; i < 70; i++) await store.put([one(T0 + (i % 60), i)]);
      // Not checkpointed, the log would have doubled; checkpointed between commits, it is written from its start again.
      expect(size('metrics.db-wal')).toBeLessThan(wal * 1.5);
      expect(store.query({ series: cpu, start: T0, end: T0 + 60, period: 60 })).toMatchObject([{ count: 140 }]);
    });
  });
});
