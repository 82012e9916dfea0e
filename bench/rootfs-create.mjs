#!/usr/bin/env node
// A container's root filesystem and create, as the agent does them, two ways alternating run by run:
//
//   host      the image service mounts the overlay on the host (a `mount` process), then the spec names it;
//   runtime   the image service prepares the writable layer and describes the overlay, which runc mounts
//             itself inside the container (ContainerSpec.rootfsOverlay): no mount process, nothing on the host.
//
// Each run is timed from the start of the root filesystem's step to a created container, through the real
// image service and runc runtime, with conmon held early as the agent's createEarly does; then started,
// deleted and its root removed (untimed). Prints one JSON line: medians and p95 in ms, and this process's
// CPU time per run (itself and the children it reaps: the mount process; not conmon's daemon or runc).
// Needs root, runc, conmon, docker-registry and `npm run build` (the test image is made from src/testing/).
//
//   node bench/rootfs-create.mjs [--count 40]
import { readFileSync, mkdtempSync, rmSync, rmdirSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runnerImport } from 'vite';

const { values } = parseArgs({ options: { count: { type: 'string', default: '40' } } });
const count = Number(values.count);
const root = new URL('..', import.meta.url).pathname;
const load = async (path) => (await runnerImport(join(root, path))).module;
// The image service loads its registry transport with dynamic imports, which Vite's runner cannot serve: from dist/.
const { RuncRuntime } = await import(join(root, 'dist/runtime/runc/runc-runtime.js'));
const { OciImageService } = await import(join(root, 'dist/image/oci-image-service.js'));
const { HostCgroups } = await import(join(root, 'dist/runtime/runc/cgroups.js'));
const { buildBusyboxImage, pushImage } = await load('src/testing/busybox-image.ts');
const { startDockerRegistry } = await load('src/testing/docker-registry.ts');

const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
/** CPU ms of this process and of the children it has reaped. */
const cpuMs = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / ticks) * 1000;
};
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const round = (x) => Math.round(x * 10) / 10;

const dir = mkdtempSync(join(tmpdir(), 'berth-bench-rootfs-create-'));
const tag = Math.random().toString(16).slice(2, 8);
const cgroupParent = `/berth-bench-${tag}`;
const registry = await startDockerRegistry();
const images = new OciImageService({ root: join(dir, 'images') });
const runtime = await RuncRuntime.open({ stateDir: join(dir, 'state'), cgroupParent });
try {
  const reference = `${registry.host}/bench/busybox:latest`;
  await pushImage(await buildBusyboxImage(join(dir, 'layout'), 'latest', { cmd: ['sleep', '3600'] }), reference);
  const image = await images.pull(reference);
  const spec = (id, rootfs) => ({
    id,
    ...rootfs,
    process: { args: ['sleep', '3600'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
    resources: { cpuShares: 128, memoryLimitBytes: 64 << 20 },
    logPath: join(dir, 'logs', `${id}.log`),
    labels: {},
  });
  const variants = {
    host: async (id) => ({ rootfs: await images.createRootfs(image, id) }),
    runtime: async (id) => {
      const prepared = await images.prepareRootfs(image, id);
      return { rootfs: prepared.path, ...(prepared.overlay ? { rootfsOverlay: prepared.overlay } : {}) };
    },
  };
  const samples = { host: [], runtime: [] };
  const cpu = { host: 0, runtime: 0 };
  let n = 0;
  for (let i = -2; i < count; i++) {
    for (const [name, rootfs] of Object.entries(variants)) {
      const id = `b${tag}-${n++}`;
      const c0 = cpuMs();
      const t0 = performance.now();
      await runtime.createEarly({ id, logPath: join(dir, 'logs', `${id}.log`) }, rootfs(id).then((r) => spec(id, r)));
      const ms = performance.now() - t0;
      const used = cpuMs() - c0;
      await runtime.start(id);
      await runtime.delete(id);
      await images.removeRootfs(id);
      // The first two rounds warm caches and the JIT.
      if (i >= 0) {
        samples[name].push(ms);
        cpu[name] += used;
      }
    }
  }
  const summary = (name) => ({ p50_ms: round(quantile(samples[name], 0.5)), p95_ms: round(quantile(samples[name], 0.95)), cpu_ms_per_run: round(cpu[name] / count) });
  console.log(
    JSON.stringify({
      bench: 'rootfs-create',
      count,
      host_mount: summary('host'),
      runtime_mount: summary('runtime'),
      load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
    }),
  );
} finally {
  runtime.close();
  await images.close();
  await registry.stop();
  const cgroups = await HostCgroups.discover();
  for (const mount of cgroups.mounts) {
    for (const path of [join(mount.mountPoint, cgroupParent, '_conmon'), join(mount.mountPoint, cgroupParent)]) if (existsSync(path)) rmdirSync(path);
  }
  rmSync(dir, { recursive: true, force: true });
}
