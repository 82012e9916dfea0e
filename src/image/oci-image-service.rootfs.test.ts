import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage, type BuiltImage } from '../testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../testing/docker-registry.js';
import type { LocalImage } from './image-service.js';
import { OciImageService, RootfsError } from './oci-image-service.js';

const work = mkdtempSync(join(tmpdir(), 'berth-image-rootfs-test-'));
let registry: LoopbackRegistry;
let base: BuiltImage;
let layered: BuiltImage;
const services: OciImageService[] = [];
const containers: [OciImageService, string][] = [];

function service(root = mkdtempSync(join(work, 'store-'))): OciImageService {
  const s = new OciImageService({ root });
  services.push(s);
  return s;
}

/** createRootfs, remembered so afterAll unmounts whatever a failing test left behind. */
async function rootfs(images: OciImageService, image: LocalImage, id: string): Promise<string> {
  containers.push([images, id]);
  return images.createRootfs(image, id);
}

const mounted = (path: string) => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === path);

beforeAll(async () => {
  registry = await startDockerRegistry();
  base = await buildBusyboxImage(join(work, 'base'), 'v1');
  layered = await buildBusyboxImage(join(work, 'layered'), 'v1', {
    extraLayer: { 'etc/motd': 'from the top layer\n', 'home/new': 'new\n' },
    whiteouts: ['var/www/index.html'],
    opaqueDirs: ['etc'],
  });
  await pushImage(base, `${registry.host}/test/base:v1`);
  await pushImage(layered, `${registry.host}/test/layered:v1`);
}, 60_000);

afterAll(async () => {
  try {
    for (const [images, id] of containers) await images.removeRootfs(id);
    for (const s of services) await s.close();
  } finally {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  }
});

describe('container root filesystems', () => {
  it('stack the layers: whiteouts and opaque directories take effect in the mounted rootfs', async () => {
    const images = service();
    const image = await images.pull(`${registry.host}/test/layered:v1`);
    const path = await rootfs(images, image, 'stack');
    expect(mounted(path)).toBe(true);
    expect(readFileSync(join(path, 'bin/busybox')).length).toBeGreaterThan(500_000);
    expect(readFileSync(join(path, 'etc/motd'), 'utf8')).toBe('from the top layer\n');
    expect(readFileSync(join(path, 'home/new'), 'utf8')).toBe('new\n');
    expect(existsSync(join(path, 'var/www/index.html'))).toBe(false);
    expect(existsSync(join(path, 'var/www'))).toBe(true);
    // etc is opaque in the top layer: the base layer's passwd and group are hidden.
    expect(readdirSync(join(path, 'etc')).sort()).toEqual(['motd']);
    await images.removeRootfs('stack');
  });

  it('prepared for the runtime: nothing mounted here, and the overlay described stacks the layers as createRootfs does', async () => {
    const images = service();
    const image = await images.pull(`${registry.host}/test/layered:v1`);
    containers.push([images, 'prepared']);
    const prepared = await images.prepareRootfs(image, 'prepared');
    expect(mounted(prepared.path)).toBe(false);
    expect(readdirSync(prepared.path)).toEqual([]);
    const overlay = prepared.overlay!;
    expect(overlay.lowerdirs).toHaveLength(2);
    for (const d of [...overlay.lowerdirs, overlay.upperdir, overlay.workdir]) expect(d.startsWith('/')).toBe(true);
    // Mounted as the runtime mounts it (one mount(2) with these options), it is the image's root.
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${overlay.lowerdirs.join(':')},upperdir=${overlay.upperdir},workdir=${overlay.workdir}`, prepared.path]);
    try {
      expect(readFileSync(join(prepared.path, 'etc/motd'), 'utf8')).toBe('from the top layer\n');
      expect(existsSync(join(prepared.path, 'var/www/index.html'))).toBe(false);
      expect(readdirSync(join(prepared.path, 'etc'))).toEqual(['motd']);
      writeFileSync(join(prepared.path, 'tmp/written'), 'x');
    } finally {
      execFileSync('umount', [prepared.path]);
    }
    expect(readFileSync(join(overlay.upperdir, 'tmp/written'), 'utf8')).toBe('x');
    // Already mounted here (a container created before an agent restart): that mount is kept, no overlay given.
    await rootfs(images, image, 'mounted-first');
    expect(await images.prepareRootfs(image, 'mounted-first')).toEqual({ path: expect.stringContaining('mounted-first') });
    await images.removeRootfs('prepared');
  });

  it('give each container its own writable layer and never touch the shared layers', async () => {
    const root = mkdtempSync(join(work, 'store-'));
    const images = service(root);
    const image = await images.pull(`${registry.host}/test/base:v1`);
    const a = await rootfs(images, image, 'container-a');
    const b = await rootfs(images, image, 'container-b');
    writeFileSync(join(a, 'tmp/written-by-a'), 'a');
    unlinkSync(join(a, 'bin/sh'));
    writeFileSync(join(a, 'etc/passwd'), 'changed by a\n');
    expect(existsSync(join(b, 'tmp/written-by-a'))).toBe(false);
    expect(existsSync(join(b, 'bin/sh'))).toBe(true);
    expect(readFileSync(join(b, 'etc/passwd'), 'utf8')).toContain('root:x:0:0');
    const [layer] = readdirSync(join(root, 'layers'));
    const layerDir = join(root, 'layers', layer!);
    expect(existsSync(join(layerDir, 'tmp/written-by-a'))).toBe(false);
    expect(existsSync(join(layerDir, 'bin/sh'))).toBe(true);
    expect(readFileSync(join(layerDir, 'etc/passwd'), 'utf8')).toContain('root:x:0:0');
    await images.removeRootfs('container-a');
    await images.removeRootfs('container-b');
  });

  it('removeRootfs unmounts, deletes, is idempotent, and detaches lazily when the rootfs is busy', async () => {
    const root = mkdtempSync(join(work, 'store-'));
    const images = service(root);
    const image = await images.pull(`${registry.host}/test/base:v1`);
    const path = await rootfs(images, image, 'busy');
    // A process with its working directory inside keeps the mount busy.
    const sleeper = spawn('/bin/busybox', ['sleep', '30'], { cwd: join(path, 'tmp'), stdio: 'ignore' });
    try {
      await new Promise((resolve, reject) => sleeper.once('spawn', resolve).once('error', reject));
      await images.removeRootfs('busy');
      expect(mounted(path)).toBe(false);
      expect(existsSync(join(root, 'containers', 'busy'))).toBe(false);
      await images.removeRootfs('busy');
      await images.removeRootfs('never-created');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('survives an agent restart: the same container gets its mounted rootfs back with its writes', async () => {
    const root = mkdtempSync(join(work, 'store-'));
    const before = service(root);
    const image = await before.pull(`${registry.host}/test/base:v1`);
    const path = await rootfs(before, image, 'restarted');
    writeFileSync(join(path, 'tmp/state'), 'kept');
    await before.close();
    const after = service(root);
    expect(await after.listRootfs()).toEqual(['restarted']);
    const found = await after.find(`${registry.host}/test/base:v1`);
    expect(found).toEqual(image);
    expect(await after.createRootfs(found!, 'restarted')).toBe(path);
    expect(readFileSync(join(path, 'tmp/state'), 'utf8')).toBe('kept');
    await after.removeRootfs('restarted');
    expect(mounted(path)).toBe(false);
    expect(await after.listRootfs()).toEqual([]);
  });

  it('unmountRootfs (a stopped container) unmounts but keeps the writable layer: a later createRootfs has the writes', async () => {
    const images = service();
    const image = await images.pull(`${registry.host}/test/base:v1`);
    const path = await rootfs(images, image, 'stopped');
    writeFileSync(join(path, 'tmp/state'), 'kept');
    await images.unmountRootfs('stopped');
    expect(mounted(path)).toBe(false);
    expect(await images.listRootfs()).toEqual(['stopped']);
    await images.unmountRootfs('stopped');
    expect(await images.createRootfs(image, 'stopped')).toBe(path);
    expect(readFileSync(join(path, 'tmp/state'), 'utf8')).toBe('kept');
    await images.removeRootfs('stopped');
    expect(await images.listRootfs()).toEqual([]);
  });

  it('take the long ids ECS container names make (task id + a 255-character name)', async () => {
    const images = service();
    const image = await images.pull(`${registry.host}/test/base:v1`);
    const id = `0f1e2d3c4b5a69788796a5b4c3d2e1f0-${'n'.repeat(255)}`;
    const other = `0f1e2d3c4b5a69788796a5b4c3d2e1f0-${'n'.repeat(254)}m`;
    const path = await rootfs(images, image, id);
    const otherPath = await rootfs(images, image, other);
    expect(path).not.toBe(otherPath);
    expect(mounted(path) && mounted(otherPath)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o755);
    expect(await images.listRootfs()).toEqual([id, other].sort());
    await images.removeRootfs(id);
    await images.removeRootfs(other);
    expect(mounted(path) || mounted(otherPath)).toBe(false);
    expect(await images.listRootfs()).toEqual([]);
  });

  it('mount images without layers on an empty lower directory', async () => {
    const layoutDir = join(work, 'scratch');
    const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    mkdirSync(join(layoutDir, 'blobs/sha256'), { recursive: true });
    const put = (value: object) => {
      const bytes = Buffer.from(JSON.stringify(value));
      writeFileSync(join(layoutDir, 'blobs/sha256', sha(bytes).slice(7)), bytes);
      return { digest: sha(bytes), size: bytes.length };
    };
    const config = put({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/app'] }, rootfs: { type: 'layers', diff_ids: [] } });
    const manifest = put({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [],
    });
    writeFileSync(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(
      join(layoutDir, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
      }),
    );
    await pushImage({ layoutDir, tag: 'v1', manifestDigest: manifest.digest, manifestSize: manifest.size, configDigest: config.digest, layerDigests: [] }, `${registry.host}/test/scratch:v1`);
    const images = service();
    const image = await images.pull(`${registry.host}/test/scratch:v1`);
    expect(image).toMatchObject({ id: config.digest, size: 0, config: { Cmd: ['/app'] } });
    const path = await rootfs(images, image, 'scratch');
    expect(readdirSync(path)).toEqual([]);
    writeFileSync(join(path, 'written'), 'x');
    await images.removeRootfs('scratch');
  });

  it('mount once when asked twice at the same time', async () => {
    const images = service();
    const image = await images.pull(`${registry.host}/test/base:v1`);
    const [p1, p2] = await Promise.all([rootfs(images, image, 'twice'), rootfs(images, image, 'twice')]);
    expect(p1).toBe(p2);
    expect(readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.split(' ')[1] === p1)).toHaveLength(1);
    await images.removeRootfs('twice');
  });

  it('refuse bad container ids and images that are not in the store, leaving nothing behind', async () => {
    const root = mkdtempSync(join(work, 'store-'));
    const images = service(root);
    const image = await images.pull(`${registry.host}/test/base:v1`);
    for (const id of ['../escape', '', 'a/b', '.hidden', 'x'.repeat(1025), 'a b', 'a:b']) {
      await expect(images.createRootfs(image, id)).rejects.toThrow(RootfsError);
      await expect(images.removeRootfs(id)).rejects.toThrow(/invalid container id/);
    }
    const ghost: LocalImage = { ...image, id: `sha256:${'e'.repeat(64)}` };
    await expect(images.createRootfs(ghost, 'ghost')).rejects.toThrow(/is not in the image store; pull it first/);
    expect(readdirSync(join(root, 'containers'))).toEqual([]);
    expect(existsSync(join(work, 'escape'))).toBe(false);
  });
});

describe('pruning', () => {
  it('deletes images not kept, and only the layers and blobs nothing else needs', async () => {
    const root = mkdtempSync(join(work, 'store-'));
    const images = service(root);
    const baseImage = await images.pull(`${registry.host}/test/base:v1`);
    const layeredImage = await images.pull(`${registry.host}/test/layered:v1`);
    expect(readdirSync(join(root, 'layers'))).toHaveLength(2); // base layer shared, plus layered's top

    expect(await images.prune(new Set([layeredImage.id]))).toEqual([baseImage.id]);
    expect(await images.find(`${registry.host}/test/base:v1`)).toBeUndefined();
    expect(await images.find(`${registry.host}/test/layered:v1`)).toEqual(layeredImage);
    expect(readdirSync(join(root, 'layers'))).toHaveLength(2); // the base layer is still layered's bottom
    expect(readdirSync(join(root, 'blobs')).sort()).toEqual(
      [layered.manifestDigest, layered.configDigest].map((d) => `sha256-${d.slice(7)}`).sort(),
    );

    // A container's image is in use whatever the caller keeps.
    const path = await rootfs(images, layeredImage, 'in-use');
    expect(await images.prune(new Set())).toEqual([]);
    expect(readFileSync(join(path, 'etc/motd'), 'utf8')).toBe('from the top layer\n');
    await images.removeRootfs('in-use');

    expect(await images.prune(new Set())).toEqual([layeredImage.id]);
    for (const dir of ['layers', 'l', 'blobs', 'images', 'refs', 'containers']) expect(readdirSync(join(root, dir))).toEqual([]);
    // And the store still works afterwards: the image pulled again mounts (its record and layer link, which
    // the service keeps in memory once known, went with the prune and are made again).
    const again = await images.pull(`${registry.host}/test/base:v1`);
    expect(again.id).toBe(base.configDigest);
    expect(readFileSync(join(await rootfs(images, again, 'after-prune'), 'bin/busybox')).length).toBeGreaterThan(500_000);
    await images.removeRootfs('after-prune');
  });

  it('waits for pulls in progress instead of deleting what they are writing', async () => {
    const images = service();
    const pulling = images.pull(`${registry.host}/test/layered:v1`);
    const pruning = images.prune(new Set());
    const image = await pulling;
    // Pruning waited for the pull to finish, so it saw (and removed) the whole image, not half of it.
    expect(await pruning).toEqual([image.id]);
    expect(await images.find(`${registry.host}/test/layered:v1`)).toBeUndefined();
    expect(await images.prune(new Set())).toEqual([]);
    expect((await images.pull(`${registry.host}/test/layered:v1`)).id).toBe(image.id);
  });
});
