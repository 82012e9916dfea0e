import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Principal } from '../api/auth/credentials.js';
import { QueueEngine } from './engine.js';
import { defaultAttributes } from './queue-attributes.js';
import { QueueHost } from './queue-host.js';
import { QueueLog, type QueueLogTerm } from './queue-log.js';
import { prepareSend } from './send.js';

const ROOT: Principal = { type: 'Root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000' };
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

describe('the queue log fenced by leader terms', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-queue-log-fence-'));
    dirs.push(dir);
    const path = join(dir, 'queues.log');
    const open = (term?: QueueLogTerm) => {
      let log: QueueLog | undefined;
      const engine = new QueueEngine({ sink: (r) => log!.append(r), arnOf });
      log = new QueueLog({ path, snapshot: () => engine.snapshot(0), ...(term ? { term } : {}) }, (r) => engine.replay(r));
      return { engine, log };
    };
    const send = (engine: QueueEngine, body: string) => {
      const { data, visibleAt } = prepareSend(engine.queues.get('q')!, { MessageBody: body }, 0, ROOT);
      engine.commit({ t: 'send', q: 'q', m: data, visibleAt });
    };
    return { path, open, send };
  };

  it('a deposed leader is refused before writing and after its fsync; what it wrote after its successor opened is not replayed', async () => {
    const { open, send } = setup();
    // How many more checks of its term the old leader passes.
    let passes = Infinity;
    const old = open({ revision: 5, holds: () => passes-- > 0 });
    old.engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
    send(old.engine, 'acknowledged');
    await old.log.durable();

    // The successor opens while the old leader still believes it leads (a paused process): it reads what was
    // acknowledged; what the old one writes from now on follows the newer term line.
    const next = open({ revision: 7, holds: () => true });
    expect(next.engine.queues.get('q')!.messages.size).toBe(1);
    send(old.engine, 'written late by the deposed leader');
    // The check before the write passes; the term ends during the fsync: the send is not acknowledged.
    passes = 1;
    await expect(old.log.durable()).rejects.toMatchObject({ type: 'ServiceUnavailable' });
    // And nothing more is written.
    send(old.engine, 'after');
    await expect(old.log.durable()).rejects.toThrow(/another replica/);
    old.log.close();

    send(next.engine, 'by the new leader');
    await next.log.durable();
    next.log.close();
    const third = open({ revision: 9, holds: () => true });
    expect([...third.engine.queues.get('q')!.messages.values()].map((m) => m.data.body).sort()).toEqual(['acknowledged', 'by the new leader']);
    third.log.close();
  });

  it('a commit is not written once the term no longer holds, and an older term cannot open a newer one\'s log', async () => {
    const { path, open, send } = setup();
    let holds = true;
    const leader = open({ revision: 3, holds: () => holds });
    leader.engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
    await leader.log.durable();
    holds = false;
    send(leader.engine, 'never written');
    await expect(leader.log.durable()).rejects.toMatchObject({ type: 'ServiceUnavailable' });
    leader.log.close();
    expect(() => open({ revision: 2, holds: () => true })).toThrow(/written in a newer leader term \(revision 3\) than this one \(2\)/);
    // A torn line after the term lines is still cut off.
    appendFileSync(path, '{"t":"send"');
    const next = open({ revision: 4, holds: () => true });
    expect(next.engine.queues.get('q')!.messages.size).toBe(0);
    next.log.close();
  });

  it('a deleted queue\'s name stays refused for 60 s across a replay and a compaction', async () => {
    const { open } = setup();
    const first = open();
    first.engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
    first.engine.commit({ t: 'drop', q: 'q', at: 1_000 });
    await first.log.durable();
    first.log.close();
    const second = open();
    expect(second.engine.deletedRecently('q', 60_999)).toBe(true);
    expect(second.engine.deletedRecently('q', 61_000)).toBe(false);
    // A snapshot (what a compaction writes) keeps the name refused while its minute lasts.
    const snapshot = [...second.engine.snapshot(30_000)];
    expect(snapshot).toEqual([{ t: 'drop', q: 'q', at: 1_000 }]);
    expect([...second.engine.snapshot(61_000)]).toEqual([]);
    second.engine.pruneDedup(61_000);
    expect(second.engine.dropped.size).toBe(0);
    second.log.close();
  });

  it('a FIFO ReceiveRequestAttemptId survives a restart: the retry gets the same messages', async () => {
    const { path } = setup();
    let now = 1_000;
    const open = () => new QueueHost({ path, arnOf, now: () => now });
    const first = open();
    first.engine.commit({ t: 'queue', queue: { name: 'o.fifo', attributes: { ...defaultAttributes(true), ContentBasedDeduplication: 'true' }, tags: {}, createdAt: 0, modifiedAt: 0 } });
    for (const body of ['a', 'b', 'c']) {
      const { data, visibleAt } = prepareSend(first.engine.queues.get('o.fifo')!, { MessageBody: body, MessageGroupId: 'g' }, now, ROOT);
      first.engine.commit({ t: 'send', q: 'o.fifo', m: data, visibleAt });
    }
    const got = await first.receive('o.fifo', 2, 30_000, 0, (q, messages) => first.rememberAttempt(q, 'try-1', messages));
    expect(got.messages.map((m) => m.data.body)).toEqual(['a', 'b']);
    first.close();

    now = 2_000;
    const second = open();
    const queue = second.engine.queues.get('o.fifo')!;
    expect(second.repeatAttempt(queue, 'try-1')?.map((m) => m.data.body)).toEqual(['a', 'b']);
    expect(second.repeatAttempt(queue, 'try-2')).toBeUndefined();
    // Past the five minutes, or once a message of it is deleted, the attempt no longer repeats.
    second.engine.commit({ t: 'del', q: 'o.fifo', id: got.messages[0]!.data.id });
    expect(second.repeatAttempt(queue, 'try-1')).toBeUndefined();
    second.close();
  });
});
