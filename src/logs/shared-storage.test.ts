import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import type { Store } from '../store/store.js';
import { startApiFixture } from '../testing/api-server.js';
import type { LogsEnv } from './env.js';
import { filterEventOperations } from './filter-events.js';
import { logEventOperations } from './log-events.js';
import { logGroupOperations } from './log-groups.js';
import { logStreamOperations } from './log-streams.js';
import { startLogSweep } from './retention-sweep.js';
import { logKeys } from './storage/keys.js';
import { LogStorage } from './storage/log-storage.js';

/** One "replica": the log service's operations over its own LogStorage (own caches) on a shared Store and directory. */
function replica(store: Store, dir: string, now: () => number = Date.now) {
  const env: LogsEnv = { storage: new LogStorage(store, dir), scope: { region: 'us-east-1', accountId: '123456789012' }, now };
  return { ...logGroupOperations(env), ...logStreamOperations(env), ...logEventOperations(env), ...filterEventOperations(env) };
}

const DAY = 86_400_000;
const silent = pino({ level: 'silent' });
let store: MemoryStore;
let dir: string;
beforeEach(() => {
  store = new MemoryStore();
  dir = mkdtempSync(join(tmpdir(), 'berth-logs-test-'));
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const chunkFiles = (streamDirs = readdirSync(join(dir, 'logs'))) => streamDirs.flatMap((s) => readdirSync(join(dir, 'logs', s)));
const messages = (r: { events?: { message?: string }[] }) => r.events!.map((e) => e.message);

describe('two replicas on one Store and directory', () => {
  it('reads through one what the other acknowledged, following a stream across replicas', async () => {
    const a = replica(store, dir);
    const b = replica(store, dir);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await b.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    const t = Date.now() - 10_000;
    await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: t, message: 'from a' }] });
    const first = await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true });
    expect(messages(first)).toEqual(['from a']);

    // b has the stream's index cached now; a batch through a must still show up on b's forward token, and vice versa.
    await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: t, message: 'a again' }] });
    await b.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: t + 1, message: 'from b' }] });
    const next = await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: first.nextForwardToken });
    expect(messages(next)).toEqual(['a again', 'from b']);
    expect(messages(await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's' }))).toEqual(['from a', 'a again', 'from b']);

    const [desc] = (await b.DescribeLogStreams({ logGroupName: 'g' })).logStreams!;
    expect(desc).toMatchObject({ firstEventTimestamp: t, lastEventTimestamp: t + 1 });
    const { logGroups } = await a.DescribeLogGroups({});
    expect(logGroups![0]!.storedBytes).toBe('from a'.length + 'a again'.length + 'from b'.length);
    expect(messages(await a.FilterLogEvents({ logGroupName: 'g', filterPattern: 'again' }))).toEqual(['a again']);
  });

  it('loses nothing when both write the same stream at once', async () => {
    const a = replica(store, dir);
    const b = replica(store, dir);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    const t = Date.now() - 10_000;
    const put = (r: typeof a, name: string, i: number) =>
      r.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: t + i, message: `${name}${i}` }] });
    await Promise.all(Array.from({ length: 20 }, (_, i) => [put(a, 'a', i), put(b, 'b', i)]).flat());
    const got = await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true });
    expect(got.events).toHaveLength(40);
    expect(got.events!.map((e) => e.timestamp)).toEqual([...got.events!.map((e) => e.timestamp!)].sort((x, y) => x - y));
    // Forty batches, forty chunks: each commit took its own seq.
    expect(await store.count('logs/chunks/')).toBe(40);
  });

  it('hides a deleted group at once on every replica; a group made again under its name starts empty; the sweep purges the old one', async () => {
    const a = replica(store, dir);
    const b = replica(store, dir);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'old' }] });
    await b.DeleteLogGroup({ logGroupName: 'g' });
    await b.CreateLogGroup({ logGroupName: 'g' });
    await b.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    expect((await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's' })).events).toEqual([]);
    const sweep = startLogSweep({ store, dir, now: Date.now, log: silent });
    try {
      expect(await sweep.runOnce()).toMatchObject({ purged: 1 });
      expect(chunkFiles()).toEqual([]);
      expect(await store.count(logKeys.groupPurges)).toBe(0);
      expect(await store.count(logKeys.streamPurges)).toBe(0);
    } finally {
      await sweep.stop();
    }
  });
});

/** A Store whose next transaction "crashes" the server: it throws without committing. */
function crashingOnce(inner: Store): Store & { armed: boolean } {
  const s = Object.create(inner) as Store & { armed: boolean };
  s.armed = false;
  s.txn = async (compares, ops) => {
    if (s.armed) {
      s.armed = false;
      throw new Error('crash before the commit');
    }
    return inner.txn(compares, ops);
  };
  return s;
}

describe('a crash between the chunk file and the commit', () => {
  it('leaves no visible events, and the sweep removes the orphan file after the grace period', async () => {
    const crashing = crashingOnce(store);
    const a = replica(crashing, dir);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    crashing.armed = true;
    await expect(a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'lost' }] })).rejects.toThrow(
      'crash before the commit',
    );
    expect(chunkFiles()).toHaveLength(1);
    const b = replica(store, dir);
    expect((await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's' })).events).toEqual([]);
    expect((await b.DescribeLogStreams({ logGroupName: 'g' })).logStreams![0]!.lastIngestionTime).toBeUndefined();

    let now = Date.now();
    const sweep = startLogSweep({ store, dir, now: () => now, log: silent, orphanGraceMs: 60_000 });
    try {
      expect((await sweep.runOnce()).orphans).toBe(0); // young: may be a write in flight
      expect(chunkFiles()).toHaveLength(1);
      now += 61_000;
      expect((await sweep.runOnce()).orphans).toBe(1);
      expect(chunkFiles()).toEqual([]);
    } finally {
      await sweep.stop();
    }
    // The stream goes on: the next batch takes the seq the crashed one never got.
    await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'kept' }] });
    expect(messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's' }))).toEqual(['kept']);
  });
});

describe('retention', () => {
  it('drops whole chunks past retention, keeps their files for the grace period, and readers with a cached index go on', async () => {
    let now = Date.now();
    const a = replica(store, dir, () => now);
    const b = replica(store, dir, () => now);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    const put = (ts: number, message: string) => a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: ts, message }] });
    await put(now - 3 * DAY, 'old1');
    await put(now - 2 * DAY, 'old2');
    await put(now - 1_000, 'new');
    expect(messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true }))).toEqual(['old1', 'old2', 'new']);
    await a.PutRetentionPolicy({ logGroupName: 'g', retentionInDays: 1 });

    const sweep = startLogSweep({ store, dir, now: () => now, log: silent, orphanGraceMs: 60_000 });
    try {
      expect(await sweep.runOnce()).toMatchObject({ expired: 2, orphans: 0 });
      const { logGroups } = await b.DescribeLogGroups({});
      expect(logGroups![0]!.storedBytes).toBe(3);
      expect(chunkFiles()).toHaveLength(3); // retired, not yet removed
      expect(messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true }))).toEqual(['new']);
      now += 61_000;
      expect((await sweep.runOnce()).orphans).toBe(2);
      expect(chunkFiles()).toHaveLength(1);
      expect(messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's' }))).toEqual(['new']);
    } finally {
      await sweep.stop();
    }
  });

  it('a token into a trimmed chunk still pages from the same place', async () => {
    const now = Date.now();
    const a = replica(store, dir);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    const events = [now - 3 * DAY, now - 3 * DAY, now - 5_000, now - 4_000, now - 3_000].map((timestamp, i) => ({ timestamp, message: `e${i}` }));
    await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: events });
    const page = await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true, limit: 3 });
    expect(messages(page)).toEqual(['e0', 'e1', 'e2']);
    await a.PutRetentionPolicy({ logGroupName: 'g', retentionInDays: 1 });
    const sweep = startLogSweep({ store, dir, now: Date.now, log: silent });
    try {
      expect((await sweep.runOnce()).expired).toBe(2);
    } finally {
      await sweep.stop();
    }
    expect(messages(await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: page.nextForwardToken }))).toEqual(['e3', 'e4']);
    expect((await a.DescribeLogGroups({})).logGroups![0]!.storedBytes).toBe(6);
  });
});

describe('compaction', () => {
  it('merges a run of small chunks into one; tokens from before still page from the same place', async () => {
    let now = Date.now();
    const a = replica(store, dir, () => now);
    const b = replica(store, dir, () => now);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    const t = now - 60_000;
    // Ten batches; the last two overlap in time with earlier ones, and timestamps repeat across batches.
    for (let i = 0; i < 10; i++) {
      const ts = i < 8 ? t + i : t + i - 5;
      await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: ts, message: `m${i}a` }, { timestamp: ts, message: `m${i}b` }] });
    }
    const before = await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true });
    const all = messages(before);
    const page = await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true, limit: 7 });
    const back = await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', limit: 5 });

    const sweep = startLogSweep({ store, dir, now: () => now, log: silent, orphanGraceMs: 60_000 });
    try {
      expect(await sweep.runOnce()).toMatchObject({ merged: 9, orphans: 0 });
      expect(await store.count('logs/chunks/')).toBe(1);
      expect(messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true }))).toEqual(all);
      expect(messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: page.nextForwardToken }))).toEqual(all.slice(7));
      expect(messages(await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: back.nextBackwardToken }))).toEqual(all.slice(0, 15));
      expect(messages(await a.FilterLogEvents({ logGroupName: 'g' }))).toEqual(all);
      expect((await a.DescribeLogGroups({})).logGroups![0]!.storedBytes).toBe(all.join('').length);
      // The old files stay for readers that loaded the index before the merge, then go.
      expect(chunkFiles()).toHaveLength(11);
      now += 61_000;
      expect((await sweep.runOnce()).orphans).toBe(10);
      expect(chunkFiles()).toHaveLength(1);
      // A new batch after the merge takes the next seq and sorts by time among the merged events.
      await a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: t + 3, message: 'late' }] });
      const after = messages(await b.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true }));
      expect(after.filter((m) => m !== 'late')).toEqual(all);
      // At t + 3: batch 3's events, batch 8's (t + 8 - 5), then this one, by arrival.
      expect(after.slice(after.indexOf('m3a'), after.indexOf('late') + 1)).toEqual(['m3a', 'm3b', 'm8a', 'm8b', 'late']);
    } finally {
      await sweep.stop();
    }
  });
});

describe('chunks that overlap in time', () => {
  it('are read interleaved by time, then by arrival, forward and backward, one event a page', async () => {
    const a = replica(store, dir);
    await a.CreateLogGroup({ logGroupName: 'g' });
    await a.CreateLogStream({ logGroupName: 'g', logStreamName: 's' });
    const t = Date.now() - 10_000;
    const put = (pairs: [number, string][]) =>
      a.PutLogEvents({ logGroupName: 'g', logStreamName: 's', logEvents: pairs.map(([dt, message]) => ({ timestamp: t + dt, message })) });
    await put([[10, 'a10'], [30, 'a30'], [30, 'a30b']]);
    await put([[20, 'b20'], [30, 'b30'], [40, 'b40']]);
    await put([[5, 'c5']]);
    const all = ['c5', 'a10', 'b20', 'a30', 'a30b', 'b30', 'b40'];
    const seen: string[] = [];
    let r = await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', startFromHead: true, limit: 1 });
    while (r.events!.length) {
      seen.push(...messages(r).map(String));
      r = await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: r.nextForwardToken, limit: 1 });
    }
    expect(seen).toEqual(all);
    const back: string[] = [];
    r = await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', limit: 2 });
    while (r.events!.length) {
      back.unshift(...messages(r).map(String));
      r = await a.GetLogEvents({ logGroupName: 'g', logStreamName: 's', nextToken: r.nextBackwardToken, limit: 2 });
    }
    expect(back).toEqual(all);
    expect(messages(await a.FilterLogEvents({ logGroupName: 'g' }))).toEqual(all);
  });
});

describe('the server with the memory store', () => {
  it('keeps chunk files in a temporary directory that it removes at stop', async () => {
    const api = await startApiFixture();
    const { dir: logsDir } = api.server.logs;
    try {
      expect(existsSync(logsDir)).toBe(true);
    } finally {
      await api.stop();
    }
    expect(existsSync(logsDir)).toBe(false);
  });
});
