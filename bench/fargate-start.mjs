#!/usr/bin/env node
// Fargate (gVisor) task start against EC2 (runc) task start, in the same run, through the whole of berth:
// one `berth server`, one EC2 agent and one Fargate pool agent (`BERTH_FARGATE=true`) from dist/, both on
// this host with bridges of their own. The same awsvpc task (busybox `sleep 3600`, 0.25 vCPU, 512 MiB,
// image cached) is launched with RunTask (launchType EC2, then FARGATE, alternating so the host's noise hits
// both alike) and timed until DescribeTasks shows it RUNNING (polled every 5 ms), then stopped.
// Then `--resident` tasks of each kind are held running, and per task (median over them) what it is charged in
// its memory cgroup (memory.usage_in_bytes, cgroup v1) and the RSS and PSS of the host processes in that cgroup
// (/proc/<pid>/smaps_rollup): a gVisor task's are its Sentry, gofer and ptrace stubs, a runc task's its `sleep`.
// Needs root, `npm run build`, runc, runsc, docker-registry. Prints one JSON line.
//
//   node bench/fargate-start.mjs [--count 20] [--resident 4]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { removeAgentBridge, startAgent, startServer, stopAll } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({ options: { count: { type: 'string', default: '20' }, resident: { type: 'string', default: '4' } } });
const count = Number(values.count);
const resident = Number(values.resident);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage } = await load('src/testing/busybox-image.ts');
const { findDir } = await load('test/e2e/support/find-dir.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-fargate-'));
const BRIDGES = { ec2: { bridge: 'bbfg0', subnet: '10.253.0.0/24' }, fargate: { bridge: 'bbfg1', subnet: '10.253.1.0/24' } };
const VPC = { awsvpcConfiguration: { subnets: ['subnet-bench'] } };
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const round = (x) => Math.round(x * 10) / 10;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MIB = 1024 * 1024;

/** RSS and PSS of process `pid` in bytes (smaps_rollup; 0 for one gone meanwhile). */
function smapsRollup(pid) {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return { rss: 0, pss: 0 };
  }
  const kib = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kib('Rss'), pss: kib('Pss') };
}

const registry = await startDockerRegistry();
let ecs;
try {
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);
  const server = await startServer(join(dir, 'server'));
  const common = { BERTH_METADATA_ADDRESS: 'off', BERTH_MEMORY_MIB: '8192', BERTH_CPU_UNITS: '8192' };
  const agents = [
    startAgent(server, join(dir, 'ec2-agent'), BRIDGES.ec2, common),
    startAgent(server, join(dir, 'fargate-agent'), BRIDGES.fargate, { ...common, BERTH_FARGATE: 'true' }),
  ];
  for (const a of agents) await a.until(/registered arn/);
  ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 1 });
  const size = { networkMode: 'awsvpc', cpu: '256', memory: '512' };
  const container = { name: 'app', image, stopTimeout: 2 };
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-ec2', ...size, containerDefinitions: [container] }));
  await ecs.send(new RegisterTaskDefinitionCommand({ family: 'bench-fargate', requiresCompatibilities: ['FARGATE'], ...size, containerDefinitions: [container] }));
  const kinds = { ec2: { taskDefinition: 'bench-ec2', launchType: 'EC2' }, fargate: { taskDefinition: 'bench-fargate', launchType: 'FARGATE' } };

  const status = async (arn) => (await ecs.send(new DescribeTasksCommand({ tasks: [arn] }))).tasks[0];
  async function start(kind) {
    const t0 = performance.now();
    const { tasks, failures } = await ecs.send(new RunTaskCommand({ ...kinds[kind], networkConfiguration: VPC }));
    if (!tasks?.length) throw new Error(JSON.stringify(failures));
    const arn = tasks[0].taskArn;
    for (;;) {
      const t = await status(arn);
      if (t.lastStatus === 'RUNNING') break;
      if (t.lastStatus === 'STOPPED') throw new Error(`${kind} task stopped: ${t.stoppedReason}`);
      await sleep(5);
    }
    return { arn, ms: performance.now() - t0 };
  }
  async function stop(arn) {
    await ecs.send(new StopTaskCommand({ task: arn }));
    while ((await status(arn)).lastStatus !== 'STOPPED') await sleep(20);
  }

  // Warm-up: the image unpacked on both hosts, and each kind's first-start costs paid.
  for (const kind of ['ec2', 'fargate']) await stop((await start(kind)).arn);
  const ms = { ec2: [], fargate: [] };
  for (let i = 0; i < count; i++) {
    for (const kind of i % 2 === 0 ? ['ec2', 'fargate'] : ['fargate', 'ec2']) {
      const { arn, ms: took } = await start(kind);
      ms[kind].push(took);
      await stop(arn);
    }
  }

  // Memory charged per running task, idle.
  const held = { ec2: [], fargate: [] };
  for (let i = 0; i < resident; i++) for (const kind of ['ec2', 'fargate']) held[kind].push((await start(kind)).arn);
  await sleep(2000); // settle: the sandboxes finish booting their application before being read
  const perTask = {};
  for (const kind of ['ec2', 'fargate']) {
    const figures = held[kind].map((arn) => {
      const cg = findDir('/sys/fs/cgroup/memory/berth', `${arn.split('/').at(-1)}-app`, 4);
      if (!cg) throw new Error(`no memory cgroup for ${arn}`);
      const pids = readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
      const rollup = pids.map((pid) => smapsRollup(pid));
      return {
        charged: Number(readFileSync(join(cg, 'memory.usage_in_bytes'), 'utf8')),
        rss: rollup.reduce((a, r) => a + r.rss, 0),
        pss: rollup.reduce((a, r) => a + r.pss, 0),
        processes: pids.length,
      };
    });
    const median = (key) => round(quantile(figures.map((f) => f[key]), 0.5) / (key === 'processes' ? 1 : MIB));
    perTask[kind] = { charged: median('charged'), rss: median('rss'), pss: median('pss'), processes: median('processes') };
  }
  for (const kind of ['ec2', 'fargate']) for (const arn of held[kind]) await stop(arn);

  const p = (xs, q) => round(quantile(xs, q));
  console.log(
    JSON.stringify({
      bench: 'fargate-start',
      count,
      load_average: (await import('node:os')).loadavg().map(round),
      ec2_runc_start: { p50_ms: p(ms.ec2, 0.5), p95_ms: p(ms.ec2, 0.95) },
      fargate_gvisor_start: { p50_ms: p(ms.fargate, 0.5), p95_ms: p(ms.fargate, 0.95) },
      ratio_p50: Math.round((quantile(ms.fargate, 0.5) / quantile(ms.ec2, 0.5)) * 100) / 100,
      // Medians over the resident tasks of each kind, MiB; the overhead is gVisor's median less runc's.
      memory_per_idle_task_mib: {
        resident,
        ec2_runc: perTask.ec2,
        fargate_gvisor: perTask.fargate,
        gvisor_overhead: {
          charged: round(perTask.fargate.charged - perTask.ec2.charged),
          rss: round(perTask.fargate.rss - perTask.ec2.rss),
          pss: round(perTask.fargate.pss - perTask.ec2.pss),
        },
      },
    }),
  );
} finally {
  ecs?.destroy();
  await stopAll();
  for (const b of Object.values(BRIDGES)) await removeAgentBridge(b);
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
