#!/usr/bin/env node
// The agent's log shipper end to end, in one process (after a build): a CRI log file of --lines lines
// (~90 bytes, stdout and stderr) → parsed and batched → PutLogEvents → a server (chunk files + Store).
// Reports lines per second until finish() has shipped the whole file. Prints one JSON line.
//
//   node bench/log-shipper-throughput.mjs [--lines 200000]
import { parseArgs } from 'node:util';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CloudWatchLogsClient, DescribeLogStreamsCommand } from '@aws-sdk/client-cloudwatch-logs';
const { startServer } = await import(new URL('../dist/server/server.js', import.meta.url).href);
const { LogShipper } = await import(new URL('../dist/agent/log-shipper.js', import.meta.url).href);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const dir = mkdtempSync(join(tmpdir(), 'berth-shipbench-'));
const keys = { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'x'.repeat(40) };
const server = await startServer({ host: '127.0.0.1', port: 0, store: 'sqlite', dataDir: join(dir, 'data'), region: 'us-east-1', accountId: '123456789012', rootKeys: keys, logger: pino({ level: 'silent' }) });
const N = Number(parseArgs({ options: { lines: { type: 'string', default: '200000' } } }).values.lines);
const t0 = Date.now() - 60_000;
let text = '';
for (let i = 0; i < N; i++) text += `${new Date(t0 + Math.floor(i / 10)).toISOString()} ${i % 5 ? 'stdout' : 'stderr'} F request ${i} served in ${i % 97} ms path=/items/${i} status=200\n`;
const logPath = join(dir, 'c.log');
writeFileSync(logPath, text);
const client = new CloudWatchLogsClient({ endpoint: server.url, region: 'us-east-1', credentials: keys });
const shipper = new LogShipper({ client, stateDir: join(dir, 'state'), log: pino({ level: 'silent' }) });
const started = performance.now();
shipper.follow({ runtimeId: 'rt', logPath, taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/c/abc', family: 'f', containerName: 'app', cluster: 'c' });
await shipper.finish('rt');
const ms = performance.now() - started;
const { logStreams } = await client.send(new DescribeLogStreamsCommand({ logGroupName: '/berth/c' }));
console.log(JSON.stringify({ bench: 'log-shipper-throughput', lines: N, fileMiB: +(Buffer.byteLength(text) / 2 ** 20).toFixed(1), ms: Math.round(ms), linesPerSecond: Math.round(N / (ms / 1000)) , allShipped: logStreams[0].lastEventTimestamp === t0 + Math.floor((N - 1) / 10) }));
await shipper.stop(); client.destroy(); await server.stop(); rmSync(dir, { recursive: true, force: true });
