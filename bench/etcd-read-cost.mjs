#!/usr/bin/env node
// What one store read costs on etcd, through berth's own EtcdStore (dist/store/etcd.js) in this process,
// against a 1-member etcd on --dir: --concurrency loops for --seconds each, three ways:
//   get        one linearizable get per request (what an API read does today, once per record)
//   get4       four sequential gets per request (DescribeTasks of 3 tasks: its cluster, then each task)
//   barrier    one linearizable revision() shared by every request that arrived before it was sent, then a
//              Map lookup (the shape of serving reads from watch-fed caches behind a batched read barrier;
//              a request never joins a read sent before it arrived, so it still sees every acknowledged write)
// For each: requests/s, this process's CPU µs per request (the etcd client: grpc-js, http2, etcd3's pool),
// etcd's CPU µs per request, and how many etcd reads were sent per request. Prints one JSON line.
// Needs `npm run build`.
//
//   node bench/etcd-read-cost.mjs [--concurrency 32] [--seconds 5] [--dir /tmp]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdStore } from '../dist/store/etcd.js';
import { startEtcd } from './lib/etcd.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';

const { values } = parseArgs({
  options: { concurrency: { type: 'string', default: '32' }, seconds: { type: 'string', default: '5' }, dir: { type: 'string', default: tmpdir() } },
});
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);

const root = mkdtempSync(join(values.dir, 'berth-bench-etcd-read-'));
const etcd = await startEtcd({ members: 1, dir: root, name: 'reads' });
const store = await EtcdStore.open({ endpoints: etcd.endpoints, prefix: 'bench/' });
try {
  // A value the size of a task record with two containers (~2 KiB).
  const value = JSON.stringify({ task: { taskArn: 'x'.repeat(100), containers: [{ name: 'app', image: 'busybox:latest', x: 'y'.repeat(1800) }] } });
  for (let i = 0; i < 16; i++) await store.txn([], [{ type: 'put', key: `tasks/bench/t${i}`, value }]);
  const cache = new Map(Array.from({ length: 16 }, (_, i) => [`tasks/bench/t${i}`, value]));

  let sent = 0;
  const get = async (key) => {
    sent++;
    return store.get(key);
  };
  // The batched barrier: requests wait for the next revision() sent after they arrived.
  let waiting = [];
  let inFlight = false;
  const flush = () => {
    if (inFlight || waiting.length === 0) return;
    const batch = waiting;
    waiting = [];
    inFlight = true;
    sent++;
    store.revision().then(
      (rev) => {
        inFlight = false;
        for (const w of batch) w.resolve(rev);
        flush();
      },
      (err) => {
        inFlight = false;
        for (const w of batch) w.reject(err);
        flush();
      },
    );
  };
  const barrier = () =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject });
      flush();
    });

  const ways = {
    get: (i) => get(`tasks/bench/t${i % 16}`),
    get4: async (i) => {
      for (let k = 0; k < 4; k++) await get(`tasks/bench/t${(i + k) % 16}`);
    },
    barrier: async (i) => {
      await barrier();
      return cache.get(`tasks/bench/t${i % 16}`);
    },
  };
  const phase = async (op) => {
    let requests = 0;
    sent = 0;
    const [mine, theirs] = [cpuSeconds(process.pid), cpuSeconds(etcd.pids[0])];
    const started = performance.now();
    const until = started + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        for (let i = w; performance.now() < until; i += CONCURRENCY) {
          await op(i);
          requests++;
        }
      }),
    );
    const elapsed = (performance.now() - started) / 1000;
    const us = (s) => Math.round((s * 1e6) / requests);
    return {
      rps: Math.round(requests / elapsed),
      client_cpu_us_per_req: us(cpuSeconds(process.pid) - mine),
      etcd_cpu_us_per_req: us(cpuSeconds(etcd.pids[0]) - theirs),
      etcd_reads_per_req: Number((sent / requests).toFixed(3)),
    };
  };
  await phase(ways.get); // warm up
  const out = {};
  for (const [name, op] of Object.entries(ways)) out[name] = await phase(op);
  console.log(JSON.stringify({ bench: 'etcd-read-cost', etcd_members: 1, concurrency: CONCURRENCY, seconds: SECONDS, ...out, node: process.version, loadavg_1m: Number(loadavg()[0].toFixed(2)) }));
} finally {
  await store.close();
  await etcd.stop();
  rmSync(root, { recursive: true, force: true });
}
