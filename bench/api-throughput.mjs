#!/usr/bin/env node
// Signed-request throughput of the ECS API: DescribeTaskDefinition and RegisterTaskDefinition under
// concurrency, against a real `berth server` process with its default SQLite store (fsync per commit).
// Each phase runs several times; the line reports the median. Prints one JSON line.
//
//   node bench/api-throughput.mjs [--concurrency 32] [--seconds 5] [--runs 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: { concurrency: { type: 'string', default: '32' }, seconds: { type: 'string', default: '5' }, runs: { type: 'string', default: '3' } },
});
const concurrency = Number(values.concurrency);
const seconds = Number(values.seconds);
const runs = Number(values.runs);

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-'));
const server = await startServer(dir);
const ecs = new ECSClient({
  endpoint: server.url,
  region: 'us-east-1',
  credentials: server.keys,
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: concurrency }) }),
});

const taskDefinition = (family) => ({
  family,
  containerDefinitions: [
    { name: 'web', image: 'busybox:latest', memory: 128, portMappings: [{ containerPort: 8080 }], command: ['httpd', '-f', '-p', '8080'] },
    { name: 'sidecar', image: 'busybox:latest', memoryReservation: 32, essential: false },
  ],
});

/** Run `op` from `concurrency` workers for `seconds`; returns requests per second and latency percentiles. */
async function phase(op) {
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t = performance.now();
        await op(worker, i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2));
  return { requests: latencies.length, rps: Math.round(latencies.length / elapsed), p50_ms: pct(0.5), p99_ms: pct(0.99) };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
function summarize(results) {
  const mid = results.find((r) => r.rps === median(results.map((x) => x.rps)));
  return { rps_median: mid.rps, p50_ms: mid.p50_ms, p99_ms: mid.p99_ms, runs_rps: results.map((r) => r.rps) };
}

try {
  for (let f = 0; f < 16; f++) await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition(`bench-${f}`)));
  // Warm up connections, the JIT and the signing-key cache.
  await phase(() => ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: 'bench-0' })));

  const describe = [];
  const register = [];
  for (let r = 0; r < runs; r++) {
    describe.push(await phase((w) => ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: `bench-${w % 16}` }))));
    register.push(await phase((w) => ecs.send(new RegisterTaskDefinitionCommand(taskDefinition(`bench-${w % 16}`)))));
  }
  console.log(
    JSON.stringify({
      bench: 'api-throughput',
      store: 'sqlite (synchronous=FULL)',
      concurrency,
      seconds_per_run: seconds,
      runs,
      describeTaskDefinition: summarize(describe),
      registerTaskDefinition: summarize(register),
      node: process.version,
    }),
  );
} finally {
  ecs.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
