#!/usr/bin/env node
// End-to-end scheduling throughput: tasks placed and durably committed per second by RunTask (count 10)
// against 1,000 registered container instances, on a real `berth server` process with SQLite (every commit
// fsynced before the answer). ECS's own sustained limit is 40 RunTask calls/s × 10 tasks = 400 tasks/s.
//
// The instances are registered through the API (RegisterContainerInstance) and each gets a session: a light
// WebSocket client per instance that signs the upgrade as the agent does and acknowledges every payload and
// heartbeat (placement only considers instances whose agent is connected). No containers run: the tasks stay
// PENDING, so every round places against a cluster that keeps growing (as it would while tasks start).
// Then --workers concurrent loops call RunTask count 10 for --seconds per round, --rounds times.
// Prints one JSON line: median tasks/s and calls/s over the rounds, each round's figure, call latency, and
// how many tasks the sessions received (proof the gateway pushed them).
//
// Needs `npm run build`.   node bench/scheduling-throughput.mjs [--instances 1000] [--workers 8] [--rounds 5] [--seconds 3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from 'node:http';
import { CreateClusterCommand, DescribeContainerInstancesCommand, ECSClient, RegisterContainerInstanceCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import WebSocket from 'ws';
import { startServer, stopAll } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
  },
});
const INSTANCES = Number(values.instances);
const WORKERS = Number(values.workers);
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const CLUSTER = 'bench';
const REGION = 'us-east-1';

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
const round1 = (x) => Math.round(x * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-scheduling-'));
const sockets = [];
let ecs;
try {
  // BENCH_SERVER_NODE_ARGS: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the server.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [];
  const server = await startServer(join(dir, 'server'), { logLevel: process.env.BENCH_SERVER_LOGLEVEL ?? 'warn', nodeArgs });
  ecs = new ECSClient({
    endpoint: server.url,
    region: REGION,
    credentials: server.keys,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: WORKERS * 2 }) }),
  });
  await ecs.send(new CreateClusterCommand({ clusterName: CLUSTER }));

  // Register the instances, a few at a time.
  const arns = [];
  const registerStarted = performance.now();
  for (let i = 0; i < INSTANCES; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, INSTANCES - i) }, (_, j) =>
        ecs.send(
          new RegisterContainerInstanceCommand({
            cluster: CLUSTER,
            instanceIdentityDocument: JSON.stringify({ instanceId: `i-bench${String(i + j).padStart(10, '0')}` }),
            totalResources: [
              { name: 'CPU', type: 'INTEGER', integerValue: 1_000_000 },
              { name: 'MEMORY', type: 'INTEGER', integerValue: 1_000_000 },
            ],
            attributes: [{ name: 'ecs.availability-zone', value: `${REGION}${'abc'[(i + j) % 3]}` }],
          }),
        ),
      ),
    );
    for (const r of batch) arns.push(r.containerInstance.containerInstanceArn);
  }
  const registerSeconds = (performance.now() - registerStarted) / 1000;

  // One session per instance, acknowledging what it is sent.
  let payloadTasks = 0;
  const clusterArn = arns[0].replace(/container-instance\/([^/]+)\/.*$/, 'cluster/$1');
  const openSession = async (instanceArn) => {
    const url = new URL('/ws', server.url);
    url.protocol = 'ws:';
    const query = { clusterArn, containerInstanceArn: instanceArn, seqNum: '0', protocolVersion: '2', agentVersion: 'bench' };
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const signer = new SignatureV4({ credentials: server.keys, region: REGION, service: 'ecs', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
    const signed = await signer.sign(
      new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: url.host } }),
    );
    const { host: _host, ...headers } = signed.headers;
    const ws = new WebSocket(url, { headers });
    sockets.push(ws);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'PayloadMessage') {
        payloadTasks += frame.message.tasks.length;
        ws.send(JSON.stringify({ type: 'AckRequest', message: { cluster: clusterArn, containerInstance: instanceArn, messageId: frame.message.messageId } }));
      } else if (frame.type === 'HeartbeatMessage') {
        ws.send(JSON.stringify({ type: 'HeartbeatAckRequest', message: { messageId: frame.message.messageId } }));
      }
    });
    // The agent's pings are its heartbeats: without them the gateway drops a session after 25 s.
    const ping = setInterval(() => ws.readyState === WebSocket.OPEN && ws.ping(), 5_000);
    ws.on('close', () => clearInterval(ping));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  };
  for (let i = 0; i < arns.length; i += 50) await Promise.all(arns.slice(i, i + 50).map(openSession));

  // Until the control plane shows every instance connected.
  const deadline = Date.now() + 60_000;
  for (;;) {
    let connected = 0;
    for (let i = 0; i < arns.length; i += 100) {
      const { containerInstances } = await ecs.send(new DescribeContainerInstancesCommand({ cluster: CLUSTER, containerInstances: arns.slice(i, i + 100) }));
      connected += containerInstances.filter((c) => c.agentConnected).length;
    }
    if (connected === arns.length) break;
    if (Date.now() > deadline) throw new Error(`only ${connected} of ${arns.length} instances connected`);
    await sleep(200);
  }

  await ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'bench', containerDefinitions: [{ name: 'app', image: 'busybox', memory: 6, cpu: 1 }] }),
  );

  // The server's own CPU time (user + system, from /proc), so a figure taken on a busy shared machine can
  // be read as CPU per call as well as calls per second.
  const cpuSeconds = () => {
    const fields = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const cpuBefore = cpuSeconds();
  const wallBefore = performance.now();
  let callsTotal = 0;
  const rounds = [];
  const latencies = [];
  let tasksTotal = 0;
  let failures = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let tasks = 0;
    let calls = 0;
    const started = performance.now();
    const until = started + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          const out = await ecs.send(new RunTaskCommand({ cluster: CLUSTER, taskDefinition: 'bench', count: 10 }));
          latencies.push(performance.now() - t0);
          tasks += out.tasks.length;
          failures += out.failures.length;
          calls++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    tasksTotal += tasks;
    callsTotal += calls;
    rounds.push({ tasks_per_s: Math.round(tasks / seconds), calls_per_s: round1(calls / seconds), cluster_tasks_after: tasksTotal });
  }
  const serverCpu = cpuSeconds() - cpuBefore;
  const wall = (performance.now() - wallBefore) / 1000;
  // Every placed task reaches its instance's session (the gateway pushes it).
  const pushDeadline = Date.now() + 60_000;
  while (payloadTasks < tasksTotal && Date.now() < pushDeadline) await sleep(100);

  console.log(
    JSON.stringify({
      bench: 'scheduling-throughput',
      store: 'sqlite',
      instances: INSTANCES,
      workers: WORKERS,
      count_per_call: 10,
      round_seconds: SECONDS,
      median_tasks_per_s: quantile(rounds.map((r) => r.tasks_per_s), 0.5),
      median_calls_per_s: quantile(rounds.map((r) => r.calls_per_s), 0.5),
      rounds,
      call_latency_ms: { p50: round1(quantile(latencies, 0.5)), p95: round1(quantile(latencies, 0.95)) },
      server_cpu_ms_per_call: round1((serverCpu * 1000) / callsTotal),
      server_cpu_cores_busy: round1(serverCpu / wall),
      load_average_1m: round1(Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0])),
      tasks_total: tasksTotal,
      placement_failures: failures,
      tasks_pushed_to_sessions: payloadTasks,
      register_instances_s: round1(registerSeconds),
      target_tasks_per_s: 2000,
    }),
  );
} finally {
  for (const ws of sockets) ws.terminate();
  ecs?.destroy();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
}
