#!/usr/bin/env node
// Where `runc run -d` spends its time with berth's config.json: the config berth's runtime writes for a
// container (toOciSpec with this host's options) against the same config with one part of the isolation
// taken out at a time (seccomp, seccomp's compat architectures, masked and read-only paths, the device cgroup rules, the memory/CPU
// limits, the mounts beyond runc's defaults, capabilities, no-new-privileges), and `runc spec`'s
// defaults. Variants alternate run by run so host noise hits all alike; each container is deleted
// (untimed) before the next. Prints one JSON line: each variant's median and p95, and the median minus
// the full config's (what that part costs). Needs root and runc; loads the TypeScript sources through
// Vite's module runner (no build needed).
//
//   node bench/runc-config-cost.mjs [--count 30]
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';

const { values } = parseArgs({ options: { count: { type: 'string', default: '30' } } });
const count = Number(values.count);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
const { toOciSpec } = await load('src/runtime/runc/to-oci-spec.ts');
const { serializeOciSpec } = await load('src/runtime/runc/oci-spec.ts');
const { HostCgroups } = await load('src/runtime/runc/cgroups.ts');
const { loadHostSpecOptions, DEFAULT_SECCOMP_PROFILE, DEFAULT_INIT_BINARY } = await load('src/runtime/runc/host-spec-options.ts');
const { writeBusyboxRootfs } = await load('src/testing/busybox-image.ts');

const RUNC = '/usr/sbin/runc';
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-runc-config-'));
const tag = randomBytes(3).toString('hex');
const cgroupParent = `/berth-bench-${tag}`;
const rootfs = join(dir, 'rootfs');
writeBusyboxRootfs(rootfs);
const stateRoot = join(dir, 'runc');
mkdirSync(stateRoot);
const cgroups = await HostCgroups.discover();
const options = await loadHostSpecOptions({ cgroupParent, seccompProfile: DEFAULT_SECCOMP_PROFILE, initBinary: DEFAULT_INIT_BINARY }, cgroups);
const etc = join(dir, 'etc');
mkdirSync(etc);
for (const f of ['hosts', 'resolv.conf', 'hostname']) writeFileSync(join(etc, f), `${f}\n`);

/** Berth's config for a container like the bench's tasks (memory limit, CPU shares, /etc files bind-mounted). */
const berth = (id) =>
  JSON.parse(
    serializeOciSpec(
      toOciSpec(
        {
          id,
          rootfs,
          process: { args: ['sleep', '1000'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
          resources: { cpuShares: 2, memoryLimitBytes: 64 << 20 },
          etcFiles: { hosts: join(etc, 'hosts'), resolvConf: join(etc, 'resolv.conf'), hostname: join(etc, 'hostname') },
          hostname: id.slice(0, 12),
          logPath: join(dir, 'logs', `${id}.log`),
          labels: { bench: 'runc-config-cost' },
        },
        options,
      ),
    ),
  );

execFileSync(RUNC, ['spec', '--bundle', dir]);
const runcDefaults = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));

const variants = {
  berth: (c) => c,
  no_seccomp: (c) => (delete c.linux.seccomp, c),
  // Every sub-architecture of the profile's archMap, as Docker and berth before did, whatever the kernel runs.
  seccomp_all_profile_arches: (c) => ((c.linux.seccomp.architectures = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']), c),
  seccomp_native_arch_only: (c) => ((c.linux.seccomp.architectures = c.linux.seccomp.architectures.slice(0, 1)), c),
  no_masked_readonly_paths: (c) => (delete c.linux.maskedPaths, delete c.linux.readonlyPaths, c),
  no_device_rules: (c) => (delete c.linux.resources.devices, c),
  no_limits: (c) => (delete c.linux.resources.memory, delete c.linux.resources.cpu, c),
  no_extra_mounts: (c) => ((c.mounts = c.mounts.filter((m) => !['/dev/mqueue', '/dev/shm', '/sys/fs/cgroup'].includes(m.destination) && m.type !== 'bind')), c),
  no_cgroup_mount: (c) => ((c.mounts = c.mounts.filter((m) => m.destination !== '/sys/fs/cgroup')), c),
  no_no_new_privileges: (c) => ((c.process.noNewPrivileges = false), c),
  runc_spec_defaults: (c) => ({
    ...runcDefaults,
    process: { ...runcDefaults.process, terminal: false, args: ['sleep', '1000'] },
    root: { path: rootfs, readonly: false },
    linux: { ...runcDefaults.linux, cgroupsPath: c.linux.cgroupsPath },
  }),
};

const runc = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(RUNC, [`--root=${stateRoot}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc ${args[0]} exited ${code}: ${err}`))));
  });

async function runOne(name, id) {
  const bundle = join(dir, 'bundles', id);
  mkdirSync(bundle, { recursive: true });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(variants[name](berth(id))));
  const t0 = performance.now();
  await runc(['run', '-d', '--bundle', bundle, id]);
  const ms = performance.now() - t0;
  // CPU charged to the container's cgroup: runc init from when it joined it until exec (sleep adds ~0).
  // Unlike wall time, it hardly moves with the host's load.
  const initCpuMs = Number(readFileSync(join(cpuacct, cgroupParent, id, 'cpuacct.usage'), 'utf8')) / 1e6;
  await runc(['delete', '--force', id]);
  return { ms, initCpuMs };
}

const cpuacct = cgroups.mounts.find((m) => m.controllers.includes('cpuacct'))?.mountPoint;
if (!cpuacct) throw new Error('this bench reads cpuacct.usage: it needs cgroup v1 with the cpuacct controller');
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const round = (x) => Math.round(x * 10) / 10;

try {
  for (const name of Object.keys(variants)) await runOne(name, `c${tag}-warm-${name}`);
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < count; i++) {
    for (const name of Object.keys(variants)) samples[name].push(await runOne(name, `c${tag}-${i}-${name}`));
  }
  const median = (k, f) => quantile(samples[k].map((s) => s[f]), 0.5);
  const result = Object.fromEntries(
    Object.keys(samples).map((k) => [
      k,
      {
        median_ms: round(median(k, 'ms')),
        p95_ms: round(quantile(samples[k].map((s) => s.ms), 0.95)),
        saves_ms: round(median('berth', 'ms') - median(k, 'ms')),
        init_cpu_ms: round(median(k, 'initCpuMs')),
        saves_init_cpu_ms: round(median('berth', 'initCpuMs') - median(k, 'initCpuMs')),
      },
    ]),
  );
  console.log(JSON.stringify({ bench: 'runc-config-cost', count, ...result, node: process.version }));
} finally {
  for (const mount of cgroups.mounts) {
    const parent = join(mount.mountPoint, cgroupParent);
    if (!existsSync(parent)) continue;
    try {
      rmdirSync(parent);
    } catch {
      // a container's cgroup still inside (runc delete failed): left for the operator, named in the error above
    }
  }
  rmSync(dir, { recursive: true, force: true });
}
