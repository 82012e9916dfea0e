#!/usr/bin/env node
// Task start latency, side by side in one run, same busybox image and command (`sleep 3600`), image cached:
//
//   berth       RunTask → RUNNING as DescribeTasks shows it (polled every 5 ms), real `berth server` and
//               `berth agent` from dist/, for networkMode none and bridge with one published port;
//   runc        bare `runc run -d` with the very config.json berth's runtime wrote for a task of that mode
//               (same isolation: seccomp, capabilities, cgroups, mounts; a fresh network namespace), and
//               with `runc spec`'s defaults; for bridge also runc after the same CNI chain berth runs;
//   ctr         `ctr run -d` against containerd from Debian's package, started by the bench (bridge: the
//               same CNI chain attached first by berth's network code, then `ctr run --with-ns`: ctr's
//               own `--cni` would need /etc/cni and /opt/cni);
//   podman      `podman run -d --runtime runc` (bridge: `-p 80`, podman's own network).
//
// Variants alternate run by run, so the host's noise hits all alike. Then: 50 tasks RUNNING and the
// agent's RSS; 0 → 200 tasks RUNNING on the one host (RunTask count 10, 20 calls at once) and the
// agent's CPU time per task start over that burst. berth logs at debug level by default
// (BENCH_SERVER_LOGLEVEL / BENCH_AGENT_LOGLEVEL), so that its start spans (src/process/spans.ts) are
// summarised too: where the median start's milliseconds went.
// Needs root, `npm run build`, runc, docker-registry; containerd and podman are measured when installed
// (missing ones are named in the output). Prints one JSON line.
//
// --compare <root>: also run another build's berth (its dist/, e.g. a checkout of main, built) for the same
// tasks, interleaved with this one's, with its own server, agent and bridge.
//
//   node bench/runtask-latency.mjs [--count 30] [--burst 200] [--resident 50] [--compare <root>]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { CniNetworkService } from '../dist/network/cni-network-service.js';
import { removeAgentBridge, startAgent, startServer, stopAll } from './lib/berth-processes.mjs';
import { containerdMissing, startContainerd } from './lib/containerd.mjs';
import { podmanIn, podmanMissing } from './lib/podman.mjs';
import { cpuSecondsWithHelpers as cpuSeconds } from './lib/process-cpu.mjs';
import { summarizeSpans } from './lib/start-spans.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: { count: { type: 'string', default: '30' }, burst: { type: 'string', default: '200' }, resident: { type: 'string', default: '50' }, compare: { type: 'string' } },
});
const count = Number(values.count);
const burst = Number(values.burst);
const resident = Number(values.resident);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage, writeBusyboxRootfs } = await load('src/testing/busybox-image.ts');
const { startDockerRegistry, freePort } = await load('src/testing/docker-registry.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-runtask-'));
// Bridges and subnets of this run's own: two runs on one machine must not remove each other's bridge or port map.
const { freeSubnet24 } = await load('src/testing/network-fixtures.ts');
const subnets = new Set();
while (subnets.size < 3) subnets.add(await freeSubnet24());
const [subnet0, subnet1, subnet2] = subnets;
const runTag = process.pid.toString(36).slice(-5);
const BRIDGE = { bridge: `bb${runTag}0`, subnet: subnet0 };
const COMPARE_BRIDGE = { bridge: `bb${runTag}1`, subnet: subnet1 };
const OTHERS_BRIDGE = { name: 'berth-bench-ctr', bridge: `bb${runTag}c`, subnet: subnet2 };
const epochNow = () => performance.timeOrigin + performance.now();
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const round = (x) => Math.round(x * 10) / 10;
const summarize = (xs) => (xs.length ? { p50_ms: round(quantile(xs, 0.5)), p95_ms: round(quantile(xs, 0.95)) } : undefined);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const timed = async (work) => {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
};

const registry = await startDockerRegistry();
const missing = {};
let ecs;
const clients = [];
let containerd;
let podman;
let othersNet;
try {
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);

  /** A berth control plane and agent from `cli` (this build's, or --compare's), with the bench's task definitions. */
  async function startBerthPair(name, bridge, cli) {
    const server = await startServer(join(dir, `${name}-server`), { logLevel: process.env.BENCH_SERVER_LOGLEVEL ?? 'debug', ...(cli ? { cli } : {}) });
    // A second agent in this network namespace needs a metadata endpoint port of its own.
    const env = { ECS_LOGLEVEL: process.env.BENCH_AGENT_LOGLEVEL ?? 'debug', ...(cli ? { BERTH_METADATA_ADDRESS: `169.254.170.2:${await freePort()}` } : {}) };
    const agent = startAgent(server, join(dir, `${name}-agent`), bridge, env, ...(cli ? [cli] : []));
    await agent.until(/registered arn/);
    const client = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 });
    clients.push(client);
    const container = { name: 'app', image, memory: 64, stopTimeout: 0 };
    const register = (family, networkMode, c) => client.send(new RegisterTaskDefinitionCommand({ family, networkMode, containerDefinitions: [c] }));
    await register('bench-none', 'none', container);
    await register('bench-bridge', 'bridge', { ...container, portMappings: [{ containerPort: 80 }] });
    // Many at once on one host: a soft reservation, so 200 fit the host's memory as placement counts it.
    await register('bench-many', 'none', { name: 'app', image, memoryReservation: 16, stopTimeout: 0 });
    return { server, agent, ecs: client, dataDir: join(dir, `${name}-agent`) };
  }
  const berth = await startBerthPair('berth', BRIDGE);
  const { server, agent } = berth;
  ecs = berth.ecs;
  // --compare: the same runs against another build (say main's), interleaved with this one's, so that
  // the host's load hits both alike.
  const compare = values.compare ? await startBerthPair('compare', COMPARE_BRIDGE, join(values.compare, 'dist', 'cli', 'main.js')) : undefined;
  await sleep(500);

  // --- berth
  const berthConfig = {};
  const spanTasks = [];
  const describeOn = async (client, arns) => {
    const out = [];
    for (let i = 0; i < arns.length; i += 100) out.push(...(await client.send(new DescribeTasksCommand({ tasks: arns.slice(i, i + 100) }))).tasks);
    return out;
  };
  const describe = (arns) => describeOn(ecs, arns);
  async function berthOne(family, mode, measured, target = berth) {
    const t0 = epochNow();
    const { tasks, failures } = await target.ecs.send(new RunTaskCommand({ taskDefinition: family }));
    if (!tasks?.length) throw new Error(JSON.stringify(failures));
    const arn = tasks[0].taskArn;
    for (;;) {
      const [t] = await describeOn(target.ecs, [arn]);
      if (t.lastStatus === 'RUNNING') break;
      if (t.lastStatus === 'STOPPED') throw new Error(`task stopped: ${t.stoppedReason}`);
      await sleep(5);
    }
    const visibleAt = epochNow();
    if (measured && target === berth) spanTasks.push({ arn, t0, visibleAt, mode });
    if (!berthConfig[mode] && target === berth) {
      const bundle = join(target.dataDir, 'runtime', 'containers', `${arn.split('/').at(-1)}-app`);
      berthConfig[mode] = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    }
    await target.ecs.send(new StopTaskCommand({ task: arn }));
    while ((await describeOn(target.ecs, [arn]))[0].lastStatus !== 'STOPPED') await sleep(20);
    return visibleAt - t0;
  }

  // --- bare runc: `runc spec`'s defaults, and berth's own config.json per mode on a plain busybox rootfs
  const runcRoot = join(dir, 'runc-root');
  mkdirSync(runcRoot);
  const runc = (args) =>
    new Promise((resolve, reject) => {
      const p = spawn('runc', [`--root=${runcRoot}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args[0]}: ${code} ${err}`))));
    });
  const defaultsBundle = join(dir, 'bare');
  writeBusyboxRootfs(join(defaultsBundle, 'rootfs'));
  execFileSync('runc', ['spec', '--bundle', defaultsBundle]);
  const spec = JSON.parse(readFileSync(join(defaultsBundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['sleep', '3600'];
  writeFileSync(join(defaultsBundle, 'config.json'), JSON.stringify(spec));
  /** A bundle with berth's config.json for `mode`, on a plain rootfs, without agent-owned mounts, with a fresh network namespace. */
  function sameConfigBundle(mode, name = mode) {
    const b = join(dir, `bare-same-${name}`);
    writeBusyboxRootfs(join(b, 'rootfs'));
    const config = structuredClone(berthConfig[mode]);
    config.root = { path: join(b, 'rootfs'), readonly: false };
    // Not the agent's own files, nor the overlay root runc mounts for berth (the bare runs have a plain rootfs).
    config.mounts = config.mounts.filter((m) => !m.source?.startsWith(dir) && !(m.type === 'overlay' && m.destination === '/'));
    config.linux.cgroupsPath = `/berth-bench-bare/${process.pid}-${name}`;
    config.linux.namespaces = config.linux.namespaces.map(({ path: _path, ...ns }) => ns);
    writeFileSync(join(b, 'config.json'), JSON.stringify(config));
    return b;
  }
  let runs = 0;
  async function runcOne(bundle) {
    const id = `bench-bare-${process.pid}-${runs++}`;
    const ms = await timed(() => runc(['run', '-d', '--bundle', bundle, id]));
    await runc(['delete', '--force', id]);
    return ms;
  }

  // --- the same CNI chain for the others' bridge runs (berth's network code, its own bridge and state)
  othersNet = new CniNetworkService({ stateDir: join(dir, 'others-net'), bridge: OTHERS_BRIDGE, netnsPrefix: 'bbench-' });
  const attachBridge = async (id) => (await othersNet.attach({ id, mode: 'bridge', portMappings: [{ containerPort: 80, hostPort: await freePort(), protocol: 'tcp' }] })).netnsPath;
  async function runcCniOne(bundle) {
    const id = `bench-cni-${process.pid}-${runs++}`;
    const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    const ms = await timed(async () => {
      const netns = await attachBridge(id);
      config.linux.namespaces = config.linux.namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: netns } : ns));
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
      await runc(['run', '-d', '--bundle', bundle, id]);
    });
    await runc(['delete', '--force', id]);
    await othersNet.detach(id);
    return ms;
  }

  // --- containerd
  missing.containerd = containerdMissing();
  if (!missing.containerd) {
    containerd = await startContainerd(join(dir, 'containerd'));
    await containerd.ctr(['images', 'pull', '--plain-http', image]);
  }
  async function ctrOne(mode) {
    const id = `bench-ctr-${runs++}`;
    const ms = await timed(async () => {
      const ns = mode === 'bridge' ? ['--with-ns', `network:${await attachBridge(id)}`] : [];
      await containerd.ctr(['run', '-d', '--runtime', 'io.containerd.runc.v2', ...ns, image, id, 'sleep', '3600']);
    });
    await containerd.ctr(['task', 'kill', '--signal', 'SIGKILL', id]).catch(() => {});
    for (let i = 0; i < 100 && (await containerd.ctr(['task', 'delete', id]).then(() => false, () => true)); i++) await sleep(20);
    await containerd.ctr(['container', 'delete', id]);
    if (mode === 'bridge') await othersNet.detach(id);
    return ms;
  }

  // --- podman
  missing.podman = podmanMissing();
  if (!missing.podman) {
    podman = podmanIn(join(dir, 'podman'));
    await podman.podman(['pull', '--tls-verify=false', image]);
  }
  // podman's default limits (1048576 open files, the host's process limit) are refused by runc here
  // (EPERM): this process's open-files limit and a modest process limit, which `sleep` does not notice.
  const [, soft, hard] = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  const ulimits = ['--ulimit', `nofile=${soft}:${hard}`, '--ulimit', 'nproc=4096:4096'];
  async function podmanOne(mode) {
    const id = `bench-podman-${runs++}`;
    const net = mode === 'bridge' ? ['-p', '80'] : ['--network', 'none'];
    const ms = await timed(() => podman.podman(['run', '-d', ...ulimits, '--name', id, ...net, image, 'sleep', '3600']));
    await podman.podman(['rm', '--force', '--time', '0', id]);
    return ms;
  }

  // Warm-up: caches, JIT, and berth's config.json of each mode.
  for (let i = 0; i < 3; i++) {
    await berthOne('bench-none', 'none', false);
    await berthOne('bench-bridge', 'bridge', false);
  }
  const bundles = { none: sameConfigBundle('none'), bridge: sameConfigBundle('bridge'), cni: sameConfigBundle('bridge', 'cni') };
  const variants = {
    berth_none: () => berthOne('bench-none', 'none', true),
    berth_bridge: () => berthOne('bench-bridge', 'bridge', true),
    runc_same_config_none: () => runcOne(bundles.none),
    runc_same_config_bridge: () => runcOne(bundles.bridge),
    runc_same_config_plus_cni_bridge: () => runcCniOne(bundles.cni),
    runc_spec_defaults: () => runcOne(defaultsBundle),
    ...(compare
      ? { compare_berth_none: () => berthOne('bench-none', 'none', true, compare), compare_berth_bridge: () => berthOne('bench-bridge', 'bridge', true, compare) }
      : {}),
    ...(containerd ? { ctr_none: () => ctrOne('none'), ctr_bridge: () => ctrOne('bridge') } : {}),
    ...(podman ? { podman_none: () => podmanOne('none'), podman_bridge: () => podmanOne('bridge') } : {}),
  };
  for (const run of Object.values(variants)) await run();
  spanTasks.length = 0;
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < count; i++) for (const [name, run] of Object.entries(variants)) samples[name].push(await run());
  const latency = Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, summarize(xs)]));
  const p50 = (k) => latency[k]?.p50_ms;
  const ratio = (a, b) => (p50(a) !== undefined && p50(b) !== undefined ? round((p50(a) / p50(b)) * 100) / 100 : undefined);
  const ratios = {
    berth_none_to_runc_same_config: ratio('berth_none', 'runc_same_config_none'),
    berth_bridge_to_runc_same_config: ratio('berth_bridge', 'runc_same_config_bridge'),
    berth_bridge_to_runc_same_config_plus_cni: ratio('berth_bridge', 'runc_same_config_plus_cni_bridge'),
    berth_none_to_ctr: ratio('berth_none', 'ctr_none'),
    berth_bridge_to_ctr: ratio('berth_bridge', 'ctr_bridge'),
    berth_none_to_compare: ratio('berth_none', 'compare_berth_none'),
    berth_bridge_to_compare: ratio('berth_bridge', 'compare_berth_bridge'),
    berth_none_to_podman: ratio('berth_none', 'podman_none'),
    berth_bridge_to_podman: ratio('berth_bridge', 'podman_bridge'),
  };
  const spans = {
    none: summarizeSpans(spanTasks.filter((t) => t.mode === 'none'), server.output(), agent.output()),
    bridge: summarizeSpans(spanTasks.filter((t) => t.mode === 'bridge'), server.output(), agent.output()),
  };

  // --- many tasks on one host
  const runMany = async (n, client = ecs) => {
    const calls = await Promise.all(Array.from({ length: Math.ceil(n / 10) }, (_, i) => client.send(new RunTaskCommand({ taskDefinition: 'bench-many', count: Math.min(10, n - i * 10) }))));
    const arns = calls.flatMap((c) => c.tasks.map((t) => t.taskArn));
    if (arns.length !== n) throw new Error(`placed ${arns.length} of ${n}: ${JSON.stringify(calls.flatMap((c) => c.failures))}`);
    return arns;
  };
  const untilAll = async (arns, status, deadlineMs, client = ecs) => {
    for (const deadline = Date.now() + deadlineMs; ; await sleep(50)) {
      const tasks = await describeOn(client, arns);
      if (tasks.every((t) => t.lastStatus === status)) return;
      if (status === 'RUNNING' && tasks.some((t) => t.lastStatus === 'STOPPED')) throw new Error(`a task stopped: ${tasks.find((t) => t.lastStatus === 'STOPPED').stoppedReason}`);
      if (Date.now() > deadline) throw new Error(`not all ${status} after ${deadlineMs} ms`);
    }
  };
  const stopEvery = async (arns, client = ecs) => {
    for (let i = 0; i < arns.length; i += 20) await Promise.all(arns.slice(i, i + 20).map((task) => client.send(new StopTaskCommand({ task }))));
    await untilAll(arns, 'STOPPED', 300_000, client);
  };
  const agentPid = agent.child.pid;
  const rssMiB = () => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${agentPid}/status`, 'utf8'))[1]) / 1024;

  const some = await runMany(resident);
  await untilAll(some, 'RUNNING', 300_000);
  await sleep(2_000);
  const residentRss = rssMiB();
  await stopEvery(some);

  const cpu0 = cpuSeconds(agentPid);
  const b0 = performance.now();
  const many = await runMany(burst);
  await untilAll(many, 'RUNNING', 600_000);
  const burstMs = performance.now() - b0;
  const cpuMsPerStart = ((cpuSeconds(agentPid) - cpu0) * 1000) / burst;
  const burstRss = rssMiB();
  await stopEvery(many);
  // --compare: the same burst against the other build, right after this one's (its own agent and bridge).
  let compareBurstMs;
  let compareCpuMsPerStart;
  if (compare) {
    await sleep(2_000);
    const compareCpu0 = cpuSeconds(compare.agent.child.pid);
    const c0 = performance.now();
    const theirs = await runMany(burst, compare.ecs);
    await untilAll(theirs, 'RUNNING', 600_000, compare.ecs);
    compareBurstMs = performance.now() - c0;
    compareCpuMsPerStart = ((cpuSeconds(compare.agent.child.pid) - compareCpu0) * 1000) / burst;
    await stopEvery(theirs, compare.ecs);
  }

  console.log(
    JSON.stringify({
      bench: 'runtask-latency',
      count,
      image_pull_behavior: 'prefer-cached',
      berth_log_level: { server: process.env.BENCH_SERVER_LOGLEVEL ?? 'debug', agent: process.env.BENCH_AGENT_LOGLEVEL ?? 'debug' },
      latency,
      ratios,
      targets: {
        none_p50_within_1_3x_runc: ratios.berth_none_to_runc_same_config !== undefined && ratios.berth_none_to_runc_same_config <= 1.3,
        bridge_p50_within_1_3x_runc: ratios.berth_bridge_to_runc_same_config !== undefined && ratios.berth_bridge_to_runc_same_config <= 1.3,
        none_below_ctr: ratios.berth_none_to_ctr !== undefined ? ratios.berth_none_to_ctr < 1 : undefined,
        bridge_below_ctr: ratios.berth_bridge_to_ctr !== undefined ? ratios.berth_bridge_to_ctr < 1 : undefined,
      },
      spans,
      [`zero_to_${burst}_running_s`]: round(burstMs / 1000),
      ...(compareBurstMs !== undefined ? { [`compare_zero_to_${burst}_running_s`]: round(compareBurstMs / 1000) } : {}),
      agent_cpu_ms_per_task_start: round(cpuMsPerStart),
      ...(compareCpuMsPerStart !== undefined ? { compare_agent_cpu_ms_per_task_start: round(compareCpuMsPerStart) } : {}),
      [`agent_rss_mib_${resident}_running`]: round(residentRss),
      [`agent_rss_mib_${burst}_running`]: round(burstRss),
      missing: Object.fromEntries(Object.entries(missing).filter(([, v]) => v)),
      load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
      node: process.version,
    }),
  );
} finally {
  // Let the agent finish cleaning up the stopped tasks (its cleanup wait is 1 s) before it goes.
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && [`${dir}/berth-agent/`, `${dir}/compare-agent/`].some((d) => readFileSync('/proc/mounts', 'utf8').includes(d)); ) await sleep(200);
  for (const c of clients) c.destroy();
  await stopAll();
  await podman?.cleanup();
  await containerd?.stop();
  await registry.stop();
  await removeAgentBridge(BRIDGE);
  if (values.compare) await removeAgentBridge(COMPARE_BRIDGE);
  if (othersNet) for (const id of await othersNet.list()) await othersNet.detach(id).catch(() => {});
  await removeAgentBridge(OTHERS_BRIDGE);
  for (const c of ['memory', 'cpu', 'pids', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified']) {
    for (const mode of ['none', 'bridge', 'cni']) {
      try {
        rmdirSync(join('/sys/fs/cgroup', c, 'berth-bench-bare', `${process.pid}-${mode}`));
      } catch {
        // not there (or cpu and cpuacct are one hierarchy)
      }
    }
    // berth-bench-bare: the bare runc runs'; berth-bench: ctr's (containerd names the cgroup parent after its namespace).
    for (const parent of ['berth-bench-bare', 'berth-bench']) {
      try {
        rmdirSync(join('/sys/fs/cgroup', c, parent));
      } catch {
        // not there, or another bench's containers still inside
      }
    }
  }
  // containerd's overlay snapshots may still be mounted if it was killed mid-run.
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target?.startsWith(dir)) spawn('umount', ['-l', target], { stdio: 'ignore' });
  }
  await sleep(200);
  rmSync(dir, { recursive: true, force: true });
}
