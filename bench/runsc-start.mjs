#!/usr/bin/env node
// gVisor against runc through berth's one runtime implementation: container create+start latency with the
// runsc flavour (a sandbox: runsc-sandbox running the Sentry, and a runsc-gofer) and with runc, same spec
// (busybox `sleep`, 64 MiB limit, a new network namespace), alternating so host noise hits both alike; each
// container is deleted (untimed) before the next. Then the memory a gVisor sandbox costs: several idle `sleep`
// sandboxes kept running, and for each the RSS and PSS (shared pages split between sandboxes) of its host
// processes (runsc-sandbox, runsc-gofer, the ptrace stubs), and what its memory cgroup charges (what counts against the task's
// limit), against the same figures for runc containers. Prints one JSON line.
// Needs root, runc, runsc, conmon. Loads the TypeScript sources through Vite's module runner (no build needed).
//
//   node bench/runsc-start.mjs [--count 30] [--idle 4]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';

const { values } = parseArgs({ options: { count: { type: 'string', default: '30' }, idle: { type: 'string', default: '4' } } });
const count = Number(values.count);
const idle = Number(values.idle);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { RuncRuntime } = await load('src/runtime/runc/runc-runtime.ts');
const { openRunscRuntime } = await load('src/runtime/runsc/runsc-runtime.ts');
const { HostCgroups } = await load('src/runtime/runc/cgroups.ts');
const { writeBusyboxRootfs } = await load('src/testing/busybox-image.ts');

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-runsc-'));
const tag = randomBytes(3).toString('hex');
const cgroupParent = `/berth-bench-${tag}`;
const rootfs = join(dir, 'rootfs');
writeBusyboxRootfs(rootfs);
const runtimes = {
  runc: await RuncRuntime.open({ stateDir: join(dir, 'runc'), cgroupParent }),
  runsc: await openRunscRuntime({ stateDir: join(dir, 'runsc'), cgroupParent }),
};
const cgroups = await HostCgroups.discover();
const memoryMount = cgroups.mounts.find((m) => m.mountPoint.endsWith('/memory'))?.mountPoint;

const spec = (id) => ({
  id,
  rootfs,
  process: { args: ['sleep', '1000'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
  resources: { cpuShares: 128, memoryLimitBytes: 64 << 20 },
  logPath: join(dir, 'logs', `${id}.log`),
  labels: { bench: 'runsc-start' },
});

async function startOne(runtime, id) {
  const t0 = performance.now();
  await runtime.create(spec(id));
  const t1 = performance.now();
  await runtime.start(id);
  const t2 = performance.now();
  return { total: t2 - t0, create: t1 - t0, start: t2 - t1 };
}

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const round = (x) => Math.round(x * 100) / 100;
const summarize = (xs) => ({ p50_ms: round(quantile(xs, 0.5)), p95_ms: round(quantile(xs, 0.95)) });
const mib = (kib) => round(kib / 1024);

/**
 * The container's host processes, conmon excepted: those in its memory cgroup (runc: the application; runsc: the
 * sandbox and the stubs ptrace runs the application in) and those whose command line names its bundle (the gofer).
 */
function processesOf(id) {
  const pids = memoryMount
    ? readFileSync(join(memoryMount, cgroupParent, id, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
    : [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args[0]?.endsWith('conmon')) continue;
      const named = args.some((a) => a.endsWith(`/containers/${id}`) || a.endsWith(`=${join(dir, 'runsc', 'containers', id)}`));
      if (named && !pids.includes(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** RSS and PSS in KiB of the processes, from smaps_rollup. */
function memoryOf(pids) {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    rss += Number(/^Rss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
    pss += Number(/^Pss:\s+(\d+)/m.exec(text)?.[1] ?? 0);
  }
  return { rss, pss };
}

const cgroupUsageKiB = (id) => (memoryMount ? Number(readFileSync(join(memoryMount, cgroupParent, id, 'memory.usage_in_bytes'), 'utf8')) / 1024 : NaN);

try {
  // Warm up page cache, the binaries and the JIT.
  for (const [name, runtime] of Object.entries(runtimes)) {
    await startOne(runtime, `b${tag}-warm-${name}`);
    await runtime.delete(`b${tag}-warm-${name}`);
  }
  const samples = { runc: [], runsc: [] };
  for (let i = 0; i < count; i++) {
    for (const [name, runtime] of Object.entries(runtimes)) {
      const id = `b${tag}-${name}-${i}`;
      samples[name].push(await startOne(runtime, id));
      await runtime.delete(id);
    }
  }
  const pick = (name, field) => samples[name].map((s) => s[field]);
  const runc = summarize(pick('runc', 'total'));
  const runsc = summarize(pick('runsc', 'total'));

  // Idle containers side by side, settled for a second before reading.
  const held = { runc: [], runsc: [] };
  for (let i = 0; i < idle; i++) {
    for (const [name, runtime] of Object.entries(runtimes)) {
      const id = `b${tag}-idle-${name}-${i}`;
      await startOne(runtime, id);
      held[name].push(id);
    }
  }
  await new Promise((r) => setTimeout(r, 1000));
  const memory = {};
  for (const [name, ids] of Object.entries(held)) {
    const per = ids.map((id) => ({ ...memoryOf(processesOf(id)), cgroup: cgroupUsageKiB(id), processes: processesOf(id).length }));
    const avg = (field) => mib(per.reduce((a, p) => a + p[field], 0) / per.length);
    memory[name] = { processes: per[0].processes, rss_mib: avg('rss'), pss_mib: avg('pss'), cgroup_charged_mib: avg('cgroup') };
  }
  for (const [name, ids] of Object.entries(held)) for (const id of ids) await runtimes[name].delete(id);

  console.log(
    JSON.stringify({
      bench: 'runsc-start',
      count,
      runc_create_start: runc,
      runsc_create_start: runsc,
      runc_create: summarize(pick('runc', 'create')),
      runsc_create: summarize(pick('runsc', 'create')),
      runc_start: summarize(pick('runc', 'start')),
      runsc_start: summarize(pick('runsc', 'start')),
      ratio_p50: round(runsc.p50_ms / runc.p50_ms),
      idle_containers: idle,
      memory_per_container: memory,
      runsc_overhead_pss_mib: round(memory.runsc.pss_mib - memory.runc.pss_mib),
      runsc_overhead_cgroup_mib: round(memory.runsc.cgroup_charged_mib - memory.runc.cgroup_charged_mib),
      platform: 'ptrace',
      node: process.version,
    }),
  );
} finally {
  for (const runtime of Object.values(runtimes)) {
    for (const id of await runtime.list().catch(() => [])) await runtime.delete(id).catch(() => {});
    runtime.close();
  }
  for (const mount of cgroups.mounts) {
    for (const path of [join(mount.mountPoint, cgroupParent, '_conmon'), join(mount.mountPoint, cgroupParent)]) if (existsSync(path)) rmdirSync(path);
  }
  rmSync(dir, { recursive: true, force: true });
}
