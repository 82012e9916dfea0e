#!/usr/bin/env node
// Image service figures against real peers: pull time of a busybox image from CNCF distribution on
// loopback (cold: empty store; warm: everything stored, one manifest request), and the latency of
// createRootfs + removeRootfs (an overlay mount and unmount; no copying). Needs root and `npm run build`.
// The image is made with umoci from Debian's /bin/busybox and pushed with skopeo. Prints one JSON line.
//
//   node bench/image-rootfs.mjs [--pulls 5] [--mounts 50]
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { pulls: { type: 'string', default: '5' }, mounts: { type: 'string', default: '50' } } });
const root = new URL('..', import.meta.url).pathname;
const { OciImageService } = await import(join(root, 'dist/image/oci-image-service.js'));

const run = (cmd, args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.95) - 1)];
const round = (x) => Math.round(x * 100) / 100;
const time = async (fn) => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-image-'));
writeFileSync(
  join(dir, 'registry.yml'),
  `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'registry')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
);
const registry = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'registry.yml')], { stdio: 'ignore' });
const services = [];
try {
  for (let deadline = Date.now() + 15_000; ; ) {
    if ((await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined))?.ok) break;
    if (Date.now() > deadline) throw new Error('docker-registry did not start');
    await new Promise((r) => setTimeout(r, 50));
  }

  // A busybox image in an OCI layout, made by umoci.
  const layout = join(dir, 'layout');
  run('umoci', ['init', '--layout', layout]);
  run('umoci', ['new', '--image', `${layout}:bench`]);
  run('umoci', ['unpack', '--image', `${layout}:bench`, join(dir, 'bundle')]);
  const rootfs = join(dir, 'bundle/rootfs');
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev']) mkdirSync(join(rootfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rootfs, 'bin/busybox'));
  for (const applet of ['sh', 'sleep', 'ls', 'cat', 'echo', 'httpd']) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  run('umoci', ['repack', '--image', `${layout}:bench`, join(dir, 'bundle')]);
  run('umoci', ['config', '--image', `${layout}:bench`, '--config.cmd', 'sh']);
  const reference = `127.0.0.1:${port}/bench/busybox:v1`;
  run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:bench`, `docker://${reference}`]);

  const cold = [];
  let image;
  for (let i = 0; i < Number(values.pulls); i++) {
    const images = new OciImageService({ root: join(dir, `store-${i}`) });
    services.push(images);
    cold.push(await time(async () => (image = await images.pull(reference))));
  }
  const images = services[0];
  const warm = [];
  for (let i = 0; i < Number(values.pulls); i++) warm.push(await time(() => images.pull(reference)));
  const find = [];
  for (let i = 0; i < Number(values.pulls); i++) find.push(await time(() => images.find(reference)));

  const create = [];
  const remove = [];
  for (let i = 0; i < Number(values.mounts); i++) {
    create.push(await time(() => images.createRootfs(image, `bench-${i}`)));
    remove.push(await time(() => images.removeRootfs(`bench-${i}`)));
  }
  const both = create.map((c, i) => c + remove[i]);
  console.log(
    JSON.stringify({
      bench: 'image-rootfs',
      imageBytes: image.size,
      pullColdMs: round(median(cold)),
      pullWarmMs: round(median(warm)),
      findMs: round(median(find)),
      createRootfsMs: { median: round(median(create)), p95: round(p95(create)) },
      removeRootfsMs: { median: round(median(remove)), p95: round(p95(remove)) },
      createPlusRemoveMs: { median: round(median(both)), p95: round(p95(both)) },
      pulls: Number(values.pulls),
      mounts: Number(values.mounts),
    }),
  );
} finally {
  for (const s of services) await s.close();
  registry.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
