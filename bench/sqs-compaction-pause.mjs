#!/usr/bin/env node
// The queue log's compaction with many live messages, against a build's dist/ (this worktree's, or --dist another
// build's for A/B): a log of --messages live messages (after as many sent and deleted) is reopened with a 1 MiB
// compaction threshold, then one client sends and awaits each send's durability in a loop until the log has been
// compacted (its file shrank). Measures the longest event-loop pause (a 1 ms ticker) and the longest send
// acknowledgement from the first send to the compaction's end, and the time it took. Prints one JSON line.
//
//   node bench/sqs-compaction-pause.mjs [--messages 100000] [--dist path/to/dist]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '100000' }, dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname } } });
const N = Number(values.messages);
const dist = resolve(values.dist);
const load = async (module) => import(pathToFileURL(join(dist, module)).href);
const { QueueEngine } = await load('queues/engine.js');
const { QueueLog } = await load('queues/queue-log.js');
const { defaultAttributes } = await load('queues/queue-attributes.js');
const { prepareSend } = await load('queues/send.js');

const ROOT = { type: 'Root', arn: 'arn:aws:iam::000000000000:root', accountId: '000000000000' };
const arnOf = (name) => `arn:aws:sqs:us-east-1:000000000000:${name}`;
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-compaction-'));
const path = join(dir, 'queues.log');
const open = (compactBytes) => {
  let log;
  const engine = new QueueEngine({ sink: (r) => log.append(r), arnOf });
  log = new QueueLog({ path, compactBytes, snapshot: () => engine.snapshot(Date.now()) }, (r) => engine.replay(r));
  return { engine, log };
};
const send = (engine, body) => {
  const { data, visibleAt } = prepareSend(engine.queues.get('q'), { MessageBody: body }, Date.now(), ROOT);
  engine.commit({ t: 'send', q: 'q', m: data, visibleAt });
  return data.id;
};

try {
  const filling = open(Number.MAX_SAFE_INTEGER);
  filling.engine.commit({ t: 'queue', queue: { name: 'q', attributes: defaultAttributes(false), tags: {}, createdAt: 0, modifiedAt: 0 } });
  const body = 'x'.repeat(256);
  for (let i = 0; i < 2 * N; i++) {
    const id = send(filling.engine, `${i} ${body}`);
    if (i % 2 === 1) filling.engine.commit({ t: 'del', q: 'q', id });
    if (i % 10_000 === 0) await filling.log.durable();
  }
  await filling.log.durable();
  filling.log.close();
  const before = statSync(path).size;

  const live = open(1024 * 1024);
  let last = performance.now();
  let longestPause = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestPause = Math.max(longestPause, now - last);
    last = now;
  }, 1);
  const started = performance.now();
  let longestAck = 0;
  let acks = 0;
  const deadline = started + 120_000;
  while (statSync(path).size >= before && performance.now() < deadline) {
    const t0 = performance.now();
    send(live.engine, `during ${acks}`);
    await live.log.durable();
    longestAck = Math.max(longestAck, performance.now() - t0);
    acks++;
  }
  clearInterval(ticker);
  const compacted = statSync(path).size < before;
  live.log.close();
  console.log(JSON.stringify({ dist, messages: N, compacted, logBytesBefore: before, logBytesAfter: statSync(path).size, longestPauseMs: Math.round(longestPause), longestAckMs: Math.round(longestAck), acks, compactionMs: Math.round(performance.now() - started), load: loadavg().map((l) => Number(l.toFixed(1))) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
