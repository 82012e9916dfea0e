#!/usr/bin/env node
// The CloudWatch API's codecs and authentication with no work behind them, for bench/metrics-ingest.mjs: the built
// listener (SigV4, JSON 1.0, RPC v2 CBOR and Query dispatch, model validation, serialization) with operations that store
// nothing and answer canned outputs (GetMetricData: the answers the real server gave, from CANNED_FILE, by request
// body digest). What the real server costs beyond this is the metric store's.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { buildHttpServer } from '../../dist/api/http-server.js';
import { SigV4Verifier } from '../../dist/api/auth/sigv4.js';
import { StaticCredentials, rootPrincipal } from '../../dist/api/auth/credentials.js';
import { cloudwatchServices } from '../../dist/metrics/api/cloudwatch-service.js';

const keys = { accessKeyId: process.env.NOOP_KEY_ID, secretAccessKey: process.env.NOOP_SECRET };
const canned = process.env.CANNED_FILE ? JSON.parse(readFileSync(process.env.CANNED_FILE, 'utf8')) : {};
const digest = (input) => createHash('sha256').update(JSON.stringify(input)).digest('hex');
const real = cloudwatchServices({ store: undefined, now: Date.now });
const operations = {
  PutMetricData: async () => ({}),
  GetMetricData: async (input) => canned[digest(input)] ?? { MetricDataResults: [] },
};
const json = { ...real.json, operations };
const query = { ...real.query, operations };
const logger = pino({ level: 'warn' });
const app = await buildHttpServer({
  logger,
  verifier: new SigV4Verifier({ credentials: new StaticCredentials({ ...keys, principal: rootPrincipal('000000000000') }), region: 'us-east-1', services: new Set(['monitoring']) }),
  services: [json],
  queryServices: [query],
  cborServices: [json],
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.stderr.write(`listening on http://127.0.0.1:${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
