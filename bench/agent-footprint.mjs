#!/usr/bin/env node
// The agent's footprint: its resident memory idle and with --count tasks running, and its CPU time per
// task start and per task stop. A real `berth server` and `berth agent` (processes, from dist/), CNCF
// distribution on loopback holding a busybox image (cached by a first task). Tasks are started --batch at a
// time and each batch waited for (RUNNING in DescribeTasks), so the agent's CPU is mostly its own work.
// RSS is VmRSS from /proc, read after a 2 s pause (and a GC is not forced: this is what the host pays).
// RSS is also split into anonymous memory (heap, buffers: what the agent allocates) and file-backed pages
// (node's own binary and shared libraries, mostly shared with every other node process).
// Needs root and `npm run build`. Prints one JSON line.
//
// --compare <root>: also measure another build's berth (its dist/, e.g. a checkout of main, built), with its
// own server, agent and bridge, alternating with this one's for --rounds rounds, so that the host's load
// hits both alike; each figure is then the median of the rounds. Each agent runs with the V8 flags its
// CLI's shebang line gives `berth` (as the installed command runs); --node-options / --compare-node-options
// replace them (NODE_OPTIONS for that side's agent only, to measure other flags).
//
// --env KEY=VALUE (repeatable): more environment for this side's agent (MALLOC_ARENA_MAX=2, say).
// --breakdown: print the agent's resident memory by mapping (stderr) with its tasks running.
//
//   node bench/agent-footprint.mjs [--count 50] [--network none|bridge] [--batch 10] [--compare <root>] [--rounds 3]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DescribeTasksCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { runnerImport } from 'vite';
import { removeAgentBridge, shebangNodeOptions, startAgent, startServer, stopAll } from './lib/berth-processes.mjs';
import { cpuSeconds } from './lib/process-cpu.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '50' }, network: { type: 'string', default: 'none' }, batch: { type: 'string', default: '10' },
    compare: { type: 'string' }, rounds: { type: 'string' }, 'node-options': { type: 'string' }, 'compare-node-options': { type: 'string' },
    breakdown: { type: 'boolean', default: false }, env: { type: 'string', multiple: true, default: [] },
  },
});
const count = Number(values.count);
const batch = Number(values.batch);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { buildBusyboxImage, pushImage } = await load('src/testing/busybox-image.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-footprint-'));
const BRIDGE = { bridge: 'bfoot0', subnet: '10.251.0.0/22' };
const COMPARE_BRIDGE = { bridge: 'bfoot1', subnet: '10.251.4.0/22' };
const rounds = Number(values.rounds ?? (values.compare ? 3 : 1));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const statusMiB = (pid, field) => Math.round((Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024) * 10) / 10;
const rssMiB = (pid) => statusMiB(pid, 'VmRSS');
/** The node flags in a CLI's `#!/usr/bin/env -S node …` line: what the installed `berth` command runs with. */
const shebangFlags = shebangNodeOptions;
/** With --breakdown: the agent's resident memory by mapping (the files, [heap], [anon]…), largest first, MiB. */
const byMapping = (pid) => {
  const out = new Map();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) name = header[1] || '[anon]';
    else if (line.startsWith('Rss:')) out.set(name, (out.get(name) ?? 0) + Number(line.split(/\s+/)[1]) / 1024);
  }
  return Object.fromEntries([...out].filter(([, v]) => v >= 0.5).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Math.round(v * 10) / 10]));
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const registry = await startDockerRegistry();
const results = { this: [], compare: [] };
try {
  const image = `${registry.host}/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), image);
  for (let round = 0; round < rounds; round++) {
    const thisCli = join(root, 'dist', 'cli', 'main.js');
    results.this.push(await measure(`this-${round}`, undefined, BRIDGE, values['node-options'] ?? shebangFlags(thisCli), image, Object.fromEntries(values.env.map((e) => e.split('=')))));
    if (values.compare) {
      const cli = join(values.compare, 'dist', 'cli', 'main.js');
      results.compare.push(await measure(`compare-${round}`, cli, COMPARE_BRIDGE, values['compare-node-options'] ?? shebangFlags(cli), image));
    }
  }
} finally {
  await stopAll();
  await registry.stop();
  await removeAgentBridge(BRIDGE);
  if (values.compare) await removeAgentBridge(COMPARE_BRIDGE);
  rmSync(dir, { recursive: true, force: true });
}
const summary = (runs) => Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
console.log(
  JSON.stringify({
    bench: 'agent-footprint',
    network: values.network,
    tasks: count,
    rounds,
    ...summary(results.this),
    ...(values.compare ? { compare: summary(results.compare), runs: results } : {}),
  }),
);

/** One server and agent from `cli` (this build's when undefined): the agent's figures, then both stopped. */
async function measure(name, cli, bridge, nodeOptions, image, extraEnv = {}) {
  const server = await startServer(join(dir, `${name}-server`), cli ? { cli } : {});
  const agentDir = join(dir, `${name}-agent`);
  const env = {
    ECS_LOGLEVEL: 'warn',
    BERTH_METADATA_ADDRESS: '169.254.170.2:0',
    BERTH_MEMORY_MIB: String(128 * (count + 2)),
    BERTH_CPU_UNITS: String(64 * (count + 2)),
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...extraEnv,
  };
  const agent = startAgent(server, agentDir, bridge, env, ...(cli ? [cli] : []));
  const ecs = new ECSClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys, maxAttempts: 3 });
  try {
    await agent.until(/registered arn/);
    await sleep(500);
    const pid = agent.child.pid;
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'footprint',
        networkMode: values.network,
        containerDefinitions: [{ name: 'app', image, memory: 64, cpu: 32, stopTimeout: 0, ...(values.network === 'bridge' ? { portMappings: [{ containerPort: 80 }] } : {}) }],
      }),
    );
    const until = async (arns, status) => {
      for (;;) {
        const { tasks } = await ecs.send(new DescribeTasksCommand({ tasks: arns }));
        if (tasks.every((t) => t.lastStatus === status)) return;
        await sleep(50);
      }
    };
    const run = async (n) => {
      const { tasks, failures } = await ecs.send(new RunTaskCommand({ taskDefinition: 'footprint', count: n }));
      if (failures?.length) throw new Error(JSON.stringify(failures));
      const arns = tasks.map((t) => t.taskArn);
      await until(arns, 'RUNNING');
      return arns;
    };
    // One task first, so the image is pulled and cached and the code paths are warm.
    const warm = await run(1);
    await ecs.send(new StopTaskCommand({ task: warm[0] }));
    await until(warm, 'STOPPED');
    await sleep(2_000);
    const idleRss = rssMiB(pid);
    const idleAnon = statusMiB(pid, 'RssAnon');
    const cpuBefore = cpuSeconds(pid);
    const arns = [];
    for (let left = count; left > 0; left -= batch) arns.push(...(await run(Math.min(batch, left))));
    const cpuStarts = cpuSeconds(pid) - cpuBefore;
    await sleep(2_000);
    const runningRss = rssMiB(pid);
    const runningAnon = statusMiB(pid, 'RssAnon');
    const runningFile = statusMiB(pid, 'RssFile');
    if (values.breakdown) console.error(JSON.stringify({ agent: name, running: byMapping(pid) }));
    const cpuBeforeStop = cpuSeconds(pid);
    for (let i = 0; i < arns.length; i += 100) {
      const some = arns.slice(i, i + 100);
      await Promise.all(some.map((task) => ecs.send(new StopTaskCommand({ task }))));
      await until(some, 'STOPPED');
    }
    const cpuStops = cpuSeconds(pid) - cpuBeforeStop;
    // Let the agent clean every stopped task up (containers, root filesystems) before it is stopped.
    const remaining = () => readdirSync(join(agentDir, 'images', 'containers')).length;
    for (const deadline = Date.now() + 120_000; remaining() > 0 && Date.now() < deadline; ) await sleep(200);
    await sleep(1_000);
    return {
      agent_rss_idle_mib: idleRss,
      agent_rss_idle_anon_mib: idleAnon,
      agent_rss_running_mib: runningRss,
      agent_rss_running_anon_mib: runningAnon,
      agent_rss_running_file_mib: runningFile,
      agent_rss_after_stop_mib: rssMiB(pid),
      agent_cpu_ms_per_start: Math.round((cpuStarts / count) * 1000 * 10) / 10,
      agent_cpu_ms_per_stop: Math.round((cpuStops / count) * 1000 * 10) / 10,
    };
  } finally {
    ecs.destroy();
    await agent.stop();
    await server.stop();
  }
}
