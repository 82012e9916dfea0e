import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../api/auth/credentials.js';
import { DEDUP_WINDOW_MS, QueueEngine } from './engine.js';
import type { Queue } from './queue.js';
import { defaultAttributes } from './queue-attributes.js';
import { QueueLog } from './queue-log.js';
import type { QueueRecord } from './records.js';
import { prepareSend } from './send.js';

const ROOT: Principal = { type: 'Root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000' };
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

/** An engine whose records are kept (the log's place), with a queue or two, on a clock the test moves. */
function setup() {
  const records: QueueRecord[] = [];
  const engine = new QueueEngine({ sink: (r) => records.push(r), arnOf });
  let receipts = 0;
  const create = (name: string, attributes: Record<string, string> = {}, fifo = false) => {
    engine.commit({ t: 'queue', queue: { name, attributes: { ...defaultAttributes(fifo), ...attributes }, tags: {}, createdAt: 0, modifiedAt: 0 } });
    return engine.queues.get(name)!;
  };
  const send = (q: Queue, body: string, now: number, extra: Record<string, unknown> = {}) => {
    const { data, visibleAt } = prepareSend(q, { MessageBody: body, ...extra }, now, ROOT);
    if (q.fifo && data.dedupId !== undefined) {
      const earlier = engine.duplicateOf(q, data.groupId, data.dedupId, now);
      if (earlier) return earlier.id;
    }
    engine.commit({ t: 'send', q: q.data.name, m: data, visibleAt });
    return data.id;
  };
  const receive = (q: Queue, now: number, max = 10, visibilityMs = 30_000) => engine.receive(q, now, max, visibilityMs, () => `r${++receipts}`).map((m) => m.data.body);
  return { engine, records, create, send, receive };
}

describe('visibility (fake time)', () => {
  it('hides a received message for its timeout, then redelivers it with a higher receive count', () => {
    const { create, send, receive, engine } = setup();
    const q = create('jobs');
    send(q, 'a', 1_000);
    expect(receive(q, 1_000, 10, 5_000)).toEqual(['a']);
    expect(receive(q, 5_999)).toEqual([]);
    expect(q.counts(5_999)).toMatchObject({ visible: 0, inFlight: 1 });
    expect(q.nextVisibleAt(5_999)).toBe(6_000);
    expect(receive(q, 6_000)).toEqual(['a']);
    expect(q.messages.values().next().value!.receives).toBe(2);
    expect(engine.activity.get('jobs')).toEqual({ sent: 1, received: 2, deleted: 0 });
  });

  it('delays messages by the queue DelaySeconds or the message own, and expires them after the retention period', () => {
    const { create, send, receive } = setup();
    const q = create('slow', { DelaySeconds: '10', MessageRetentionPeriod: '60' });
    send(q, 'queue-delay', 0);
    send(q, 'own-delay', 0, { DelaySeconds: 2 });
    expect(q.counts(1_000)).toMatchObject({ delayed: 2, visible: 0 });
    expect(receive(q, 2_000)).toEqual(['own-delay']);
    expect(receive(q, 10_000)).toEqual(['queue-delay']);
    send(q, 'old', 0, { DelaySeconds: 0 });
    expect(receive(q, 60_000)).toEqual([]);
    expect([...q.messages.values()].map((m) => m.data.body)).not.toContain('old');
  });

  it('moves a message to the dead-letter queue at the receive after maxReceiveCount', () => {
    const { create, send, receive } = setup();
    const dlq = create('dlq');
    const q = create('src', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf('dlq'), maxReceiveCount: 2 }) });
    send(q, 'poison', 0);
    expect(receive(q, 0, 1, 1_000)).toEqual(['poison']);
    expect(receive(q, 1_000, 1, 1_000)).toEqual(['poison']);
    expect(receive(q, 2_000, 1, 1_000)).toEqual([]);
    expect(q.messages.size).toBe(0);
    const moved = [...dlq.messages.values()][0]!;
    expect(moved.data.body).toBe('poison');
    expect(moved.data.deadLetterSourceArn).toBe(arnOf('src'));
    expect(receive(dlq, 2_000)).toEqual(['poison']);
  });
});

describe('FIFO', () => {
  it('keeps order within a group and holds a group while a message of it is in flight', () => {
    const { create, send, receive, engine } = setup();
    const q = create('o.fifo', { ContentBasedDeduplication: 'true' }, true);
    for (const body of ['a1', 'a2', 'a3']) send(q, body, 0, { MessageGroupId: 'a' });
    send(q, 'b1', 0, { MessageGroupId: 'b' });
    expect(receive(q, 0, 2)).toEqual(['a1', 'a2']);
    expect(receive(q, 0, 10)).toEqual(['b1']);
    const a1 = [...q.messages.values()].find((m) => m.data.body === 'a1')!;
    engine.commit({ t: 'del', q: 'o.fifo', id: a1.data.id });
    // a2 is still in flight: a3 waits for it.
    expect(receive(q, 1_000, 10)).toEqual([]);
    expect(receive(q, 30_000, 10)).toEqual(['a2', 'a3', 'b1']);
  });

  it('deduplicates within five minutes, by explicit id or by the body hash, and numbers messages in order', () => {
    const { create, send } = setup();
    const q = create('d.fifo', { ContentBasedDeduplication: 'true' }, true);
    const first = send(q, 'same', 0, { MessageGroupId: 'g' });
    expect(send(q, 'same', DEDUP_WINDOW_MS - 1, { MessageGroupId: 'g' })).toBe(first);
    expect(send(q, 'other body', 1, { MessageGroupId: 'g', MessageDeduplicationId: [...q.dedup.keys()][0] })).toBe(first);
    const later = send(q, 'same', DEDUP_WINDOW_MS, { MessageGroupId: 'g' });
    expect(later).not.toBe(first);
    const seqs = [...q.messages.values()].map((m) => m.data.seq!);
    expect(seqs).toHaveLength(2);
    expect(BigInt(seqs[1]!)).toBeGreaterThan(BigInt(seqs[0]!));
    expect(seqs[0]).toMatch(/^\d{20}$/);
  });

  it('refuses a message without a group, or without a deduplication id when content-based deduplication is off', () => {
    const { create, send } = setup();
    const q = create('r.fifo', {}, true);
    expect(() => send(q, 'x', 0)).toThrow(/MessageGroupId/);
    expect(() => send(q, 'x', 0, { MessageGroupId: 'g' })).toThrow(/ContentBasedDeduplication/);
    expect(() => send(q, 'x', 0, { MessageGroupId: 'g', MessageDeduplicationId: 'd', DelaySeconds: 1 })).toThrow(/DelaySeconds/);
  });
});

describe('the queue log', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('replays to the same state, cuts a torn last line, and compacts to a snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-queue-log-'));
    dirs.push(dir);
    const path = join(dir, 'queues.log');
    const open = (compactBytes?: number) => {
      let log: QueueLog | undefined;
      const engine = new QueueEngine({ sink: (r) => log!.append(r), arnOf });
      log = new QueueLog({ path, snapshot: () => engine.snapshot(0), ...(compactBytes !== undefined ? { compactBytes } : {}) }, (r) => engine.replay(r));
      return { engine, log };
    };
    const first = open();
    first.engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
    const q = first.engine.queues.get('q')!;
    for (let i = 0; i < 3; i++) {
      const { data, visibleAt } = prepareSend(q, { MessageBody: `m${i}` }, 0, ROOT);
      first.engine.commit({ t: 'send', q: 'q', m: data, visibleAt });
    }
    first.engine.receive(q, 0, 1, 60_000, () => 'r1');
    await first.log.durable();
    first.log.close();
    appendFileSync(path, '{"t":"del","q":"q","id":');
    const second = open(1);
    const replayed = second.engine.queues.get('q')!;
    expect(replayed.counts(1_000)).toEqual({ visible: 2, inFlight: 1, delayed: 0, oldestSentAt: 0 });
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    // Over the (tiny) compaction size: the next commit starts a compaction; once it is ready, a commit renames it
    // over the log (the state's records, then what was written after the capture).
    second.engine.commit({ t: 'purge', q: 'q', at: 5 });
    await second.log.durable();
    await vi.waitFor(() => expect(second.log.compacting()).toBe('ready'), { timeout: 10_000 });
    second.engine.commit({ t: 'queue', queue: { ...replayed.data, tags: { k: 'v' } } });
    await second.log.durable();
    second.log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as QueueRecord);
    expect(lines.map((r) => r.t)).toEqual(['queue', 'queue']);
    const third = open();
    expect(third.engine.queues.get('q')!.messages.size).toBe(0);
    expect(third.engine.queues.get('q')!.data.purgedAt).toBe(5);
    expect(third.engine.queues.get('q')!.data.tags).toEqual({ k: 'v' });
    third.log.close();
    writeFileSync(path, '');
  });
});
