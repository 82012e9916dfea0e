#!/usr/bin/env node
// How fast a service gets its tasks RUNNING on one host: a real `berth server` and `berth agent` (processes, from
// dist/), CNCF distribution on loopback with a busybox image (`sleep 3600`), bridge networking.
//   0 → 100: CreateService with desiredCount 100; the clock stops when DescribeServices shows 100 RUNNING.
//   rolling deployment of 100: UpdateService to a new task definition revision (100 % / 200 %); the clock stops
//            when the new deployment is COMPLETED and alone.
//   0 → 200: another service, desiredCount 200.
// Each service is deleted (force) and its tasks stopped between measurements. --runs rounds; medians printed.
// Needs root and `npm run build`. Prints one JSON line (seconds).
//
//   node bench/service-scale.mjs [--runs 3] [--network bridge|none]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateServiceCommand,
  DeleteServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { removeAgentBridge, startAgent, startServer, stopAll } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, network: { type: 'string', default: 'bridge' } } });
const runs = Number(values.runs);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage } = await load('src/testing/busybox-image.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-services-'));
const BRIDGE = { bridge: 'bsvcbench0', subnet: '10.251.0.0/22' };
/** Process ids by command (server, agent), to read their CPU time. */
const procs = {};
/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const round = (x) => Math.round(x * 100) / 100;

const registry = await startDockerRegistry();
let ecs;
const cpu = [];
try {
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);
  const server = await startServer(join(dir, 'server'), {
    // BENCH_PROF_DIR: write the server's CPU profile there.
    nodeArgs: process.env.BENCH_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF_DIR}`] : [],
  });
  const agent = startAgent(server, join(dir, 'agent'), BRIDGE, { ECS_CONTAINER_STOP_TIMEOUT: '1s', ECS_LOGLEVEL: 'warn' });
  procs.server = server.child.pid;
  procs.agent = agent.child.pid;
  await agent.until(/registered arn/);
  ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 3 });
  for (const memory of [16, 17]) {
    await ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'bench', networkMode: values.network, containerDefinitions: [{ name: 'app', image, memory }] }),
    );
  }
  async function describe(name) {
    return (await ecs.send(new DescribeServicesCommand({ services: [name] }))).services[0];
  }
  async function until(name, done, timeoutMs = 300_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await describe(name);
      if (done(s)) return;
      if (Date.now() > deadline) throw new Error(`${name} did not get there: ${JSON.stringify(s.deployments)}`);
      await sleep(20);
    }
  }
  async function measure(name, desired, between) {
    const cpu0 = { server: cpuSeconds(procs.server), agent: cpuSeconds(procs.agent) };
    const t0 = performance.now();
    await ecs.send(new CreateServiceCommand({ serviceName: name, taskDefinition: 'bench:1', desiredCount: desired }));
    // The control plane's share: every task record written (the agent then has them all to start).
    for (;;) {
      const { taskArns } = await ecs.send(new ListTasksCommand({ serviceName: name, maxResults: 100 }));
      if (taskArns.length >= Math.min(desired, 100)) break;
      await sleep(5);
    }
    const created = (performance.now() - t0) / 1000;
    await until(name, (s) => s.runningCount === desired);
    const up = (performance.now() - t0) / 1000;
    cpu.push({ name, created_s: round(created), server_cpu_s: round(cpuSeconds(procs.server) - cpu0.server), agent_cpu_s: round(cpuSeconds(procs.agent) - cpu0.agent) });
    const extra = await between(name);
    await ecs.send(new DeleteServiceCommand({ service: name, force: true }));
    await until(name, (s) => s.status === 'INACTIVE');
    // Let the agent clean up before the next measurement.
    while ((await ecs.send(new ListTasksCommand({ desiredStatus: 'STOPPED' }))).taskArns.length > 0 && readFileSync('/proc/mounts', 'utf8').includes(join(dir, 'agent'))) {
      await sleep(200);
    }
    return { up, extra };
  }
  async function roll(name) {
    const t0 = performance.now();
    const { service } = await ecs.send(new UpdateServiceCommand({ service: name, taskDefinition: 'bench:2' }));
    const id = service.deployments[0].id;
    await until(name, (s) => s.deployments.length === 1 && s.deployments[0].id === id && s.deployments[0].rolloutState === 'COMPLETED');
    return (performance.now() - t0) / 1000;
  }

  // Warm the image cache and the agent: one task, once.
  await measure('warm', 1, () => {});
  const samples = { to100: [], rolling100: [], to200: [] };
  cpu.length = 0;
  for (let r = 0; r < runs; r++) {
    const a = await measure(`s100-${r}`, 100, roll);
    samples.to100.push(a.up);
    samples.rolling100.push(a.extra);
    samples.to200.push((await measure(`s200-${r}`, 200, () => {})).up);
  }
  console.log(
    JSON.stringify({
      bench: 'service-scale',
      runs,
      network: values.network,
      zero_to_100_running_s: round(median(samples.to100)),
      rolling_deployment_100_s: round(median(samples.rolling100)),
      zero_to_200_running_s: round(median(samples.to200)),
      samples: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map(round)])),
      // Per service: seconds until its first 100 task records existed, and CPU seconds of each process while it came up.
      phases: cpu,
      node: process.version,
    }),
  );
} finally {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && readFileSync('/proc/mounts', 'utf8').includes(dir); ) await sleep(200);
  ecs?.destroy();
  await stopAll();
  await registry.stop();
  await removeAgentBridge(BRIDGE);
  rmSync(dir, { recursive: true, force: true });
}
