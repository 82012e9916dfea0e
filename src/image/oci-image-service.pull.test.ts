import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, buildMultiPlatformImage, pushImage, type BuiltImage } from '../testing/busybox-image.js';
import { startCountingProxy } from '../testing/counting-proxy.js';
import { startDockerRegistry, type LoopbackRegistry } from '../testing/docker-registry.js';
import { PullError } from './image-service.js';
import { OciImageService } from './oci-image-service.js';

const work = mkdtempSync(join(tmpdir(), 'berth-image-pull-test-'));
let registry: LoopbackRegistry;
let one: BuiltImage;
let two: BuiltImage;
const services: OciImageService[] = [];

/** A service on a fresh store root (or on `root`, to see what a restarted agent sees). */
function service(root = mkdtempSync(join(work, 'store-'))): OciImageService {
  const s = new OciImageService({ root });
  services.push(s);
  return s;
}

beforeAll(async () => {
  registry = await startDockerRegistry();
  one = await buildBusyboxImage(join(work, 'one'), 'v1', { cmd: ['httpd', '-f'], env: ['A=1'], labels: { team: 'berth' }, exposedPorts: ['80/tcp'] });
  two = await buildBusyboxImage(join(work, 'two'), 'v1', { extraLayer: { 'etc/motd': 'second layer\n' }, whiteouts: ['var/www/index.html'] });
  await pushImage(one, `${registry.host}/test/one:v1`);
  await pushImage(two, `${registry.host}/test/two:v1`);
}, 60_000);

afterAll(async () => {
  try {
    for (const s of services) await s.close();
  } finally {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

/** The blob file CNCF distribution serves for `digest` (its filesystem storage layout). */
const registryBlob = (digest: string) => join(registry.rootDir, 'data/docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');

describe('pulling from CNCF distribution', () => {
  it('pulls a one-layer image: manifest digest, image id, config defaults, size', async () => {
    const images = service();
    const image = await images.pull(`${registry.host}/test/one:v1`);
    expect(image).toEqual({
      reference: `${registry.host}/test/one:v1`,
      manifestDigest: one.manifestDigest,
      id: one.configDigest,
      config: {
        Env: ['A=1'],
        Cmd: ['httpd', '-f'],
        ExposedPorts: { '80/tcp': {} },
        Labels: { team: 'berth' },
      },
      size: expect.any(Number),
    });
    expect(image.size).toBeGreaterThan(500_000);
    expect(await images.find(`${registry.host}/test/one:v1`)).toEqual(image);
    // Found by digest as well, like Docker's RepoDigests.
    expect((await images.find(`${registry.host}/test/one@${one.manifestDigest}`))?.id).toBe(one.configDigest);
  });

  it('pulls by digest and by tag@digest, and finds images again after a restart without the network', async () => {
    const root = mkdtempSync(join(work, 'store-'));
    const first = service(root);
    await first.pull(`${registry.host}/test/two@${two.manifestDigest}`);
    await first.pull(`${registry.host}/test/two:v1@${two.manifestDigest}`);
    await first.close();
    const proxy = await startCountingProxy(registry.host);
    try {
      const again = service(root);
      const found = await again.find(`${registry.host}/test/two@${two.manifestDigest}`);
      expect(found?.id).toBe(two.configDigest);
      expect((await again.find(`${registry.host}/test/two:v1@${two.manifestDigest}`))?.manifestDigest).toBe(two.manifestDigest);
      expect(await again.find(`${registry.host}/test/two:v1`)).toBeUndefined();
      expect(await again.find(`${registry.host}/test/one:v1`)).toBeUndefined();
      expect(proxy.requests).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('pulls zstd layers (skopeo --dest-compress-format zstd) into the same layer as the gzip copy', async () => {
    // A registry of its own: skopeo reuses blobs it knows a registry holds instead of recompressing them.
    const zstdRegistry = await startDockerRegistry();
    try {
      await pushImage(one, `${zstdRegistry.host}/test/zstd:v1`, undefined, { compressFormat: 'zstd' });
      const root = mkdtempSync(join(work, 'store-'));
      const images = service(root);
      const zstd = await images.pull(`${zstdRegistry.host}/test/zstd:v1`);
      expect(zstd.id).toBe(one.configDigest);
      const manifest = JSON.parse(readFileSync(join(root, 'blobs', `sha256-${zstd.manifestDigest.slice(7)}`), 'utf8'));
      expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+zstd']);
      const layers = readdirSync(join(root, 'layers'));
      expect(layers).toHaveLength(1);
      const busybox = join(root, 'layers', layers[0]!, 'bin/busybox');
      expect(createHash('sha256').update(readFileSync(busybox)).digest('hex')).toBe(
        createHash('sha256').update(readFileSync('/bin/busybox')).digest('hex'),
      );
      const proxy = await startCountingProxy(registry.host);
      try {
        const gzip = await images.pull(`${proxy.host}/test/one:v1`);
        expect(gzip.manifestDigest).not.toBe(zstd.manifestDigest);
        expect(proxy.blobGets().size).toBe(0); // same config, same diff_id: nothing to download
      } finally {
        await proxy.stop();
      }
      expect(readdirSync(join(root, 'layers'))).toEqual(layers);
    } finally {
      await zstdRegistry.stop();
    }
  });

  it('chooses linux/amd64 from an OCI index and from a Docker manifest list', async () => {
    const multi = await buildMultiPlatformImage(join(work, 'multi'), 'multi', ['arm64', 'amd64']);
    await pushImage(multi, `${registry.host}/test/multi:oci`, undefined, { all: true });
    await pushImage(multi, `${registry.host}/test/multi:docker`, undefined, { all: true, format: 'v2s2' });
    const images = service();
    const oci = await images.pull(`${registry.host}/test/multi:oci`);
    expect(oci.manifestDigest).toBe(multi.platforms['amd64']!.manifestDigest);
    expect(oci.id).toBe(multi.platforms['amd64']!.configDigest);
    const docker = await images.pull(`${registry.host}/test/multi:docker`);
    expect(docker.id).toBe(multi.platforms['amd64']!.configDigest);
    expect(docker.manifestDigest).not.toBe(oci.manifestDigest);
    // The index digest finds the image too.
    expect((await images.find(`${registry.host}/test/multi@${multi.manifestDigest}`))?.id).toBe(oci.id);
    const armOnly = await buildMultiPlatformImage(join(work, 'arm'), 'arm', ['arm64']);
    await pushImage(armOnly, `${registry.host}/test/arm:v1`, undefined, { all: true });
    await expect(images.pull(`${registry.host}/test/arm:v1`)).rejects.toThrow(/no matching manifest for linux\/amd64 .*linux\/arm64/);
  });

  it('pulls Docker schema 2 manifests (skopeo --format v2s2)', async () => {
    await pushImage(two, `${registry.host}/test/docker:v1`, undefined, { format: 'v2s2' });
    const image = await service().pull(`${registry.host}/test/docker:v1`);
    expect(image.id).toBe(two.configDigest);
    expect(image.manifestDigest).not.toBe(two.manifestDigest);
  });

  it('surfaces the registry reason for unknown images and tags, and for unreachable registries', async () => {
    const images = service();
    await expect(images.pull(`${registry.host}/test/nope:v1`)).rejects.toThrow(PullError);
    await expect(images.pull(`${registry.host}/test/nope:v1`)).rejects.toThrow(
      `failed to pull ${registry.host}/test/nope:v1: manifest "v1": ${registry.host} answered 404: MANIFEST_UNKNOWN: manifest unknown`,
    );
    await expect(images.pull(`${registry.host}/test/one:nope`)).rejects.toThrow(/answered 404: MANIFEST_UNKNOWN: manifest unknown/);
    await expect(images.pull('127.0.0.1:1/x:y')).rejects.toThrow(/cannot reach 127.0.0.1:1: .*ECONNREFUSED/);
    await expect(images.pull('Not A Reference')).rejects.toThrow(/invalid reference format/);
    await expect(images.pull('Not A Reference')).rejects.toBeInstanceOf(PullError);
    await expect(images.find('Not A Reference')).rejects.toBeInstanceOf(PullError);
  });

  it('refuses blobs and manifests whose bytes do not match their digest, and keeps none of them', async () => {
    const tampered = await buildBusyboxImage(join(work, 'tampered'), 'v1', { extraLayer: { 'x': 'tamper me' } });
    await pushImage(tampered, `${registry.host}/test/tampered:v1`);
    const layer = tampered.layerDigests[1]!;
    const original = readFileSync(registryBlob(layer));
    const root = mkdtempSync(join(work, 'store-'));
    const images = service(root);
    try {
      const bad = Buffer.from(original);
      bad[bad.length - 10]! ^= 0xff;
      writeFileSync(registryBlob(layer), bad);
      await expect(images.pull(`${registry.host}/test/tampered:v1`)).rejects.toThrow(new RegExp(`layer ${layer}: digest mismatch`));
      expect(await images.find(`${registry.host}/test/tampered:v1`)).toBeUndefined();
      // Nothing of the bad layer, and nothing half-done, once the pull has reported.
      expect(readdirSync(join(root, 'layers')).length).toBeLessThanOrEqual(1);
      expect(readdirSync(join(root, 'layers')).join()).not.toContain(layer.slice(7));
      expect(readdirSync(join(root, 'tmp'))).toEqual([]);
    } finally {
      writeFileSync(registryBlob(layer), original);
    }
    const manifest = readFileSync(registryBlob(tampered.manifestDigest));
    try {
      writeFileSync(registryBlob(tampered.manifestDigest), Buffer.from(manifest.toString().replace('"schemaVersion":2', '"schemaVersion": 2')));
      const freshRoot = mkdtempSync(join(work, 'store-'));
      const fresh = service(freshRoot);
      await expect(fresh.pull(`${registry.host}/test/tampered@${tampered.manifestDigest}`)).rejects.toThrow(/digest mismatch/);
      await expect(fresh.pull(`${registry.host}/test/tampered:v1`)).rejects.toThrow(/digest mismatch: registry says/);
      expect(readdirSync(join(freshRoot, 'blobs'))).toEqual([]);
    } finally {
      writeFileSync(registryBlob(tampered.manifestDigest), manifest);
    }
    expect((await images.pull(`${registry.host}/test/tampered:v1`)).id).toBe(tampered.configDigest);
  });

  it('refuses an image whose config diff_ids do not match its layers', async () => {
    const image = await buildBusyboxImage(join(work, 'liar'), 'v1', { extraLayer: { 'y': 'y' } });
    // Rewrite the config to claim another diff_id for the top layer, and the manifest to point at it.
    const blobPath = (d: string) => join(image.layoutDir, 'blobs/sha256', d.slice(7));
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const config = JSON.parse(readFileSync(blobPath(image.configDigest), 'utf8'));
    config.rootfs.diff_ids[1] = `sha256:${'0'.repeat(64)}`;
    const configBytes = Buffer.from(JSON.stringify(config));
    writeFileSync(blobPath(sha(configBytes)), configBytes);
    const manifest = JSON.parse(readFileSync(blobPath(image.manifestDigest), 'utf8'));
    manifest.config = { ...manifest.config, digest: sha(configBytes), size: configBytes.length };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    writeFileSync(blobPath(sha(manifestBytes)), manifestBytes);
    const index = JSON.parse(readFileSync(join(image.layoutDir, 'index.json'), 'utf8'));
    index.manifests[0] = { ...index.manifests[0], digest: sha(manifestBytes), size: manifestBytes.length };
    writeFileSync(join(image.layoutDir, 'index.json'), JSON.stringify(index));
    await pushImage(image, `${registry.host}/test/liar:v1`);
    await expect(service().pull(`${registry.host}/test/liar:v1`)).rejects.toThrow(/does not match the config's diff_id sha256:0000/);
  });

  it('downloads each blob once when pulls of the same image and of a sharing image run at once', async () => {
    const proxy = await startCountingProxy(registry.host);
    try {
      const images = service();
      const results = await Promise.all([
        images.pull(`${proxy.host}/test/two:v1`),
        images.pull(`${proxy.host}/test/two:v1`),
        images.pull(`${proxy.host}/test/one:v1`),
        images.pull(`${proxy.host}/test/two:v1`),
      ]);
      expect(results.map((r) => r.id)).toEqual([two.configDigest, two.configDigest, one.configDigest, two.configDigest]);
      const gets = proxy.blobGets();
      // busybox base layer (shared by one and two), two's top layer, and the two configs: once each.
      expect(new Set([...two.layerDigests, one.layerDigests[0]])).toHaveProperty('size', 2);
      expect([...gets.keys()].sort()).toEqual([...new Set([...two.layerDigests, two.configDigest, one.configDigest])].sort());
      expect([...gets.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await proxy.stop();
    }
  });

  it('abandons a pull when its signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('task stopped'));
    await expect(service().pull(`${registry.host}/test/one:v1`, { signal: controller.signal })).rejects.toThrow(/cancelled/);
  });
});
