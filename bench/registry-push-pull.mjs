#!/usr/bin/env node
// Push and pull a ~200 MB multi-layer image with skopeo, to berth's registry and to CNCF distribution
// (Debian's docker-registry) in the same run, several times each (alternating which goes first), and
// print one JSON line with the median times, throughputs and the berth / distribution throughput ratio.
// Every push uses freshly generated layers, so no run benefits from blobs already in a registry.
//
//   npm run build && node bench/registry-push-pull.mjs [--runs 3] [--layers 4] [--layer-mb 50]
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { CreateRepositoryCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { startServer } from './lib/berth-processes.mjs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const run = promisify(execFile);
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, layers: { type: 'string', default: '4' }, 'layer-mb': { type: 'string', default: '50' } },
});
const runs = Number(values.runs);
const layerCount = Number(values.layers);
const layerBytes = Number(values['layer-mb']) * 1024 * 1024;
const work = mkdtempSync(join(tmpdir(), 'berth-bench-registry-'));
const sha256 = (data) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** An OCI layout with `layerCount` uncompressed tar layers of random bytes (incompressible, ~layerBytes each). */
function buildImage(dir) {
  mkdirSync(join(dir, 'blobs/sha256'), { recursive: true });
  const put = (data) => {
    const digest = sha256(data);
    writeFileSync(join(dir, 'blobs/sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const layers = [];
  for (let i = 0; i < layerCount; i++) layers.push(put(tarOf(`layer-${i}.bin`, randomBytes(layerBytes))));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
      }),
    ),
  );
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'bench' } }] }),
  );
  return layers.reduce((n, l) => n + l.size, 0);
}

/** A one-file ustar archive. */
function tarOf(name, data) {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function startBerth() {
  const server = await startServer(join(work, 'berth'));
  const ecr = new ECRClient({ endpoint: server.url, region: 'us-east-1', credentials: server.keys });
  const token = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData[0].authorizationToken;
  const password = Buffer.from(token, 'base64').toString().slice(4);
  return {
    name: 'berth',
    host: new URL(server.url).host,
    creds: `AWS:${password}`,
    createRepository: (name) => ecr.send(new CreateRepositoryCommand({ repositoryName: name })),
    async stop() {
      ecr.destroy();
      await server.stop();
    },
  };
}

async function startDistribution() {
  const dir = join(work, 'distribution');
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  await waitFor(`http://127.0.0.1:${port}/v2/`);
  return {
    name: 'distribution',
    host: `127.0.0.1:${port}`,
    creds: undefined,
    createRepository: async () => {},
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    },
  };
}

/** One push and one pull of a fresh image; seconds for each. */
async function pushPull(registry, round) {
  const layout = join(work, `image-${registry.name}-${round}`);
  const out = join(work, `pulled-${registry.name}-${round}`);
  const bytes = buildImage(layout);
  const repo = `bench/app-${round}`;
  await registry.createRepository(repo);
  const ref = `docker://${registry.host}/${repo}:bench`;
  const auth = (flag) => (registry.creds ? [flag, registry.creds] : []);
  let t = performance.now();
  await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...auth('--dest-creds'), `oci:${layout}:bench`, ref]);
  const push = (performance.now() - t) / 1000;
  t = performance.now();
  await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', ...auth('--src-creds'), ref, `oci:${out}:bench`]);
  const pull = (performance.now() - t) / 1000;
  rmSync(layout, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  return { push, pull, bytes };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round3 = (x) => Math.round(x * 1000) / 1000;

const registries = [];
try {
  registries.push(await startBerth(), await startDistribution());
  const results = { berth: [], distribution: [] };
  // A warm-up round each (not counted): JIT, page cache, connection setup.
  for (const r of registries) await pushPull(r, 'warmup');
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? registries : [...registries].reverse();
    for (const r of order) results[r.name].push(await pushPull(r, i));
  }
  const summary = (name) => {
    const push = median(results[name].map((x) => x.push));
    const pull = median(results[name].map((x) => x.pull));
    const mb = results[name][0].bytes / 1024 / 1024;
    return {
      push_s_median: round3(push),
      pull_s_median: round3(pull),
      push_MBps: round3(mb / push),
      pull_MBps: round3(mb / pull),
      push_s_runs: results[name].map((x) => round3(x.push)),
      pull_s_runs: results[name].map((x) => round3(x.pull)),
    };
  };
  const berth = summary('berth');
  const distribution = summary('distribution');
  console.log(
    JSON.stringify({
      bench: 'registry-push-pull',
      client: 'skopeo copy (oci layout <-> registry)',
      image_MB: round3(results.berth[0].bytes / 1024 / 1024),
      layers: layerCount,
      runs,
      berth,
      distribution,
      // > 1 means berth moved bytes faster than distribution.
      throughput_ratio_push: round3(distribution.push_s_median / berth.push_s_median),
      throughput_ratio_pull: round3(distribution.pull_s_median / berth.pull_s_median),
      node: process.version,
    }),
  );
} finally {
  for (const r of registries) await r.stop();
  rmSync(work, { recursive: true, force: true });
}
