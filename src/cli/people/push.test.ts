import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, buildMultiPlatformImage } from '../../testing/busybox-image.js';
import { splitSource } from './push-command.js';
import { openImageSource } from './push-source.js';
import { parseTarget, targetFromSource } from './push-target.js';
import { bytes } from './render.js';
import { CliUsageError } from './settings.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('berth push: where to', () => {
  it('reads REPO[:TAG], dropping a registry host, defaulting the tag to latest', () => {
    expect(parseTarget('web:v2', 'the target')).toEqual({ repository: 'web', tag: 'v2' });
    expect(parseTarget('team/web', 'the target')).toEqual({ repository: 'team/web', tag: 'latest' });
    expect(parseTarget('127.0.0.1:7400/team/web:v2', 'the target')).toEqual({ repository: 'team/web', tag: 'v2' });
    expect(parseTarget('localhost/web:1', 'x')).toEqual({ repository: 'web', tag: '1' });
    expect(() => parseTarget('Web:v1', 'the target')).toThrow(/'Web' is not a repository name/);
    expect(() => parseTarget('web@sha256:abc', 'the target')).toThrow(/names a digest: push to a tag/);
    expect(() => parseTarget('web:-x', 'the target')).toThrow(CliUsageError);
  });

  it('takes the name the source was saved with, or says to give one', () => {
    expect(targetFromSource('docker.io/library/busybox:1.36', 'img.tar')).toEqual({ repository: 'library/busybox', tag: '1.36' });
    expect(targetFromSource('busybox:latest', 'img.tar')).toEqual({ repository: 'busybox', tag: 'latest' });
    expect(() => targetFromSource('latest', './layout')).toThrow(/\.\/layout carries no repository name: give one, e.g. `berth push \.\/layout web:v1`/);
    expect(() => targetFromSource(undefined, 'x')).toThrow(CliUsageError);
  });

  it('splits DIR:TAG only when the path as typed does not exist', () => {
    expect(splitSource('./layout:v1', (p) => p === './layout')).toEqual({ path: './layout', tag: 'v1' });
    expect(splitSource('./odd:name', () => true)).toEqual({ path: './odd:name' });
    expect(splitSource('a/b', () => false)).toEqual({ path: 'a/b' });
  });

  it('says sizes in binary units', () => {
    expect([bytes(512), bytes(2048), bytes(3.5 * 1024 * 1024), bytes(1.25 * 1024 ** 3)]).toEqual(['512 B', '2.0 KiB', '3.5 MiB', '1.3 GiB']);
  });
});

describe('berth push: what from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-push-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an OCI layout: its config and layers, then its manifest', async () => {
    const built = await buildBusyboxImage(join(dir, 'layout'), 'v1');
    const source = await openImageSource(built.layoutDir);
    expect(source.name).toBe('v1');
    expect(source.blobs.map((b) => [b.role, b.digest])).toEqual([['config', built.configDigest], ...built.layerDigests.map((d) => ['layer', d])]);
    expect(source.manifests.map((m) => m.digest)).toEqual([built.manifestDigest]);
    expect(sha256(source.manifests[0]!.bytes)).toBe(built.manifestDigest);
    source.close();
  });

  it('a multi-platform layout: each platform manifest before the index; one of several picked by tag', async () => {
    const built = await buildMultiPlatformImage(join(dir, 'multi'), 'all', ['amd64', 'arm64']);
    const source = await openImageSource(built.layoutDir);
    expect(source.manifests.map((m) => m.digest)).toEqual([built.platforms.amd64!.manifestDigest, built.platforms.arm64!.manifestDigest, built.manifestDigest]);
    // Two configs, two platform layers and the busybox layer both share, once.
    expect(source.blobs).toHaveLength(5);
    const index = JSON.parse(readFileSync(join(built.layoutDir, 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    const amd64 = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: built.platforms.amd64!.manifestDigest, size: built.platforms.amd64!.manifestSize, annotations: { 'org.opencontainers.image.ref.name': 'only-amd64' } };
    writeFileSync(join(built.layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [...index.manifests, amd64] }));
    await expect(openImageSource(built.layoutDir)).rejects.toThrow(/holds 2 images \(all, only-amd64\): say which with SOURCE:REF/);
    const picked = await openImageSource(built.layoutDir, 'only-amd64');
    expect(picked.manifests.map((m) => m.digest)).toEqual([built.platforms.amd64!.manifestDigest]);
  });

  it("`docker save`'s archive: layers gzipped into a Docker schema 2 manifest named by RepoTags", async () => {
    const built = await buildBusyboxImage(join(dir, 'for-docker'), 'v1');
    const staging = join(dir, 'docker');
    mkdirSync(join(staging, 'abc'), { recursive: true });
    copyFileSync(join(built.layoutDir, 'blobs/sha256', built.configDigest.slice(7)), join(staging, 'config.json'));
    const layer = gunzipSync(readFileSync(join(built.layoutDir, 'blobs/sha256', built.layerDigests[0]!.slice(7))));
    writeFileSync(join(staging, 'abc/layer.tar'), layer);
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['team/app:v3'], Layers: ['abc/layer.tar'] }]));
    await tar.c({ file: join(dir, 'saved.tar'), cwd: staging }, ['manifest.json', 'config.json', 'abc']);
    const source = await openImageSource(join(dir, 'saved.tar'));
    expect(source.name).toBe('team/app:v3');
    const manifest = JSON.parse(source.manifests[0]!.bytes.toString()) as { mediaType: string; config: { digest: string }; layers: { digest: string; size: number }[] };
    expect(manifest.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(manifest.config.digest).toBe(built.configDigest);
    const gz = readFileSync(source.blobs[1]!.path);
    expect(gunzipSync(gz).equals(layer)).toBe(true);
    expect(manifest.layers[0]).toMatchObject({ digest: sha256(gz), size: gz.length });
    source.close();
  });

  it('refuses what is not an image, saying what it takes', async () => {
    await expect(openImageSource(join(dir, 'missing'))).rejects.toThrow(/no such file or directory; give an OCI image layout directory or a `docker save` archive/);
    writeFileSync(join(dir, 'junk.tar'), 'not a tar');
    await expect(openImageSource(join(dir, 'junk.tar'))).rejects.toThrow(CliUsageError);
  });
});
