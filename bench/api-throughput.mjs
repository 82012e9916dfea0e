#!/usr/bin/env node
// Signed-request throughput of the ECS API, berth against moto's `moto_server` in the same run, with the
// same load generator, concurrency and requests: DescribeTaskDefinition and RegisterTaskDefinition.
// berth is a real `berth server` process with its default SQLite store (fsync per commit).
//
// The load generator is wrk (Debian: `apt-get install -y wrk`), replaying a pool of requests signed just
// before each run with @smithy/signature-v4 (the AWS SDK's signer), so that on a 2-core machine the client
// costs a fraction of what the server does. moto checks no signatures; it gets the same signed requests.
// Runs alternate berth and moto; the line reports medians. Needs `npm run build` and `moto_server` on PATH.
// Prints one JSON line.
//
//   node bench/api-throughput.mjs [--concurrency 32] [--seconds 5] [--runs 5] [--threads 1]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './lib/berth-processes.mjs';
import { call, signed } from './lib/ecs-signed.mjs';
import { startMoto } from './lib/moto.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
  },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const threads = Number(values.threads);
const FAMILIES = 16;

const taskDefinition = (family) => ({
  family,
  containerDefinitions: [
    { name: 'web', image: 'busybox:latest', memory: 128, portMappings: [{ containerPort: 8080 }], command: ['httpd', '-f', '-p', '8080'] },
    { name: 'sidecar', image: 'busybox:latest', memoryReservation: 32, essential: false },
  ],
});

/** One pool per phase, signed now: requests spread over the families, one per connection at least. */
async function pool(target, keys, action) {
  const input = (i) =>
    action === 'DescribeTaskDefinition' ? { taskDefinition: `bench-${i % FAMILIES}` } : taskDefinition(`bench-${i % FAMILIES}`);
  const requests = await Promise.all(Array.from({ length: Math.max(64, concurrency) }, (_, i) => signed(target, keys, action, input(i))));
  // A pool whose first request is refused would fail the wrk run anyway; failing here says why.
  await call(target, keys, action, input(0));
  return requests;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function summarize(results) {
  const mid = results.find((r) => r.rps === median(results.map((x) => x.rps)));
  return {
    rps_median: mid.rps,
    p50_ms: mid.p50_ms,
    p99_ms: mid.p99_ms,
    runs_rps: results.map((r) => r.rps),
    cpu_us_per_request_median: median(results.map((r) => r.cpu_us_per_request)),
    // What one core spent on nothing but this server would answer at that CPU cost per request.
    rps_one_full_core: Math.round(1e6 / median(results.map((r) => r.cpu_us_per_request))),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const berth = await startServer(dir, { nodeArgs: process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [] });
const moto = await startMoto().catch(async (e) => {
  await berth.stop();
  throw e;
});
const targets = {
  berth: { url: berth.url, keys: berth.keys, pid: berth.child.pid },
  // moto accepts any key pair; it is signed all the same.
  moto: { url: moto.url, pid: moto.pid, keys: { accessKeyId: 'AKIAMOTOMOTOMOTOMOTO', secretAccessKey: 'moto-secret-key-0123456789abcdefghijklmn' } },
};
/** One wrk run against one target, with the server's CPU time per request (all its threads). */
async function phase(name, action) {
  const { url, keys, pid } = targets[name];
  const requests = await pool(url, keys, action);
  const cpuBefore = cpuSeconds(pid);
  const result = await runWrk({ url, requests, connections: concurrency, seconds, threads });
  return { ...result, cpu_us_per_request: Math.round(((cpuSeconds(pid) - cpuBefore) * 1e6) / result.requests) };
}

try {
  for (const { url, keys } of Object.values(targets)) {
    for (let f = 0; f < FAMILIES; f++) await call(url, keys, 'RegisterTaskDefinition', taskDefinition(`bench-${f}`));
  }
  // Warm up connections and the JIT on both sides.
  for (const name of Object.keys(targets)) await phase(name, 'DescribeTaskDefinition');

  const results = { berth: { describe: [], register: [] }, moto: { describe: [], register: [] } };
  for (let r = 0; r < runs; r++) {
    for (const name of Object.keys(targets)) results[name].describe.push(await phase(name, 'DescribeTaskDefinition'));
    for (const name of Object.keys(targets)) results[name].register.push(await phase(name, 'RegisterTaskDefinition'));
  }
  const op = (kind) => {
    const b = summarize(results.berth[kind]);
    const m = summarize(results.moto[kind]);
    return { berth: b, moto: m, berth_over_moto: Number((b.rps_median / m.rps_median).toFixed(2)) };
  };
  console.log(
    JSON.stringify({
      bench: 'api-throughput',
      store: 'sqlite (synchronous=FULL)',
      generator: `${spawnSync('wrk', ['-v']).stdout.toString().split(' [')[0]}, ${threads} thread(s), pre-signed keep-alive requests`,
      peer: `moto_server ${execFileSync('python3', ['-c', 'import moto; print(moto.__version__)']).toString().trim()}`,
      concurrency,
      seconds_per_run: seconds,
      runs,
      describeTaskDefinition: op('describe'),
      registerTaskDefinition: op('register'),
      node: process.version,
      // Other work on the machine moves requests/s between runs; the load average says how much there was.
      loadavg_1m: Number(loadavg()[0].toFixed(2)),
    }),
  );
} finally {
  await moto.stop();
  await berth.stop();
  rmSync(dir, { recursive: true, force: true });
}
