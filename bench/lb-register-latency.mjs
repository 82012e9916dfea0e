#!/usr/bin/env node
// Two figures of berth's load balancer data plane, each beside a peer measured in the same run:
//
// 1. Registration latency: the time from RegisterTargets (the ELBv2 API of a built `berth server`, followed by a
//    built `berth lb` driving a real HAProxy) to the first proxied request reaching the new target, while a light
//    keep-alive load (~200 requests/s) runs through the listener. Median over --runs. Target (issue 14): at most
//    1 s plus the health check's healthy threshold × interval (ELB gives a target traffic only after that many
//    passing checks). Peer: the same data plane without the control plane — LbDriver.apply with the new target
//    (dist/lb) on its own HAProxy — so `api_vs_driver` is what following the API costs.
// 2. A listener-rule change under load: wrk (keep-alive, --connections) against the berth lb listener for
//    --seconds while CreateRule / ModifyRule (fixed-response rules on their own paths) run one after another, each
//    a seamless HAProxy reload, each waited for until the new rule answers. wrk fails the run on any non-2xx or
//    socket error; the figure is the errors (0), the reloads the master counted, and requests/s and p99 against
//    the same wrk run with no change (`rps_vs_steady`), medians over --rounds alternating the two.
//
// Prints one JSON line.
//
//   npm run build && node bench/lb-register-latency.mjs [--runs 5] [--seconds 5] [--rounds 3] [--connections 16]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { haproxyPaths } from '../dist/lb/haproxy-process.js';
import { runtimeCommand } from '../dist/lb/haproxy-runtime.js';
import { LbDriver } from '../dist/lb/lb-driver.js';
import { stopStaleHaproxy } from '../dist/lb/stale-haproxy.js';
import { startBerth, startServer } from './lib/berth-processes.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' }, connections: { type: 'string', default: '16' } },
});
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const REGION = 'us-east-1';
const INTERVAL_S = 5;
const THRESHOLD = 2;
const TARGET_MS = 1000 + THRESHOLD * INTERVAL_S * 1000;

for (const bin of ['haproxy', 'wrk']) {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${bin} is not installed (apt-get install -y ${bin})`);
  }
}

const freePort = () =>
  new Promise((resolve) => {
    const s = createTcpServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A backend answering `name`; `firstAt` is when its first request other than a health check arrived. */
async function backend(name) {
  const b = { name, port: 0, firstAt: undefined, close: undefined };
  const server = http.createServer((req, res) => {
    if (req.url !== '/health' && b.firstAt === undefined) b.firstAt = performance.now();
    res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  b.port = server.address().port;
  b.close = () => new Promise((r) => (server.closeAllConnections(), server.close(r)));
  return b;
}

/** A light keep-alive load on `port` (GET /), `perSecond` requests/s over 4 connections; counts failures. */
function lightLoad(port, perSecond = 200) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let running = true;
  const counts = { ok: 0, failed: 0 };
  const one = () =>
    new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? counts.ok++ : counts.failed++, resolve()));
      });
      req.on('error', () => (counts.failed++, resolve()));
    });
  const loops = [0, 1, 2, 3].map(async () => {
    while (running) {
      await one();
      await sleep(4000 / perSecond);
    }
  });
  return { counts, stop: async () => ((running = false), await Promise.all(loops), agent.destroy()) };
}

const dir = mkdtempSync(join(tmpdir(), 'lbr-'));
const quiet = { info() {}, warn() {}, error: (c, m) => console.error(m, c) };
const closers = [];
let server;
let lb;
let driver;
try {
  server = await startServer(join(dir, 'server'));
  const elb = new ElasticLoadBalancingV2Client({ endpoint: server.url, region: REGION, credentials: server.keys, maxAttempts: 3 });
  closers.push(() => elb.destroy());
  lb = startBerth(['lb', '--endpoint', server.url, '--address', '127.0.0.1', '--node-id', 'bench', '--data-dir', join(dir, 'lb'), '--region', REGION, '--log-level', 'warn'], {
    env: { AWS_ACCESS_KEY_ID: server.keys.accessKeyId, AWS_SECRET_ACCESS_KEY: server.keys.secretAccessKey, AWS_SESSION_TOKEN: '' },
  });

  // The API path: one load balancer, one target group (checks on /health every 5 s, threshold 2), a base target.
  const lbArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'bench', Subnets: ['subnet-0a', 'subnet-0b'] }))).LoadBalancers[0].LoadBalancerArn;
  const tgArn = (
    await elb.send(
      new CreateTargetGroupCommand({
        Name: 'bench',
        Protocol: 'HTTP',
        Port: 80,
        TargetType: 'ip',
        HealthCheckPath: '/health',
        HealthCheckIntervalSeconds: INTERVAL_S,
        HealthCheckTimeoutSeconds: 2,
        HealthyThresholdCount: THRESHOLD,
        UnhealthyThresholdCount: 2,
      }),
    )
  ).TargetGroups[0].TargetGroupArn;
  await elb.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tgArn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '0' }] }));
  const apiPort = await freePort();
  const listenerArn = (await elb.send(new CreateListenerCommand({ LoadBalancerArn: lbArn, Port: apiPort, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward', TargetGroupArn: tgArn }] }))).Listeners[0]
    .ListenerArn;
  const apiBase = await backend('base');
  closers.push(apiBase.close);
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: '127.0.0.1', Port: apiBase.port }] }));
  await until('the base target healthy through berth lb', async () => {
    const d = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? [];
    return d.length === 1 && d[0].TargetHealth.State === 'healthy';
  });

  // The peer: the same data plane driven directly.
  const driverPort = await freePort();
  const driverBase = await backend('driver-base');
  closers.push(driverBase.close);
  const hc = { protocol: 'HTTP', path: '/health', port: 'traffic-port', intervalSeconds: INTERVAL_S, timeoutSeconds: 2, healthyThreshold: THRESHOLD, unhealthyThreshold: 2, matcher: '200' };
  const attributes = { deregistrationDelaySeconds: 0, slowStartSeconds: 0, stickiness: { enabled: false, type: 'lb_cookie', durationSeconds: 86400 }, algorithm: 'round_robin' };
  const desired = (ports) => ({
    loadBalancers: [{ id: 'peer', name: 'peer', type: 'application', listeners: [{ id: 'l', port: driverPort, protocol: 'HTTP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'web', weight: 1 }] }, rules: [] }] }],
    targetGroups: [{ id: 'web', name: 'web', protocol: 'HTTP', healthCheck: hc, attributes, targets: ports.map((port) => ({ address: '127.0.0.1', port })) }],
  });
  driver = new LbDriver({ dir: join(dir, 'peer'), bindAddress: '127.0.0.1', log: quiet });
  await driver.start(desired([driverBase.port]));
  await until('the peer base target healthy', () => driver.health().some((h) => h.state === 'healthy'));

  // 1. Registration latency, the two paths alternating.
  const apiLoad = lightLoad(apiPort);
  const driverLoad = lightLoad(driverPort);
  const apiMs = [];
  const driverMs = [];
  for (let i = 0; i < runs; i++) {
    const a = await backend(`api-${i}`);
    let t0 = performance.now();
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] }));
    await until(`api-${i} to get a request`, () => a.firstAt !== undefined, TARGET_MS * 3);
    apiMs.push(Math.round(a.firstAt - t0));
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: '127.0.0.1', Port: a.port }] }));

    const d = await backend(`driver-${i}`);
    t0 = performance.now();
    await driver.apply(desired([driverBase.port, d.port]));
    await until(`driver-${i} to get a request`, () => d.firstAt !== undefined, TARGET_MS * 3);
    driverMs.push(Math.round(d.firstAt - t0));
    await driver.apply(desired([driverBase.port]));
    await sleep(1500); // both gone from HAProxy (the node's next tick) before their servers close
    await a.close();
    await d.close();
  }
  await apiLoad.stop();
  await driverLoad.stop();
  if (apiLoad.counts.failed || driverLoad.counts.failed) throw new Error(`requests failed during registrations: api ${apiLoad.counts.failed}, driver ${driverLoad.counts.failed}`);

  // 2. Rule changes under load (a second healthy target so the backends are not the limit).
  const extra = await backend('extra');
  closers.push(extra.close);
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: tgArn, Targets: [{ Id: '127.0.0.1', Port: extra.port }] }));
  await until('two healthy targets', async () => {
    const d = (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }))).TargetHealthDescriptions ?? [];
    return d.filter((x) => x.TargetHealth.State === 'healthy').length === 2;
  });
  const request = { method: 'GET', path: '/', headers: { Host: 'bench.local' }, body: '' };
  const url = `http://127.0.0.1:${apiPort}`;
  await runWrk({ url, requests: [request], connections, seconds: 1 }); // warm-up
  const reloads = async () => {
    const out = await runtimeCommand(haproxyPaths(join(dir, 'lb')).masterSocket, 'show proc');
    return Number(/^\d+\s+master\s+(\d+)/m.exec(out)?.[1] ?? NaN);
  };
  const answers = async (path, body) => {
    const r = await fetch(`${url}${path}`).catch(() => undefined);
    return r?.status === 200 && (await r.text()) === body;
  };
  // Rounds alternate a steady run and a run with rule changes, so other load on a shared machine falls on both.
  const steadyRuns = [];
  const changingRuns = [];
  let changes = 0;
  let ruleArn;
  let ruleNo = 0;
  const reloadsBefore = await reloads();
  for (let r = 0; r < rounds; r++) {
    steadyRuns.push(await runWrk({ url, requests: [request], connections, seconds }));
    let changing = true;
    const changer = (async () => {
      while (changing) {
        const body = `rule-${ruleNo++}`;
        const action = [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '200', ContentType: 'text/plain', MessageBody: body } }];
        if (ruleArn === undefined) {
          ruleArn = (await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: 10, Conditions: [{ Field: 'path-pattern', Values: ['/rule'] }], Actions: action }))).Rules[0].RuleArn;
        } else {
          await elb.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: action }));
        }
        await until(`${body} served`, () => answers('/rule', body), 15_000);
        changes++;
      }
    })();
    const during = await runWrk({ url, requests: [request], connections, seconds }).catch((e) => ({ error: e.message }));
    changing = false;
    await changer;
    if (during.error) throw new Error(`errors during rule changes: ${during.error}`);
    changingRuns.push(during);
  }
  const reloadsDone = (await reloads()) - reloadsBefore;
  const steady = { rps: median(steadyRuns.map((x) => x.rps)), p99_ms: median(steadyRuns.map((x) => x.p99_ms)) };
  const during = { rps: median(changingRuns.map((x) => x.rps)), p99_ms: median(changingRuns.map((x) => x.p99_ms)) };

  const apiMedian = median(apiMs);
  const driverMedian = median(driverMs);
  console.log(
    JSON.stringify({
      bench: 'lb-register-latency',
      health_check: { interval_s: INTERVAL_S, healthy_threshold: THRESHOLD },
      register_to_first_request_ms: { api_median: apiMedian, driver_median: driverMedian, api_runs: apiMs, driver_runs: driverMs },
      target_ms: TARGET_MS,
      api_vs_target: Number((apiMedian / TARGET_MS).toFixed(3)),
      api_vs_driver: Number((apiMedian / driverMedian).toFixed(3)),
      rule_changes_under_load: { changes, reloads: reloadsDone, errors: 0, connections, seconds, rounds, rps: during.rps, p99_ms: during.p99_ms, steady_rps: steady.rps, steady_p99_ms: steady.p99_ms },
      rps_vs_steady: Number((during.rps / steady.rps).toFixed(3)),
    }),
  );
} finally {
  await driver?.stop();
  await lb?.stop();
  await stopStaleHaproxy(join(dir, 'lb')).catch(() => []);
  for (const c of closers.reverse()) await c();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
