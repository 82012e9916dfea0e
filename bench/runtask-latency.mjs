#!/usr/bin/env node
// RunTask → RUNNING latency with the image cached, next to bare `runc run -d` of the same image's rootfs on
// the same machine, in the same run. A real `berth server` and `berth agent` (processes, from dist/), CNCF
// distribution on loopback holding a busybox image. Each variant runs --count tasks one after another:
// the clock starts before RunTask and stops when DescribeTasks (polled every 2 ms) shows RUNNING. The agent
// uses ECS_IMAGE_PULL_BEHAVIOR=prefer-cached ("image cached"). DescribeTasks is polled every 5 ms.
// Bare runc runs twice: with `runc spec`'s defaults, and with the very config.json berth's runtime wrote for
// one of the tasks (same isolation: seccomp profile, capabilities, cgroups), on a plain copy of the rootfs.
// Needs root and `npm run build`. Prints one JSON line: medians and p95 in ms, and the ratios.
//
//   node bench/runtask-latency.mjs [--count 50]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { removeAgentBridge, startAgent, startServer, stopAll } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { count: { type: 'string', default: '50' } } });
const count = Number(values.count);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage, writeBusyboxRootfs } = await load('src/testing/busybox-image.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-runtask-'));
const BRIDGE = { bridge: 'bbench0', subnet: '10.250.0.0/24' };

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const round = (x) => Math.round(x * 10) / 10;
const summarize = (xs) => ({ median_ms: round(quantile(xs, 0.5)), p95_ms: round(quantile(xs, 0.95)) });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const registry = await startDockerRegistry();
let ecs;
try {
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);

  const server = await startServer(join(dir, 'server'), { logLevel: process.env.BENCH_SERVER_LOGLEVEL ?? 'warn' });
  const agent = startAgent(server, join(dir, 'agent'), BRIDGE, { ECS_LOGLEVEL: process.env.BENCH_AGENT_LOGLEVEL ?? 'warn' });
  await agent.until(/registered arn/);
  await sleep(500);
  ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 });

  const container = { name: 'app', image, memory: 64, stopTimeout: 0 };
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-none', networkMode: 'none', containerDefinitions: [container] }));
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'bench-bridge',
      networkMode: 'bridge',
      containerDefinitions: [{ ...container, portMappings: [{ containerPort: 80 }] }],
    }),
  );

  let berthConfig;
  async function status(arn) {
    const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: [arn] }));
    return tasks[0];
  }
  async function runOne(family) {
    const t0 = performance.now();
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: family }));
    if (!tasks?.length) throw new Error(JSON.stringify(failures));
    const arn = tasks[0].taskArn;
    for (;;) {
      const t = await status(arn);
      if (t.lastStatus === 'RUNNING') break;
      if (t.lastStatus === 'STOPPED') throw new Error(`task stopped: ${t.stoppedReason}`);
      await sleep(5);
    }
    const ms = performance.now() - t0;
    if (family === 'bench-none' && !berthConfig) {
      const bundle = join(dir, 'agent', 'runtime', 'containers', `${arn.split('/').at(-1)}-app`);
      berthConfig = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    }
    await ecs.send(new StopTaskCommand({ task: arn }));
    while ((await status(arn)).lastStatus !== 'STOPPED') await sleep(20);
    return ms;
  }

  // Bare runc: the same busybox rootfs, `runc spec`'s defaults, the same command.
  const bundle = join(dir, 'bare');
  writeBusyboxRootfs(join(bundle, 'rootfs'));
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['sleep', '3600'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  mkdirSync(join(dir, 'bare-root'));
  const runc = (args) =>
    new Promise((resolve, reject) => {
      const p = spawn('runc', [`--root=${join(dir, 'bare-root')}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args[0]}: ${code} ${err}`))));
    });
  async function bareOne(i, which = bundle) {
    const id = `bench-bare-${process.pid}-${i}`;
    const t0 = performance.now();
    await runc(['run', '-d', '--bundle', which, id]);
    const ms = performance.now() - t0;
    await runc(['delete', '--force', id]);
    return ms;
  }
  /** A bundle with berth's own config.json for the task, on a plain busybox rootfs, without agent-owned mounts. */
  function sameConfigBundle() {
    const b = join(dir, 'bare-same');
    writeBusyboxRootfs(join(b, 'rootfs'));
    const config = structuredClone(berthConfig);
    config.root = { path: join(b, 'rootfs'), readonly: false };
    config.mounts = config.mounts.filter((m) => !m.source?.startsWith(dir));
    config.linux.cgroupsPath = `/berth-bench-bare/${process.pid}`;
    // The task's network namespace is gone with it: a fresh one of the same kind.
    config.linux.namespaces = config.linux.namespaces.map(({ path: _path, ...ns }) => ns);
    writeFileSync(join(b, 'config.json'), JSON.stringify(config));
    return b;
  }

  for (let i = 0; i < 3; i++) {
    await runOne('bench-none');
    await runOne('bench-bridge');
    await bareOne(`warm-${i}`);
  }
  const same = sameConfigBundle();
  await bareOne('warm-same', same);
  const samples = { none: [], bridge: [], bare: [], bareSame: [] };
  for (let i = 0; i < count; i++) {
    samples.none.push(await runOne('bench-none'));
    samples.bridge.push(await runOne('bench-bridge'));
    samples.bare.push(await bareOne(i));
    samples.bareSame.push(await bareOne(`same-${i}`, same));
  }
  const none = summarize(samples.none);
  const bridge = summarize(samples.bridge);
  const bare = summarize(samples.bare);
  const bareSame = summarize(samples.bareSame);
  console.log(
    JSON.stringify({
      bench: 'runtask-latency',
      count,
      image_pull_behavior: 'prefer-cached',
      runtask_to_running_none: none,
      runtask_to_running_bridge: bridge,
      bare_runc_run_d: bare,
      bare_runc_run_d_same_config: bareSame,
      ratio_none_median: round(none.median_ms / bare.median_ms),
      ratio_none_p95: round(none.p95_ms / bare.p95_ms),
      ratio_bridge_median: round(bridge.median_ms / bare.median_ms),
      ratio_none_to_same_config_median: round(none.median_ms / bareSame.median_ms),
      ratio_bridge_to_same_config_median: round(bridge.median_ms / bareSame.median_ms),
      node: process.version,
    }),
  );
} finally {
  // Let the agent finish cleaning up the stopped tasks (its cleanup wait is 1 s) before it goes.
  for (const deadline = Date.now() + 15_000; Date.now() < deadline && readFileSync('/proc/mounts', 'utf8').includes(dir); ) await sleep(100);
  ecs?.destroy();
  await stopAll();
  await registry.stop();
  await removeAgentBridge(BRIDGE);
  for (const c of ['memory', 'cpu', 'pids', 'cpuacct', 'cpuset', 'blkio', 'devices', 'freezer', 'systemd', 'unified']) {
    for (const path of [join('/sys/fs/cgroup', c, 'berth-bench-bare', String(process.pid)), join('/sys/fs/cgroup', c, 'berth-bench-bare')]) {
      try {
        rmdirSync(path);
      } catch {
        // not there (or cpu and cpuacct are one hierarchy)
      }
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
