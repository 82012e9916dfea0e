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
//   node bench/sqs-throughput.mjs [--clients 16] [--seconds 15] [--batch 1] [--wakes 20]
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

const { values } = parseArgs({ options: { clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '15' }, batch: { type: 'string', default: '1' }, wakes: { type: 'string', default: '20' } } });
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const BATCH = Number(values.batch);
const WAKES = Number(values.wakes);

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-sqs-'));
const server = await startServer(join(dir, 'data'));
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
  const client = async () => {
    while (performance.now() < until) {
      if (BATCH === 1) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      else await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: BATCH }, (_, i) => ({ Id: `m${i}`, MessageBody: body })) }));
      const got = (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: BATCH, WaitTimeSeconds: 1 }))).Messages ?? [];
      if (got.length === 0) {
        stray++;
        continue;
      }
      if (BATCH === 1) await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: got[0].ReceiptHandle }));
      else await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
      done += got.length;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(server.child.pid) - cpuBefore;
  const clientCpu = process.cpuUsage(clientCpuBefore);

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
