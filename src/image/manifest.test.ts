import { describe, expect, it } from 'vitest';
import { InvalidManifestError, MEDIA_TYPES, parseImageConfig, parseManifest, selectPlatform, type Descriptor } from './manifest.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const image = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('c'), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: d('1'), size: 5 }],
};

describe('manifests', () => {
  it('parse OCI and Docker image manifests', () => {
    const oci = parseManifest(json(image));
    expect(oci).toMatchObject({ kind: 'image', mediaType: MEDIA_TYPES.ociManifest, config: { digest: d('c') }, layers: [{ digest: d('1'), size: 5 }] });
    const docker = parseManifest(
      json({
        ...image,
        mediaType: MEDIA_TYPES.dockerManifest,
        config: { ...image.config, mediaType: 'application/vnd.docker.container.image.v1+json' },
        layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: d('2'), size: 7 }],
      }),
    );
    expect(docker).toMatchObject({ kind: 'image', mediaType: MEDIA_TYPES.dockerManifest });
  });

  it('take the type from Content-Type or the shape when the body has no mediaType', () => {
    const { mediaType: _, ...bare } = image;
    expect(parseManifest(json(bare), `${MEDIA_TYPES.dockerManifest}; charset=utf-8`).mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(parseManifest(json(bare), 'application/json').kind).toBe('image');
    expect(parseManifest(json({ schemaVersion: 2, manifests: [] })).kind).toBe('index');
  });

  it('refuse schema 1, artifacts, unknown layer types and bad descriptors', () => {
    expect(() => parseManifest(json({ schemaVersion: 1, name: 'x' }))).toThrow(/schema 1/);
    expect(() => parseManifest(json(image), 'application/vnd.docker.distribution.manifest.v1+prettyjws')).not.toThrow();
    expect(() => parseManifest(json({ ...image, config: { ...image.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' } }))).toThrow(
      /not a container image/,
    );
    expect(() => parseManifest(json({ ...image, layers: [{ ...image.layers[0], mediaType: 'application/x-foo' }] }))).toThrow(
      /unsupported layer media type "application\/x-foo" at layers\[0\]/,
    );
    expect(() => parseManifest(json({ ...image, layers: [{ ...image.layers[0], digest: 'sha256:xyz' }] }))).toThrow(/invalid digest at layers\[0\]/);
    expect(() => parseManifest(json({ ...image, layers: [{ ...image.layers[0], size: -1 }] }))).toThrow(/size must be/);
    expect(() => parseManifest(Buffer.from('{nope'))).toThrow(InvalidManifestError);
    expect(() => parseManifest(json({ mediaType: 'text/plain' }))).toThrow(/unsupported manifest media type "text\/plain"/);
  });

  it('choose linux/amd64 from an index, preferring no variant over an unknown one', () => {
    const entry = (digest: string, architecture: string, variant?: string, os = 'linux'): Descriptor => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest,
      size: 1,
      platform: { os, architecture, ...(variant ? { variant } : {}) },
    });
    const index = [entry(d('a'), 'arm64', 'v8'), entry(d('b'), 'amd64', 'v3'), entry(d('c'), 'amd64'), entry(d('e'), 'unknown', undefined, 'unknown')];
    expect(selectPlatform(index, { os: 'linux', architecture: 'amd64' }).digest).toBe(d('c'));
    expect(selectPlatform(index, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest).toBe(d('a'));
    expect(() => selectPlatform([entry(d('a'), 'arm64')], { os: 'linux', architecture: 'amd64' })).toThrow(
      'no matching manifest for linux/amd64 in the manifest list (it offers: linux/arm64)',
    );
  });

  it('parse configs: defaults and diff_ids', () => {
    const parsed = parseImageConfig(
      json({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['A=1'], Cmd: null, Entrypoint: ['/bin/sh'], ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' }, User: 7 },
        rootfs: { type: 'layers', diff_ids: [d('1')] },
      }),
    );
    expect(parsed).toEqual({
      config: { Env: ['A=1'], Entrypoint: ['/bin/sh'], ExposedPorts: { '80/tcp': {} }, Labels: { a: 'b' } },
      diffIds: [d('1')],
      os: 'linux',
      architecture: 'amd64',
    });
    expect(() => parseImageConfig(json({ rootfs: { type: 'layers' } }))).toThrow(/diff_ids is missing/);
    expect(() => parseImageConfig(json({ rootfs: { type: 'layers', diff_ids: ['x'] } }))).toThrow(/rootfs.diff_ids\[0\]/);
  });
});
