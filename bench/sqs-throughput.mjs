#!/usr/bin/env node
// SQS against a real `berth server` process (queues in its append-only log, every SendMessage/ReceiveMessage/
// DeleteMessage answered after its group commit's fdatasync):
//  - messages/s through send + receive + delete with --clients clients (the SDK JS v3, one keep-alive pool), each
//    looping SendMessage(Batch) → ReceiveMessage (WaitTimeSeconds 1) → DeleteMessage(Batch) for --seconds, --batch
//    messages per call (1: the single-message actions; 10: the batch actions);
//  - the server's CPU seconds per 1,000 messages (from /proc: less sensitive to the neighbours' load than msgs/s);
//  - long-poll wake-up: a ReceiveMessage waiting (WaitTimeSeconds 20) on an empty queue, then a SendMessage; the time
//    from the send's start to the receive's answer, p50 and p90 of --wakes samples.
// Prints one JSON line.
//
// --client light: the 16 clients sign with node:crypto and send with node:http instead of the SDK (bench/lib/
// sqs-light.mjs), which costs the benchmark's process far less CPU per message, leaving more to the server.
// --cli: another build's dist/cli/main.js (A/B against another branch in the same window); --cpu-prof DIR: the
// server writes a V8 CPU profile there when it stops.
//
//   node bench/sqs-throughput.mjs [--clients 16] [--seconds 15] [--batch 1] [--wakes 20] [--cli path] [--cpu-prof dir]
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startServer } from './lib/berth-processes.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';
import { lightSqs } from './lib/sqs-light.mjs';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '15' }, batch: { type: 'string', default: '1' }, wakes: { type: 'string', default: '20' }, cli: { type: 'string' }, 'cpu-prof': { type: 'string' }, client: { type: 'string', default: 'sdk' } } });
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const BATCH = Number(values.batch);
const WAKES = Number(values.wakes);

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-sqs-'));
const profile = values['cpu-prof'] ? ['--max-semi-space-size=4', '--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [];
const server = await startServer(join(dir, 'data'), { nodeArgs: profile, ...(values.cli ? { cli: values.cli } : {}) });
const sqs = new SQSClient({
  endpoint: server.url,
  region: 'us-east-1',
  credentials: server.keys,
  maxAttempts: 1,
  requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: CLIENTS * 2 }) }),
});
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

try {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench' }));
  const body = 'x'.repeat(256);
  let done = 0;
  let stray = 0;
  const cpuBefore = cpuSeconds(server.child.pid);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  const until = started + SECONDS * 1000;
  // The loop's three calls through the SDK or through the light client.
  const light = values.client === 'light' ? lightSqs(server.url, server.keys, { sockets: CLIENTS * 2 }) : undefined;
  const calls = light
    ? {
        send: (input) => light.call(BATCH === 1 ? 'SendMessage' : 'SendMessageBatch', input),
        receive: (input) => light.call('ReceiveMessage', input),
        remove: (input) => light.call(BATCH === 1 ? 'DeleteMessage' : 'DeleteMessageBatch', input),
      }
    : {
        send: (input) => sqs.send(BATCH === 1 ? new SendMessageCommand(input) : new SendMessageBatchCommand(input)),
        receive: (input) => sqs.send(new ReceiveMessageCommand(input)),
        remove: (input) => sqs.send(BATCH === 1 ? new DeleteMessageCommand(input) : new DeleteMessageBatchCommand(input)),
      };
  const client = async () => {
    while (performance.now() < until) {
      await calls.send(BATCH === 1 ? { QueueUrl, MessageBody: body } : { QueueUrl, Entries: Array.from({ length: BATCH }, (_, i) => ({ Id: `m${i}`, MessageBody: body })) });
      const got = (await calls.receive({ QueueUrl, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 1 })).Messages ?? [];
      if (got.length === 0) {
        stray++;
        continue;
      }
      await calls.remove(BATCH === 1 ? { QueueUrl, ReceiptHandle: got[0].ReceiptHandle } : { QueueUrl, Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) });
      done += got.length;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(server.child.pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);
  light?.destroy();

  const wake = await sqs.send(new CreateQueueCommand({ QueueName: 'wake' }));
  const wakes = [];
  for (let i = 0; i < WAKES; i++) {
    const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl: wake.QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((r) => setTimeout(r, 100));
    const sent = performance.now();
    await sqs.send(new SendMessageCommand({ QueueUrl: wake.QueueUrl, MessageBody: 'wake' }));
    const got = await polling;
    wakes.push(performance.now() - sent);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: wake.QueueUrl, ReceiptHandle: got.Messages[0].ReceiptHandle }));
  }
  console.log(
    JSON.stringify({
      bench: 'sqs-throughput',
      clients: CLIENTS,
      client: values.client,
      batch: BATCH,
      seconds: Math.round(seconds * 10) / 10,
      messagesPerSecond: Math.round(done / seconds),
      messages: done,
      emptyReceives: stray,
      serverCpuSecondsPer1000: Math.round((cpu / done) * 1000 * 1000) / 1000,
      serverCpuShare: Math.round((cpu / seconds) * 100) / 100,
      clientCpuShare: Math.round(((clientCpu.user + clientCpu.system) / 1e6 / seconds) * 100) / 100,
      wakeP50Ms: Math.round(quantile(wakes, 0.5) * 10) / 10,
      wakeP90Ms: Math.round(quantile(wakes, 0.9) * 10) / 10,
      loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
    }),
  );
} finally {
  sqs.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
