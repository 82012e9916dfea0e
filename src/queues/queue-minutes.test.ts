import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../api/auth/credentials.js';
import { MetricStore, type Sample } from '../metrics/metric-store.js';
import { defaultAttributes } from './queue-attributes.js';
import { QueueHost } from './queue-host.js';
import { queueSeries } from './queue-metrics.js';
import { publishMinute } from './queue-minutes.js';
import { prepareSend } from './send.js';

const ROOT: Principal = { type: 'Root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000' };
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
const MINUTE = 60_000;

describe('AWS/SQS counts kept in the queue log', () => {
  const dirs: string[] = [];
  const stores: MetricStore[] = [];
  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-queue-minutes-'));
    dirs.push(dir);
    let now = 10 * MINUTE + 5_000;
    const metrics = new MetricStore(join(dir, 'metrics.db'), { now: () => now });
    stores.push(metrics);
    /** A process opening the queues, as QueueOwner does (which marks a new log as keeping counts). */
    const open = () => {
      const host = new QueueHost({ path: join(dir, 'queues.log'), arnOf, now: () => now });
      if (!host.engine.countsInLog) host.engine.commit({ t: 'counts', counts: {} });
      return host;
    };
    /** 3 sent, 2 received, 1 deleted in queue q. */
    const traffic = async (host: QueueHost) => {
      if (!host.engine.queues.has('q')) host.engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
      for (let i = 0; i < 3; i++) {
        const { data, visibleAt } = prepareSend(host.engine.queues.get('q')!, { MessageBody: `m${i}` }, now, ROOT);
        host.engine.commit({ t: 'send', q: 'q', m: data, visibleAt });
      }
      const { messages } = await host.receive('q', 2, 30_000, 0);
      host.engine.commit({ t: 'del', q: 'q', id: messages[0]!.data.id });
      await host.durable();
    };
    /** The sum of a count over every datapoint from minute 0 to `now`, and the datapoints' times (s). */
    const total = (metric: string) => {
      const points = metrics.query({ series: queueSeries('q', metric), start: 0, end: now / 1000 + 60, period: 60 });
      return { sum: points.reduce((s, p) => s + p.sum, 0), at: points.map((p) => p.t) };
    };
    const advance = (ms: number) => (now += ms);
    return { metrics, open, traffic, total, advance };
  };

  it('counts a crashed process made are published by the next, once', async () => {
    const { metrics, open, traffic, total, advance } = setup();
    const first = open();
    await traffic(first);
    // kill -9: no publication ran; the log holds the records.
    first.close();
    const second = open();
    expect(second.engine.activity.get('q')).toEqual({ sent: 3, received: 2, deleted: 1 });
    advance(MINUTE);
    await publishMinute({ host: second, metrics, highRes: false });
    expect(total('NumberOfMessagesSent')).toEqual({ sum: 3, at: [11 * 60] });
    expect(total('NumberOfMessagesReceived').sum).toBe(2);
    expect(total('NumberOfMessagesDeleted').sum).toBe(1);
    // And once published, a restart has nothing more to publish for them.
    await second.durable();
    second.close();
    const third = open();
    expect(third.engine.activity.size).toBe(0);
    expect(third.engine.unpublished.size).toBe(0);
    advance(MINUTE);
    await publishMinute({ host: third, metrics, highRes: false });
    expect(total('NumberOfMessagesSent')).toEqual({ sum: 3, at: [11 * 60, 12 * 60] });
    third.close();
  });

  it('a minute recorded but not put is put by the next owner; one put but not marked is not put again', async () => {
    const { metrics, open, traffic, total, advance } = setup();
    const first = open();
    await traffic(first);
    advance(MINUTE);
    // The minute is in the log; the put fails (the process dies before it).
    const failing = Object.create(metrics) as MetricStore;
    failing.put = () => Promise.reject(new Error('killed'));
    await expect(publishMinute({ host: first, metrics: failing, highRes: false })).rejects.toThrow('killed');
    first.close();
    const second = open();
    expect([...second.engine.unpublished.keys()]).toEqual([11 * MINUTE]);
    expect(second.engine.activity.size).toBe(0);
    await traffic(second);
    // The put succeeds and the process dies before the published record is written.
    // (Its first put is minute 11's recovery; the second, minute 12's.)
    let puts = 0;
    const dying = Object.create(metrics) as MetricStore;
    dying.put = async (samples: readonly Sample[]) => {
      await metrics.put(samples);
      if (++puts === 2) second.close();
    };
    advance(MINUTE);
    await publishMinute({ host: second, metrics: dying, highRes: false });
    // Minute 11 recovered (its counts), minute 12 put once.
    expect(total('NumberOfMessagesSent')).toEqual({ sum: 6, at: [11 * 60, 12 * 60] });
    const third = open();
    expect([...third.engine.unpublished.keys()]).toEqual([12 * MINUTE]);
    advance(MINUTE);
    await publishMinute({ host: third, metrics, highRes: false });
    expect(third.engine.unpublished.size).toBe(0);
    // Nothing counted twice: 13 holds zeros.
    expect(total('NumberOfMessagesSent')).toEqual({ sum: 6, at: [11 * 60, 12 * 60, 13 * 60] });
    expect(total('NumberOfMessagesDeleted').sum).toBe(2);
    third.close();
  });

  it('the counts and the minutes not yet published survive a compaction', async () => {
    const { open, traffic, advance } = setup();
    const first = open();
    await traffic(first);
    first.engine.commit({ t: 'minute', at: 11 * MINUTE, counts: { q: [3, 2, 1] } });
    await traffic(first);
    advance(MINUTE);
    const snapshot = [...first.engine.snapshot(0)];
    expect(snapshot.filter((r) => r.t === 'minute' || r.t === 'counts')).toEqual([
      { t: 'minute', at: 11 * MINUTE, counts: { q: [3, 2, 1] } },
      { t: 'counts', counts: { q: [3, 2, 1] }, last: 11 * MINUTE },
    ]);
    first.close();
  });
});
