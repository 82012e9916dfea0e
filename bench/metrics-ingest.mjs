#!/usr/bin/env node
// The CloudWatch metrics API against a real `berth server` process (metric store: SQLite in its data directory,
// every PutMetricData acknowledged after its group's commit is fsynced):
//  - PutMetricData datapoints/s: batches of 1,000 datapoints across 100 series, --inflight requests at once, in
//    JSON 1.0, in RPC v2 CBOR and in the AWS Query protocol (the AWS CLI's form bodies) (pre-built, hand-signed
//    bodies: the client's own cost stays out of the figure);
//  - GetMetricData latency (p50/p99, --samples sequential requests) over one day of 1-minute data for 100 series:
//    "aggregate" (100 metrics, ReturnData false, SUM(METRICS()): what a scaling policy asks, 1,440 datapoints out)
//    and "all" (the 100 series themselves, 144,000 datapoints out in one page);
//  - the same requests answered by a no-op handler (bench/lib/cloudwatch-noop-server.mjs: SigV4, dispatch, model
//    checks and serialization, no store), and the ratio real/no-op: what the store adds to what the codec costs.
// Prints one JSON line.
//
// Beside each rate and latency, the server's CPU time (user + system, from /proc) per datapoint ingested and per
// query answered: on a shared machine the wall figures swing with the load, CPU time much less. The benchmark's own
// CPU time per datapoint beside it (`clientCpu`: signing is done before the clock starts, so this is sending and
// reading answers): on 2 cores the client competes with the server for them.
//
//   node bench/metrics-ingest.mjs [--batches 300] [--inflight 8] [--samples 50] [--cli other/dist/cli/main.js]
//                                 [--server-node-args='--cpu-prof --cpu-prof-dir=/tmp/prof'] [--skip-noop] [--only ingest|query]
//                                 [--protocols json,cbor,query] [--queries aggregate,all]
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Decoder, Encoder } from 'cbor-x';
import { Pool } from 'undici';
import { shebangNodeOptions, startServer } from './lib/berth-processes.mjs';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '300' },
    inflight: { type: 'string', default: '8' },
    samples: { type: 'string', default: '50' },
    cli: { type: 'string' },
    'server-node-args': { type: 'string' },
    'skip-noop': { type: 'boolean', default: false },
    only: { type: 'string' },
    protocols: { type: 'string', default: 'json,cbor,query' },
    queries: { type: 'string', default: 'aggregate,all' },
  },
});
const BATCHES = Number(values.batches);
const INFLIGHT = Number(values.inflight);
const SAMPLES = Number(values.samples);
const SERIES = 100;
const PROTOCOLS = values.protocols.split(',');
const QUERIES = values.queries.split(',');
const TARGET = 'GraniteServiceVersion20100801';
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-metrics-'));
const server = await startServer(join(dir, 'data'), {
  ...(values.cli ? { cli: values.cli } : {}),
  ...(values['server-node-args'] ? { nodeArgs: [...shebangNodeOptions(values.cli).split(' ').filter(Boolean), ...values['server-node-args'].split(' ')] } : {}),
});
const TICKS_PER_SECOND = 100;
/** The server's CPU seconds so far (utime + stime of /proc/<pid>/stat). */
const serverCpu = () => {
  const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
};
const keys = server.keys;

/** Dates as JSON 1.0 sends them (epoch seconds). */
const epochSeconds = (v) =>
  v instanceof Date ? v.getTime() / 1000 : Array.isArray(v) ? v.map(epochSeconds) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, epochSeconds(x)])) : v;

/** A PutMetricData input as the Query protocol's form (`MetricData.member.N.…`), as the AWS CLI sends it. */
function queryForm(action, input) {
  const form = new URLSearchParams({ Action: action, Version: '2010-08-01', Namespace: input.Namespace });
  input.MetricData.forEach((d, i) => {
    const at = `MetricData.member.${i + 1}`;
    form.append(`${at}.MetricName`, d.MetricName);
    d.Dimensions.forEach((x, j) => {
      form.append(`${at}.Dimensions.member.${j + 1}.Name`, x.Name);
      form.append(`${at}.Dimensions.member.${j + 1}.Value`, x.Value);
    });
    form.append(`${at}.Timestamp`, d.Timestamp.toISOString());
    form.append(`${at}.Value`, String(d.Value));
  });
  return form.toString();
}

/** A signed request ready to send (signatures stay valid for the run: SigV4 allows 5 minutes of skew either way, and the date is per request). */
async function signed(url, protocol, action, input) {
  const u = new URL(url);
  const body =
    protocol === 'cbor' ? Buffer.from(encoder.encode(input)) : protocol === 'query' ? Buffer.from(queryForm(action, input)) : Buffer.from(JSON.stringify(epochSeconds(input)));
  const path = protocol === 'cbor' ? `/service/${TARGET}/operation/${action}` : '/';
  const headers =
    protocol === 'cbor'
      ? { host: u.host, 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' }
      : protocol === 'query'
        ? { host: u.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }
        : { host: u.host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `${TARGET}.${action}` };
  const signer = new SignatureV4({ credentials: keys, region: 'us-east-1', service: 'monitoring', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const req = await signer.sign(new HttpRequest({ method: 'POST', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path, headers, body }));
  const { host: _host, ...sendable } = req.headers;
  return { path, method: 'POST', headers: sendable, body };
}

async function send(pool, request) {
  const res = await pool.request(request);
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${body.toString().slice(0, 300)}`);
  return body;
}

const now = Math.floor(Date.now() / 60_000) * 60;
const dims = (s) => [{ Name: 'Series', Value: `s${s}` }];
/** Batch b: 10 datapoints for each of the 100 series, 10 seconds apart, in minute b of the last day. */
const ingestBatch = (b) => ({
  Namespace: 'Bench',
  MetricData: Array.from({ length: 1000 }, (_, i) => ({
    MetricName: 'Ingest',
    Dimensions: dims(i % SERIES),
    Timestamp: new Date((now - 86_400 + (b % 1440) * 60 + Math.floor(i / SERIES) * 5) * 1000),
    Value: (i * 7919) % 1000,
  })),
});

async function ingest(url, protocol, cpu) {
  const pool = new Pool(url, { connections: INFLIGHT, pipelining: 1 });
  const requests = [];
  for (let b = 0; b < BATCHES; b++) requests.push(await signed(url, protocol, 'PutMetricData', ingestBatch(b)));
  let next = 0;
  const cpuBefore = cpu?.();
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: INFLIGHT }, async () => {
    while (next < requests.length) await send(pool, requests[next++]);
  }));
  const seconds = (performance.now() - started) / 1000;
  if (cpu) cpuPerDatapointUs[protocol] = +(((cpu() - cpuBefore) * 1e6) / (BATCHES * 1000)).toFixed(2);
  const client = process.cpuUsage(clientBefore);
  if (cpu) clientCpuPerDatapointUs[protocol] = +((client.user + client.system) / (BATCHES * 1000)).toFixed(2);
  await pool.close();
  return Math.round((BATCHES * 1000) / seconds);
}

// One day of 1-minute data for 100 series: 144 batches of 1,000 datapoints (one a minute per series).
async function fillDay(url) {
  const pool = new Pool(url, { connections: 4 });
  for (let m = 0; m < 1440; m += 10) {
    const input = {
      Namespace: 'Bench',
      MetricData: Array.from({ length: 1000 }, (_, i) => ({ MetricName: 'Day', Dimensions: dims(i % SERIES), Timestamp: new Date((now - 86_400 + (m + Math.floor(i / SERIES)) * 60) * 1000), Value: i % 97 })),
    };
    await send(pool, await signed(url, 'json', 'PutMetricData', input));
  }
  await pool.close();
}

const metricQueries = (returnData) =>
  Array.from({ length: SERIES }, (_, s) => ({ Id: `m${s}`, MetricStat: { Metric: { Namespace: 'Bench', MetricName: 'Day', Dimensions: dims(s) }, Period: 60, Stat: 'Average' }, ReturnData: returnData }));
const queries = {
  aggregate: { MetricDataQueries: [...metricQueries(false), { Id: 'total', Expression: 'SUM(METRICS())' }], StartTime: new Date((now - 86_400) * 1000), EndTime: new Date(now * 1000) },
  all: { MetricDataQueries: metricQueries(true), StartTime: new Date((now - 86_400) * 1000), EndTime: new Date(now * 1000), MaxDatapoints: 144_000 },
};
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function latencies(url, protocol, input, cpu, name) {
  const pool = new Pool(url, { connections: 1 });
  const ms = [];
  const cpuBefore = cpu?.();
  for (let i = 0; i < SAMPLES + 3; i++) {
    const request = await signed(url, protocol, 'GetMetricData', input);
    const started = performance.now();
    await send(pool, request);
    if (i >= 3) ms.push(performance.now() - started);
  }
  if (cpu) cpuPerQueryMs[`${name}_${protocol}`] = +(((cpu() - cpuBefore) * 1000) / (SAMPLES + 3)).toFixed(2);
  await pool.close();
  ms.sort((a, b) => a - b);
  return { p50: +pct(ms, 50).toFixed(2), p99: +pct(ms, 99).toFixed(2) };
}

const cpuPerDatapointUs = {};
const clientCpuPerDatapointUs = {};
const cpuPerQueryMs = {};
const result = {
  bench: 'metrics-ingest',
  batches: BATCHES,
  inflight: INFLIGHT,
  samples: SAMPLES,
  series: SERIES,
  loadAverageBefore: +loadavg()[0].toFixed(2),
  loadAverage: 0,
  real: {},
  serverCpu: { perDatapointUs: cpuPerDatapointUs, perQueryMs: cpuPerQueryMs },
  clientCpu: { perDatapointUs: clientCpuPerDatapointUs },
  noop: {},
  ratio: {},
};
let noop;
try {
  if (values.only !== 'query') {
    if (PROTOCOLS.includes('json')) result.real.ingestJsonPerSec = await ingest(server.url, 'json', serverCpu);
    if (PROTOCOLS.includes('cbor')) result.real.ingestCborPerSec = await ingest(server.url, 'cbor', serverCpu);
    if (PROTOCOLS.includes('query')) result.real.ingestQueryPerSec = await ingest(server.url, 'query', serverCpu);
  }
  if (values.only !== 'ingest') await fillDay(server.url);
  // Check the day is there (and capture the answers the no-op handler will give).
  const canned = {};
  for (const [name, input] of values.only === 'ingest' ? [] : Object.entries(queries)) {
    const body = JSON.parse((await send(new Pool(server.url), await signed(server.url, 'json', 'GetMetricData', input))).toString());
    const points = body.MetricDataResults.reduce((n, r) => n + r.Values.length, 0);
    if (points < (name === 'all' ? 140_000 : 1400)) throw new Error(`${name}: only ${points} datapoints`);
    result[`${name}Datapoints`] = points;
    const asSent = epochSeconds(input);
    canned[createHash('sha256').update(JSON.stringify(asSent)).digest('hex')] = body;
  }
  for (const [name, input] of values.only === 'ingest' ? [] : Object.entries(queries).filter(([n]) => QUERIES.includes(n))) {
    if (PROTOCOLS.includes('json')) result.real[`getMetricData_${name}_json`] = await latencies(server.url, 'json', input, serverCpu, name);
    if (PROTOCOLS.includes('cbor')) result.real[`getMetricData_${name}_cbor`] = await latencies(server.url, 'cbor', input, serverCpu, name);
  }
  result.loadAverage = +loadavg()[0].toFixed(2);
  if (!values['skip-noop']) {
    const cannedFile = join(dir, 'canned.json');
    writeFileSync(cannedFile, JSON.stringify(canned));
    const child = spawn(process.execPath, [new URL('./lib/cloudwatch-noop-server.mjs', import.meta.url).pathname], {
      env: { ...process.env, NOOP_KEY_ID: keys.accessKeyId, NOOP_SECRET: keys.secretAccessKey, CANNED_FILE: cannedFile },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    noop = child;
    const url = await new Promise((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
        const m = /listening on (\S+)/.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`no-op server exited ${code}: ${err}`)));
    });
    if (values.only !== 'query') {
      result.noop.ingestJsonPerSec = await ingest(url, 'json');
      result.noop.ingestCborPerSec = await ingest(url, 'cbor');
      result.noop.ingestQueryPerSec = await ingest(url, 'query');
    }
    for (const [name, input] of values.only === 'ingest' ? [] : Object.entries(queries)) {
      result.noop[`getMetricData_${name}_json`] = await latencies(url, 'json', input);
      result.noop[`getMetricData_${name}_cbor`] = await latencies(url, 'cbor', input);
    }
    if (values.only !== 'query') {
      result.ratio.ingestJson = +(result.noop.ingestJsonPerSec / result.real.ingestJsonPerSec).toFixed(2);
      result.ratio.ingestCbor = +(result.noop.ingestCborPerSec / result.real.ingestCborPerSec).toFixed(2);
      result.ratio.ingestQuery = +(result.noop.ingestQueryPerSec / result.real.ingestQueryPerSec).toFixed(2);
    }
    for (const key of Object.keys(result.noop).filter((k) => k.startsWith('getMetricData'))) {
      result.ratio[`${key}_p50`] = +(result.real[key].p50 / result.noop[key].p50).toFixed(2);
      result.ratio[`${key}_p99`] = +(result.real[key].p99 / result.noop[key].p99).toFixed(2);
    }
  }
  console.log(JSON.stringify(result));
} finally {
  noop?.kill('SIGTERM');
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
