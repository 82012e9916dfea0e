import { copyFileSync, existsSync, fsyncSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Principal } from '../api/auth/credentials.js';
import { QueueEngine } from './engine.js';
import { defaultAttributes } from './queue-attributes.js';
import { QueueLog, type QueueLogTerm } from './queue-log.js';
import { prepareSend } from './send.js';

const ROOT: Principal = { type: 'Root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000' };
const arnOf = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
const BODY = 'b'.repeat(200);

describe('the queue log compacted off the event loop', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const setup = (compactBytes: number) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-queue-compaction-'));
    dirs.push(dir);
    const path = join(dir, 'queues.log');
    const open = (at = path, term?: QueueLogTerm) => {
      let log: QueueLog | undefined;
      const engine = new QueueEngine({ sink: (r) => log!.append(r), arnOf });
      log = new QueueLog({ path: at, compactBytes, snapshot: () => engine.snapshot(0), ...(term ? { term } : {}) }, (r) => engine.replay(r));
      return { engine, log };
    };
    /** What a kill -9 now would leave: the log as it is, opened elsewhere. */
    const crashCopy = () => {
      const copy = join(mkdtempSync(join(dir, 'crash-')), 'queues.log');
      copyFileSync(path, copy);
      return open(copy);
    };
    return { dir, path, open, crashCopy };
  };

  /** A queue with `n` messages (after as many again sent and deleted), 10 received (in flight), one of them deleted. */
  const fill = (engine: QueueEngine, n: number) => {
    engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
    const q = engine.queues.get('q')!;
    for (let i = 0; i < 2 * n; i++) {
      const { data, visibleAt } = prepareSend(q, { MessageBody: `${i} ${BODY}` }, 0, ROOT);
      engine.commit({ t: 'send', q: 'q', m: data, visibleAt });
      if (i % 2 === 1) engine.commit({ t: 'del', q: 'q', id: data.id });
    }
    const got = engine.receive(q, 0, 10, 60_000, () => 'r');
    engine.commit({ t: 'del', q: 'q', id: got[0]!.data.id });
  };
  const send = (engine: QueueEngine, body: string) => {
    const { data, visibleAt } = prepareSend(engine.queues.get('q')!, { MessageBody: body }, 0, ROOT);
    engine.commit({ t: 'send', q: 'q', m: data, visibleAt });
  };
  const state = (engine: QueueEngine) => [...engine.snapshot(0)];

  it('answers commits while it runs, pauses the event loop far less than writing the snapshot would, and replays exactly during and after', async () => {
    const { dir, path, open, crashCopy } = setup(4 * 1024 * 1024);
    const live = open();
    // 20,000 live messages (about 20 MB of log) in one commit: the log passes the threshold and a compaction starts.
    fill(live.engine, 20_000);
    await live.log.durable();
    expect(live.log.compacting()).toBe('writing');

    // The longest pause of the event loop while the compaction runs, from a 1 ms ticker.
    let last = performance.now();
    let longest = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    let acknowledged = 0;
    let crashChecked = false;
    try {
      while (live.log.compacting() !== 'ready') {
        send(live.engine, `during ${acknowledged}`);
        await live.log.durable();
        acknowledged++;
        if (!crashChecked && acknowledged === 3) {
          // A kill -9 mid-compaction: the log is whole and holds every acknowledged record.
          const crashed = crashCopy();
          expect(state(crashed.engine)).toEqual(state(live.engine));
          crashed.log.close();
          crashChecked = true;
          // The check's own time is the test's, not a pause of the log's.
          last = performance.now();
        }
      }
    } finally {
      clearInterval(ticker);
    }
    expect(crashChecked).toBe(true);
    expect(acknowledged).toBeGreaterThan(3);

    // What the compaction replaced: the same snapshot serialized, written and synced at once, on the event loop.
    const started = performance.now();
    const fd = openSync(join(dir, 'synchronous'), 'w');
    let text = '';
    for (const r of live.engine.snapshot(0)) text += `${JSON.stringify(r)}\n`;
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    const synchronous = performance.now() - started;
    console.log(`compaction of 20,000 live messages (${acknowledged} commits acknowledged meanwhile): longest event-loop pause ${longest.toFixed(1)} ms; writing the snapshot at once took ${synchronous.toFixed(1)} ms`);
    expect(longest).toBeLessThan(synchronous);

    // The next commit renames the compacted file over the log: smaller, and a replay gives the same state.
    const before = statSync(path).size;
    send(live.engine, 'after');
    await live.log.durable();
    expect(statSync(path).size).toBeLessThan(before);
    expect(existsSync(`${path}.next`)).toBe(false);
    const crashed = crashCopy();
    expect(state(crashed.engine)).toEqual(state(live.engine));
    expect(crashed.engine.queues.get('q')!.counts(1_000)).toEqual({ visible: 20_000 - 10 + acknowledged + 1, inFlight: 9, delayed: 0, oldestSentAt: 0 });
    crashed.log.close();
    live.log.close();
  });

  it('a deposed leader does not rename its compaction over the log, and leaves no .next', async () => {
    const { path, open } = setup(64 * 1024);
    // How many more checks of its term the leader passes.
    let passes = Infinity;
    const leader = open(path, { revision: 3, holds: () => passes-- > 0 });
    fill(leader.engine, 1_000);
    await leader.log.durable();
    await vi.waitFor(() => expect(leader.log.compacting()).toBe('ready'), { timeout: 10_000 });
    const size = statSync(path).size;
    // The term ends between the commit's check and the rename: the commit is refused, the log is not replaced.
    passes = 1;
    send(leader.engine, 'late');
    await expect(leader.log.durable()).rejects.toMatchObject({ type: 'ServiceUnavailable' });
    expect(statSync(path).size).toBe(size);
    // The failed compaction removes its .next with an unlink on the thread pool, so a moment after the refusal.
    await vi.waitFor(() => expect(existsSync(`${path}.next`)).toBe(false), { timeout: 5_000, interval: 10 });
    leader.log.close();
    const next = open(path, { revision: 5, holds: () => true });
    expect(next.engine.queues.get('q')!.messages.size).toBe(999);
    next.log.close();
  });
});
