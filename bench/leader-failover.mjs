#!/usr/bin/env node
// Leader failover of the replicated control plane: three `berth server --store etcd` replicas on a 3-member
// etcd (real processes). Each run finds the leader by /healthz, kills it with SIGKILL, and at once raises a
// service's desiredCount by one through a surviving replica; the figure is the time from the kill to the
// `createdAt` of the task the new leader's service controller then creates (its first action), read back
// through the API. Also: when /healthz first shows the new leader. Then the killed replica is started
// again on its data directory and the next run waits for a single leader.
//
// The leader's lease has a 5 s TTL (controllers/leadership.ts); a killed leader cannot revoke it, so the
// expected figure is about that TTL plus the new leader's start of its duties. Instances are registered
// through the API and kept connected by light acknowledging sessions that move to another replica when
// theirs dies (bench/lib/agent-sessions.mjs). Prints one JSON line: median and p90 of --runs runs, each run.
// Needs `npm run build`.
//
//   node bench/leader-failover.mjs [--runs 10] [--dir /tmp]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { registerInstances, waitConnected } from './lib/agent-sessions.mjs';
import { stopAll } from './lib/berth-processes.mjs';
import { call } from './lib/ecs-signed.mjs';
import { startEtcd } from './lib/etcd.mjs';
import { health, startReplica, startReplicas, waitForOneLeader } from './lib/replicas.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, dir: { type: 'string', default: tmpdir() } } });
const RUNS = Number(values.runs);
const CLUSTER = 'bench';
const SERVICE = 'failover';

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const alive = (r) => r.child.exitCode === null && r.child.signalCode === null;

const root = mkdtempSync(join(values.dir, 'berth-bench-failover-'));
let etcd;
let fleet;
try {
  etcd = await startEtcd({ members: 3, dir: join(root, 'etcd'), name: 'failover' });
  const replicas = await startReplicas({ count: 3, root, endpoints: etcd.endpoints });
  const { keys } = replicas[0];
  await waitForOneLeader(replicas);

  const any = () => replicas.find(alive).url;
  await call(any(), keys, 'CreateCluster', { clusterName: CLUSTER });
  await call(any(), keys, 'RegisterTaskDefinition', { family: 'bench', containerDefinitions: [{ name: 'app', image: 'busybox:latest', memory: 6, cpu: 1 }] });
  // Instances spread over the replicas, so that killing one leaves the others' sessions where they are.
  fleet = await registerInstances({ urls: () => replicas.map((r) => r.url), keys, cluster: CLUSTER, count: 3 });
  await waitConnected(any(), keys, CLUSTER, fleet.arns);
  await call(any(), keys, 'CreateService', { cluster: CLUSTER, serviceName: SERVICE, taskDefinition: 'bench', desiredCount: 1 });

  /** The service's task ARNs, read through `url`. */
  const serviceTasks = async (url) => (await call(url, keys, 'ListTasks', { cluster: CLUSTER, serviceName: SERVICE })).taskArns;
  /** Until the service has `n` tasks (deadline `ms`); their ARNs. */
  const waitTasks = async (url, n, ms) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const arns = await serviceTasks(url);
      if (arns.length >= n) return arns;
      if (Date.now() > deadline) throw new Error(`service has ${arns.length} tasks, not ${n}, after ${ms} ms: ${await diagnosis(url)}`);
      await sleep(50);
    }
  };
  /** What the replicas and the service say, for a failure message. */
  const diagnosis = async (url) => {
    const roles = await Promise.all(replicas.map((r) => health(r.url)));
    const { services } = await call(url, keys, 'DescribeServices', { cluster: CLUSTER, services: [SERVICE] });
    const { containerInstances } = await call(url, keys, 'DescribeContainerInstances', { cluster: CLUSTER, containerInstances: fleet.arns });
    return JSON.stringify({
      healthz: roles,
      service: { desired: services[0].desiredCount, running: services[0].runningCount, pending: services[0].pendingCount, events: services[0].events.slice(0, 5).map((e) => e.message) },
      agentConnected: containerInstances.map((c) => c.agentConnected),
    });
  };
  let desired = 1;
  await waitTasks(any(), desired, 30_000);

  const runs = [];
  for (let run = 0; run < RUNS; run++) {
    const leader = await waitForOneLeader(replicas);
    const survivors = replicas.filter((r) => r !== leader);
    const before = new Set(await serviceTasks(survivors[0].url));

    const killedAt = Date.now();
    await leader.kill();
    // A write through a survivor (the store does not need a leader): only the next leader's controller acts on it.
    desired++;
    await call(survivors[0].url, keys, 'UpdateService', { cluster: CLUSTER, service: SERVICE, desiredCount: desired });

    // When /healthz first names a new leader (polled every 20 ms), alongside the controller's action.
    let leaderSeenAt;
    const watchHealth = (async () => {
      while (leaderSeenAt === undefined && Date.now() - killedAt < 60_000) {
        const roles = await Promise.all(survivors.map((r) => health(r.url)));
        if (roles.some((h) => h?.role === 'leader')) leaderSeenAt = Date.now();
        else await sleep(20);
      }
    })();
    const arns = await waitTasks(survivors[0].url, desired, 60_000);
    await watchHealth;
    const created = arns.filter((a) => !before.has(a));
    const { tasks } = await call(survivors[0].url, keys, 'DescribeTasks', { cluster: CLUSTER, tasks: created });
    const firstCreated = Math.min(...tasks.map((t) => t.createdAt * 1000));
    const newLeader = (await Promise.all(survivors.map(async (r) => ({ r, h: await health(r.url) })))).find((x) => x.h?.role === 'leader');
    runs.push({
      killed: leader.replicaId,
      new_leader: newLeader?.r.replicaId,
      to_first_action_ms: Math.round(firstCreated - killedAt),
      to_healthz_leader_ms: leaderSeenAt === undefined ? null : leaderSeenAt - killedAt,
    });

    // The killed replica comes back as a follower on its own data directory.
    const i = replicas.indexOf(leader);
    replicas[i] = await startReplica({ dataDir: join(root, leader.replicaId), sharedDir: join(root, 'shared'), endpoints: etcd.endpoints, replicaId: leader.replicaId });
  }
  await waitForOneLeader(replicas);
  const action = runs.map((r) => r.to_first_action_ms);
  const seen = runs.map((r) => r.to_healthz_leader_ms).filter((x) => x !== null);
  console.log(
    JSON.stringify({
      bench: 'leader-failover',
      etcd_members: 3,
      replicas: 3,
      lease_ttl_ms: 5000,
      runs: RUNS,
      to_first_action_ms: { median: quantile(action, 0.5), p90: quantile(action, 0.9), min: Math.min(...action), max: Math.max(...action) },
      to_healthz_leader_ms: { median: quantile(seen, 0.5), p90: quantile(seen, 0.9) },
      each_run: runs,
      node: process.version,
      loadavg_1m: Number(loadavg()[0].toFixed(2)),
    }),
  );
} finally {
  fleet?.close();
  await stopAll();
  await etcd?.stop();
  rmSync(root, { recursive: true, force: true });
}
