#!/usr/bin/env node
// EventBridge PutEvents throughput: a real `berth server` (default SQLite store, fsync per commit) with 100 rules on
// the default bus, each matching one of 100 sources and holding one ECS target; `--clients` SDK JS v3 clients send
// PutEvents of 10 entries each (round-robin over the sources, so every event matches one rule) for `--seconds`.
// Reported: acknowledged entries/s, and how long the leader took after the load to route every acknowledged event
// and make its (one) delivery attempt — the targets' role does not exist, so each attempt fails, is logged and, with
// MaximumRetryAttempts 0, dropped. Needs `npm run build`. Prints one JSON line.
//
//   node bench/events-throughput.mjs [--clients 16] [--seconds 10]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { startServer } from './lib/berth-processes.mjs';

const { values } = parseArgs({ options: { clients: { type: 'string', default: '16' }, seconds: { type: 'string', default: '10' } } });
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const RULES = 100;

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-events-'));
const server = await startServer(dir, { logLevel: 'info' });
try {
  const config = { endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 };
  const admin = new EventBridgeClient(config);
  for (let i = 0; i < RULES; i++) {
    await admin.send(new PutRuleCommand({ Name: `rule-${i}`, EventPattern: JSON.stringify({ source: [`app-${i}`], detail: { n: [{ numeric: ['>=', 0] }] } }) }));
    await admin.send(
      new PutTargetsCommand({
        Rule: `rule-${i}`,
        Targets: [{ Id: 't', Arn: 'arn:aws:ecs:us-east-1:000000000000:cluster/default', RoleArn: 'arn:aws:iam::000000000000:role/missing', EcsParameters: { TaskDefinitionArn: 'x:1' }, RetryPolicy: { MaximumRetryAttempts: 0 } }],
      }),
    );
  }
  admin.destroy();
  let acked = 0;
  let sent = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = new EventBridgeClient(config);
      while (Date.now() < deadline) {
        const Entries = Array.from({ length: 10 }, () => ({ Source: `app-${sent++ % RULES}`, DetailType: 'bench', Detail: JSON.stringify({ n: sent }) }));
        const r = await c.send(new PutEventsCommand({ Entries }));
        acked += Entries.length - (r.FailedEntryCount ?? 0);
      }
      c.destroy();
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const loadEnd = Date.now();
  const attempts = () => (server.output().match(/event delivery failed/g) ?? []).length;
  while (attempts() < acked && Date.now() - loadEnd < 300_000) await new Promise((r) => setTimeout(r, 200));
  console.log(
    JSON.stringify({
      bench: 'events-put',
      rules: RULES,
      clients,
      seconds: elapsed,
      entriesAcked: acked,
      entriesPerSecond: Math.round(acked / elapsed),
      deliveriesAttempted: attempts(),
      drainAfterLoadMs: Date.now() - loadEnd,
    }),
  );
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
