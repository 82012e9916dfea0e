#!/usr/bin/env node
// Container start latency: create+start through berth's runc runtime (conmon + `runc create`, then
// `runc start`) against bare runc on the same rootfs and the same config.json (`runc run -d`, and
// `runc create` + `runc start`). Runs alternate between the variants so that host noise hits all alike;
// each container is deleted (untimed) before the next. Prints one JSON line: medians and p95 in ms, the
// ratio to bare `runc run -d`, and conmon's own cost (berth's create minus bare `runc create`).
// Needs root, runc, conmon. Loads the TypeScript sources through Vite's module runner (no build needed).
//
//   node bench/runtime-start.mjs [--count 50]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';

const { values } = parseArgs({ options: { count: { type: 'string', default: '50' } } });
const count = Number(values.count);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { RuncRuntime } = await load('src/runtime/runc/runc-runtime.ts');
const { toOciSpec } = await load('src/runtime/runc/to-oci-spec.ts');
const { serializeOciSpec } = await load('src/runtime/runc/oci-spec.ts');
const { HostCgroups } = await load('src/runtime/runc/cgroups.ts');
const { loadHostSpecOptions, DEFAULT_SECCOMP_PROFILE, DEFAULT_INIT_BINARY } = await load('src/runtime/runc/host-spec-options.ts');
const { writeBusyboxRootfs } = await load('src/testing/busybox-image.ts');

const RUNC = '/usr/sbin/runc';
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-runtime-'));
const tag = randomBytes(3).toString('hex');
const cgroupParent = `/berth-bench-${tag}`;
const rootfs = join(dir, 'rootfs');
writeBusyboxRootfs(rootfs);
const bareRoot = join(dir, 'bare-runc');
mkdirSync(bareRoot);

const runtime = await RuncRuntime.open({ stateDir: join(dir, 'state'), cgroupParent });
const cgroups = await HostCgroups.discover();
const specOptions = await loadHostSpecOptions({ cgroupParent, seccompProfile: DEFAULT_SECCOMP_PROFILE, initBinary: DEFAULT_INIT_BINARY }, cgroups);

const spec = (id) => ({
  id,
  rootfs,
  process: { args: ['sleep', '1000'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
  resources: { cpuShares: 128, memoryLimitBytes: 64 << 20 },
  logPath: join(dir, 'logs', `${id}.log`),
  labels: { bench: 'runtime-start' },
});

/** Run runc with stdio on /dev/null (a detached container would hold pipes open). */
const runc = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(RUNC, [`--root=${bareRoot}`, ...args], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args[0]} exited ${code}`))));
  });

/** A bundle with exactly the config.json berth would write, written inside the timed section as berth does. */
const writeBundle = (id) => {
  const bundle = join(dir, 'bundles', id);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, 'config.json'), serializeOciSpec(toOciSpec(spec(id), specOptions)));
  return bundle;
};

const variants = {
  async berth(id) {
    const t0 = performance.now();
    await runtime.create(spec(id));
    const t1 = performance.now();
    await runtime.start(id);
    const t2 = performance.now();
    await runtime.delete(id);
    return { total: t2 - t0, create: t1 - t0, start: t2 - t1 };
  },
  async bareRun(id) {
    const t0 = performance.now();
    await runc(['run', '-d', '--bundle', writeBundle(id), id]);
    const t1 = performance.now();
    await runc(['delete', '--force', id]);
    return { total: t1 - t0 };
  },
  async bareCreateStart(id) {
    const t0 = performance.now();
    await runc(['create', '--bundle', writeBundle(id), id]);
    const t1 = performance.now();
    await runc(['start', id]);
    const t2 = performance.now();
    await runc(['delete', '--force', id]);
    return { total: t2 - t0, create: t1 - t0, start: t2 - t1 };
  },
};

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const round = (x) => Math.round(x * 100) / 100;
const summarize = (xs) => ({ median_ms: round(quantile(xs, 0.5)), p95_ms: round(quantile(xs, 0.95)) });

try {
  // Warm up page cache, runc's and conmon's binaries and the JIT.
  for (const [name, run] of Object.entries(variants)) await run(`b${tag}-warm-${name}`);
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < count; i++) {
    for (const [name, run] of Object.entries(variants)) samples[name].push(await run(`b${tag}-${name}-${i}`));
  }
  const pick = (name, field) => samples[name].map((s) => s[field]);
  const berth = summarize(pick('berth', 'total'));
  const bareRun = summarize(pick('bareRun', 'total'));
  const berthCreate = summarize(pick('berth', 'create'));
  const bareCreate = summarize(pick('bareCreateStart', 'create'));
  console.log(
    JSON.stringify({
      bench: 'runtime-start',
      count,
      berth_create_start: berth,
      berth_create: berthCreate,
      berth_start: summarize(pick('berth', 'start')),
      bare_runc_run_d: bareRun,
      bare_runc_create_start: summarize(pick('bareCreateStart', 'total')),
      bare_runc_create: bareCreate,
      ratio_to_bare_run_median: round(berth.median_ms / bareRun.median_ms),
      ratio_to_bare_run_p95: round(berth.p95_ms / bareRun.p95_ms),
      conmon_overhead_median_ms: round(berthCreate.median_ms - bareCreate.median_ms),
      node: process.version,
    }),
  );
} finally {
  runtime.close();
  for (const mount of cgroups.mounts) {
    for (const path of [join(mount.mountPoint, cgroupParent, '_conmon'), join(mount.mountPoint, cgroupParent)]) if (existsSync(path)) rmdirSync(path);
  }
  rmSync(dir, { recursive: true, force: true });
}
