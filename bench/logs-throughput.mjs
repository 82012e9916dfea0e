#!/usr/bin/env node
// The Logs API against a real `berth server` process (events in chunk files under its data directory,
// each batch fsynced and indexed by one Store transaction):
//  - PutLogEvents ingestion: events/s with full batches (10,000 events of ~65 bytes) from a few writers;
//  - GetLogEvents latency on one stream of --events events (default 100,000): newest page, oldest page,
//    and a page in the middle reached by a forward token; 100-event pages, as a tail reader asks;
//  - FilterLogEvents latency over that stream (a common term, and a term that never matches).
// Prints one JSON line.
//
//   node bench/logs-throughput.mjs [--events 100000] [--writers 4] [--samples 50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { startServer } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: { events: { type: 'string', default: '100000' }, writers: { type: 'string', default: '4' }, samples: { type: 'string', default: '50' } },
});
const total = Number(values.events);
const writers = Number(values.writers);
const samples = Number(values.samples);

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-logs-'));
const server = await startServer(dir);
const logs = new CloudWatchLogsClient({
  endpoint: server.url,
  region: 'us-east-1',
  credentials: server.keys,
  maxAttempts: 1,
});
const group = 'bench';
await logs.send(new CreateLogGroupCommand({ logGroupName: group }));

// About 65 bytes: a full batch of 10,000 stays under the 1 MiB limit with the 26-byte overhead.
const line = (i) => `INFO request ${i} served in ${i % 97} ms path=/items/${i} status=200 u${i % 13}`;
const batch = (start, n, t0) => Array.from({ length: n }, (_, k) => ({ timestamp: t0 + Math.floor((start + k) / 10), message: line(start + k) }));

// Ingestion: `writers` streams written at once, full batches.
const BATCH = 10_000;
const t0 = Date.now() - 3_600_000;
for (let w = 0; w < writers; w++) await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: `w${w}` }));
const perWriter = Math.ceil(total / writers / BATCH) * BATCH;
let started = performance.now();
await Promise.all(
  Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; i < perWriter; i += BATCH) {
      await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: `w${w}`, logEvents: batch(i, BATCH, t0) }));
    }
  }),
);
const ingestSeconds = (performance.now() - started) / 1000;
const putEventsPerSecond = Math.round((perWriter * writers) / ingestSeconds);

// One stream of `total` events for the reads.
await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'big' }));
for (let i = 0; i < total; i += BATCH) {
  await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 'big', logEvents: batch(i, Math.min(BATCH, total - i), t0) }));
}

async function timed(make) {
  const ms = [];
  for (let i = 0; i < samples; i++) {
    const input = await make(i);
    const s = performance.now();
    await logs.send(input);
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  const at = (q) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}
const get = (more) => new GetLogEventsCommand({ logGroupName: group, logStreamName: 'big', limit: 100, ...more });
// A forward token half-way through: page there once, untimed.
let token;
{
  let r = await logs.send(get({ startFromHead: true, limit: 10_000 }));
  for (let seen = r.events.length; seen < total / 2; seen += r.events.length) r = await logs.send(get({ nextToken: r.nextForwardToken, limit: 10_000 }));
  token = r.nextForwardToken;
}
const getNewest = await timed(() => get({}));
const getOldest = await timed(() => get({ startFromHead: true }));
const getMiddle = await timed(() => get({ nextToken: token }));
const getFull = await timed(() => get({ startFromHead: true, limit: 10_000 }));
const filter = (filterPattern) => new FilterLogEventsCommand({ logGroupName: group, logStreamNames: ['big'], filterPattern, limit: 100 });
const filterCommon = await timed(() => filter('status=200'));
started = performance.now();
const rare = await logs.send(filter('no-such-term'));
const filterNoMatchScanMs = Math.round((performance.now() - started) * 100) / 100;

logs.destroy();
await server.stop();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    bench: 'logs-throughput',
    putEventsPerSecond,
    putWriters: writers,
    putBatchEvents: BATCH,
    streamEvents: total,
    getLogEventsMs: { newest100: getNewest, oldest100: getOldest, middle100ByToken: getMiddle, oldest10000: getFull },
    filterLogEventsMs: { common100: filterCommon, noMatchFirstPage: filterNoMatchScanMs, noMatchReturnedToken: rare.nextToken !== undefined },
  }),
);
