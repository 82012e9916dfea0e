#!/usr/bin/env node
// Signed-request throughput of the control plane on its two stores, same machine, one run:
//   sqlite       one `berth server` on SQLite (fsync per commit)
//   etcd1        one replica on a 1-member etcd
//   etcd3        one replica on a 3-member etcd
//   etcd3x3      three replicas on that same 3-member etcd (other key prefix), requests spread evenly
// Operations: DescribeTasks (--describe-tasks existing tasks per request) and RunTask (count 1).
//
// Load: wrk replaying requests signed just before each phase (bench/lib/wrk.mjs), --concurrency keep-alive
// connections; against three replicas, one wrk per replica with a third of the connections each (a
// connection-level round robin, as a TCP load balancer in front of them does). Instances are registered
// through the API and kept connected by light WebSocket sessions that acknowledge what they are sent
// (bench/lib/agent-sessions.mjs), so RunTask places without starting containers. The placed tasks stay
// PENDING and a faster setup would place against a fuller cluster, so each RunTask phase gets a fresh
// cluster (and instances): every setup starts each phase from zero tasks.
//
// SQLite's file and etcd's data live on the same filesystem (--dir, default the OS temporary directory).
// Phases alternate between setups; the line reports medians per setup, the etcd/SQLite ratios, p50/p99
// latency (for three replicas: the worst replica's), and CPU time per request of the berth processes and of
// the etcd members, from /proc. Prints one JSON line. Needs `npm run build` and wrk (apt-get install -y wrk).
//
//   node bench/replicated-throughput.mjs [--concurrency 32] [--seconds 5] [--runs 5] [--describe-tasks 4] [--dir /tmp]
//     [--setups sqlite,etcd1,etcd3,etcd3x3] [--ops describe,runTask]
// BENCH_SERVER_NODE_ARGS: node flags for the berth processes, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { registerInstances, waitConnected } from './lib/agent-sessions.mjs';
import { startServer, stopAll } from './lib/berth-processes.mjs';
import { call, signed, signerFor } from './lib/ecs-signed.mjs';
import { startEtcd } from './lib/etcd.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';
import { startReplicas } from './lib/replicas.mjs';
import { runWrk } from './lib/wrk.mjs';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '5' },
    runs: { type: 'string', default: '5' },
    'describe-tasks': { type: 'string', default: '4' },
    instances: { type: 'string', default: '30' },
    dir: { type: 'string', default: tmpdir() },
    setups: { type: 'string', default: 'sqlite,etcd1,etcd3,etcd3x3' },
    ops: { type: 'string', default: 'describe,runTask' },
  },
});
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const DESCRIBED = Number(values['describe-tasks']);
const INSTANCES = Number(values.instances);
const SETUPS = values.setups.split(',');
const OPS = values.ops.split(',');
const POOL = 64;
const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS ? process.env.BENCH_SERVER_NODE_ARGS.split(' ') : [];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const taskDefinition = { family: 'bench', containerDefinitions: [{ name: 'app', image: 'busybox:latest', memory: 6, cpu: 1 }] };

const root = mkdtempSync(join(values.dir, 'berth-bench-replicated-'));
const etcds = [];
const sessions = [];

/** One setup: its replica URLs (one or three), keys, pids to meter, and what each phase needs. */
async function prepare(name, servers, etcdPids) {
  const urls = servers.map((s) => s.url);
  const { keys } = servers[0];
  await call(urls[0], keys, 'CreateCluster', { clusterName: 'bench' });
  await call(urls[0], keys, 'RegisterTaskDefinition', taskDefinition);
  const fleet = await registerInstances({ urls, keys, cluster: 'bench', count: INSTANCES, tag: `${name}-describe` });
  sessions.push(fleet);
  await waitConnected(urls[0], keys, 'bench', fleet.arns);
  // The tasks DescribeTasks reads: placed once, never changing (they stay PENDING).
  const taskArns = [];
  while (taskArns.length < 16) {
    const out = await call(urls[0], keys, 'RunTask', { cluster: 'bench', taskDefinition: 'bench', count: 8 });
    if (out.failures.length) throw new Error(`${name}: RunTask failed to place: ${JSON.stringify(out.failures)}`);
    taskArns.push(...out.tasks.map((t) => t.taskArn));
  }
  const pids = servers.map((s) => s.child.pid);
  // What the setup burns doing nothing (leases, watches, sessions' heartbeats), in cores, over 2 s.
  const cpu = (ps) => ps.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const [berthIdle, etcdIdle] = [cpu(pids), cpu(etcdPids)];
  await sleep(2_000);
  const idle = { berth_cores: Number(((cpu(pids) - berthIdle) / 2).toFixed(3)), etcd_cores: Number(((cpu(etcdPids) - etcdIdle) / 2).toFixed(3)) };
  return { name, servers, urls, keys, etcdPids, taskArns, pids, idle, runTaskPhases: 0 };
}

/** Requests for one phase per replica URL, signed now. */
async function poolFor(setup, url, action, input) {
  const signer = signerFor(setup.keys);
  return Promise.all(Array.from({ length: POOL }, (_, i) => signed(url, setup.keys, action, input(i), signer)));
}

/**
 * runWrk, run again once when wrk printed nothing at all (seen once on this loaded machine, exit status 0 and
 * empty output); said on stderr. Any other failure (a refused request, a failed socket) fails the bench.
 */
async function wrkOnce(options) {
  try {
    return await runWrk(options);
  } catch (e) {
    if (!/no result from wrk: $/.test(e.message)) throw e;
    console.error(`wrk against ${options.url} printed nothing; running it again`);
    return runWrk(options);
  }
}

/** One wrk run per replica at once, connections split evenly; summed requests/s, worst replica's latency, CPU per request. */
async function phase(setup, action, input) {
  const pools = await Promise.all(setup.urls.map((url) => poolFor(setup, url, action, input)));
  const cpu = (pids) => pids.reduce((s, pid) => s + cpuSeconds(pid), 0);
  const [berthBefore, etcdBefore] = [cpu(setup.pids), cpu(setup.etcdPids)];
  const shares = setup.urls.map((_, i) => Math.floor(CONCURRENCY / setup.urls.length) + (i < CONCURRENCY % setup.urls.length ? 1 : 0));
  const results = await Promise.all(setup.urls.map((url, i) => wrkOnce({ url, requests: pools[i], connections: shares[i], seconds: SECONDS, threads: 1 })));
  const requests = results.reduce((s, r) => s + r.requests, 0);
  const perRequest = (seconds) => Math.round((seconds * 1e6) / requests);
  return {
    requests,
    rps: results.reduce((s, r) => s + r.rps, 0),
    p50_ms: Math.max(...results.map((r) => r.p50_ms)),
    p99_ms: Math.max(...results.map((r) => r.p99_ms)),
    berth_cpu_us_per_req: perRequest(cpu(setup.pids) - berthBefore),
    etcd_cpu_us_per_req: perRequest(cpu(setup.etcdPids) - etcdBefore),
  };
}

async function describePhase(setup) {
  // Each request names DESCRIBED of the tasks, a different window per request.
  const input = (i) => ({ cluster: 'bench', tasks: Array.from({ length: DESCRIBED }, (_, k) => setup.taskArns[(i + k) % setup.taskArns.length]) });
  // A task not found is a 200 with a failure entry: check once through every replica that all are found.
  for (const url of setup.urls) {
    const out = await call(url, setup.keys, 'DescribeTasks', input(0));
    if (out.tasks.length !== DESCRIBED || out.failures.length) throw new Error(`${setup.name}: DescribeTasks through ${url}: ${JSON.stringify(out.failures)}`);
  }
  return phase(setup, 'DescribeTasks', input);
}

async function runTaskPhase(setup) {
  const cluster = `run-${setup.runTaskPhases++}`;
  await call(setup.urls[0], setup.keys, 'CreateCluster', { clusterName: cluster });
  const fleet = await registerInstances({ urls: setup.urls, keys: setup.keys, cluster, count: INSTANCES, tag: `${setup.name}-${cluster}` });
  try {
    await waitConnected(setup.urls[0], setup.keys, cluster, fleet.arns);
    const result = await phase(setup, 'RunTask', () => ({ cluster, taskDefinition: 'bench', count: 1 }));
    // Every answered RunTask placed its task (a placement failure is a 200 too): the cluster holds at least as
    // many pending tasks (requests wrk cut off at the end may have been placed as well).
    const { clusters } = await call(setup.urls[0], setup.keys, 'DescribeClusters', { clusters: [cluster] });
    const placed = clusters[0].pendingTasksCount + clusters[0].runningTasksCount;
    if (placed < result.requests || placed > result.requests + CONCURRENCY) {
      throw new Error(`${setup.name}: ${result.requests} RunTask answered but ${placed} tasks in ${cluster}`);
    }
    return { ...result, tasks_in_cluster_after: placed };
  } finally {
    fleet.close();
  }
}

function summarize(results) {
  const mid = results.find((r) => r.rps === median(results.map((x) => x.rps)));
  return {
    rps_median: mid.rps,
    p50_ms: mid.p50_ms,
    p99_ms: mid.p99_ms,
    runs_rps: results.map((r) => r.rps),
    berth_cpu_us_per_req_median: median(results.map((r) => r.berth_cpu_us_per_req)),
    etcd_cpu_us_per_req_median: median(results.map((r) => r.etcd_cpu_us_per_req)),
    ...(results[0].tasks_in_cluster_after !== undefined ? { tasks_per_phase: results.map((r) => r.tasks_in_cluster_after) } : {}),
  };
}

try {
  const setups = [];
  if (SETUPS.includes('sqlite')) setups.push(await prepare('sqlite', [await startServer(join(root, 'sqlite'), { nodeArgs })], []));
  if (SETUPS.includes('etcd1')) {
    const etcd1 = await startEtcd({ members: 1, dir: join(root, 'etcd1'), name: 'one' });
    etcds.push(etcd1);
    const replicas = await startReplicas({ count: 1, root: join(root, 'etcd1-replica'), endpoints: etcd1.endpoints, nodeArgs });
    setups.push(await prepare('etcd1', replicas, etcd1.pids));
  }
  if (SETUPS.includes('etcd3') || SETUPS.includes('etcd3x3')) {
    const etcd3 = await startEtcd({ members: 3, dir: join(root, 'etcd3'), name: 'three' });
    etcds.push(etcd3);
    // Both setups on the same members, under their own key prefixes.
    if (SETUPS.includes('etcd3')) {
      const replicas = await startReplicas({ count: 1, root: join(root, 'etcd3-replica'), endpoints: etcd3.endpoints, prefix: 'single/', nodeArgs });
      setups.push(await prepare('etcd3', replicas, etcd3.pids));
    }
    if (SETUPS.includes('etcd3x3')) {
      const replicas = await startReplicas({ count: 3, root: join(root, 'etcd3-replicas'), endpoints: etcd3.endpoints, prefix: 'trio/', nodeArgs });
      setups.push(await prepare('etcd3x3', replicas, etcd3.pids));
    }
  }
  // Warm up connections, the JIT and the signing-key caches.
  for (const s of setups) await describePhase(s);

  const results = Object.fromEntries(setups.map((s) => [s.name, { describe: [], runTask: [] }]));
  for (let r = 0; r < RUNS; r++) {
    if (OPS.includes('describe')) for (const s of setups) results[s.name].describe.push(await describePhase(s));
    if (OPS.includes('runTask')) for (const s of setups) results[s.name].runTask.push(await runTaskPhase(s));
  }
  const op = (kind) => {
    if (!OPS.includes(kind)) return undefined;
    const per = Object.fromEntries(setups.map((s) => [s.name, summarize(results[s.name][kind])]));
    if (!per.sqlite) return per;
    const etcd = setups.filter((s) => s.name !== 'sqlite').map((s) => [s.name, Number((per[s.name].rps_median / per.sqlite.rps_median).toFixed(2))]);
    return { ...per, etcd_over_sqlite: Object.fromEntries(etcd) };
  };
  console.log(
    JSON.stringify({
      bench: 'replicated-throughput',
      generator: `${spawnSync('wrk', ['-v']).stdout.toString().split(' [')[0]}, 1 thread per replica, pre-signed keep-alive requests`,
      etcd: spawnSync('/usr/bin/etcd', ['--version']).stdout.toString().split('\n')[0],
      data_dir: values.dir,
      concurrency: CONCURRENCY,
      seconds_per_run: SECONDS,
      runs: RUNS,
      describe_tasks_per_request: DESCRIBED,
      instances: INSTANCES,
      idle_cpu: Object.fromEntries(setups.map((s) => [s.name, s.idle])),
      describeTasks: op('describe'),
      runTask: op('runTask'),
      node: process.version,
      // Other work on the shared machine moves requests/s between runs; CPU per request moves much less.
      loadavg_1m: Number(loadavg()[0].toFixed(2)),
    }),
  );
} finally {
  for (const s of sessions) s.close();
  await stopAll();
  for (const e of etcds) await e.stop();
  rmSync(root, { recursive: true, force: true });
}
