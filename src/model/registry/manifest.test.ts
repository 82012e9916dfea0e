import { describe, expect, it } from 'vitest';
import { RegistryError } from './errors.js';
import { MEDIA_TYPES, parseManifest } from './manifest.js';
import { checkRepositoryName, isRepositoryName, isTag, parseDigest, tryParseDigest } from './names.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const bytes = (doc: object) => Buffer.from(JSON.stringify(doc));
const image = {
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.ociManifest,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('a'), size: 10 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('b'), size: 20 },
    { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: d('c'), size: 30, urls: ['https://example.com/c'] },
  ],
};

function refusal(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error('expected a RegistryError');
}

describe('parseManifest', () => {
  it('reads an image manifest: required blobs exclude foreign layers, artifactType falls back to the config type', () => {
    const parsed = parseManifest(bytes(image), MEDIA_TYPES.ociManifest);
    expect(parsed.kind).toBe('image');
    expect(parsed.blobs.map((b) => b.digest)).toEqual([d('a'), d('b')]);
    expect(parsed.artifactType).toBe('application/vnd.oci.image.config.v1+json');
  });

  it('reads an index and a subject, and infers the type when neither body nor header gives it', () => {
    const index = { schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: d('d'), size: 5 }], subject: { mediaType: MEDIA_TYPES.ociManifest, digest: d('e'), size: 6 } };
    const parsed = parseManifest(bytes(index), undefined);
    expect(parsed).toMatchObject({ kind: 'index', mediaType: MEDIA_TYPES.ociIndex, subject: { digest: d('e') } });
    expect(parsed.manifests.map((m) => m.digest)).toEqual([d('d')]);
    expect(parsed.artifactType).toBeUndefined();
  });

  it('ignores Content-Type parameters and non-manifest Content-Types', () => {
    expect(parseManifest(bytes(image), `${MEDIA_TYPES.ociManifest}; charset=utf-8`).mediaType).toBe(MEDIA_TYPES.ociManifest);
    expect(parseManifest(bytes(image), 'application/octet-stream').mediaType).toBe(MEDIA_TYPES.ociManifest);
  });

  it.each([
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), undefined, /UTF-8 JSON/],
    ['an array', bytes([]), undefined, /not a JSON object/],
    ['schema 1', bytes({ schemaVersion: 1 }), undefined, /schema 1/],
    ['a mismatched Content-Type', bytes(image), MEDIA_TYPES.dockerManifest, /does not match the Content-Type/],
    ['an unknown media type', bytes({ ...image, mediaType: 'application/x-custom' }), undefined, /unsupported manifest media type/],
    ['no config', bytes({ ...image, config: undefined }), undefined, /config must be a descriptor/],
    ['a negative size', bytes({ ...image, layers: [{ mediaType: 'x', digest: d('b'), size: -1 }] }), undefined, /layers\[0\].size/],
    ['a short digest', bytes({ ...image, layers: [{ mediaType: 'x', digest: 'sha256:abc', size: 1 }] }), undefined, /layers\[0\].digest/],
    ['an index with layers', bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [], layers: [] }), undefined, /no config or layers/],
    ['a Docker manifest without layers', bytes({ ...image, mediaType: MEDIA_TYPES.dockerManifest, layers: [] }), undefined, /at least one layer/],
  ])('refuses %s as MANIFEST_INVALID', (_label, body, type, message) => {
    const error = refusal(() => parseManifest(body, type));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toMatch(message);
  });
});

describe('names, tags and digests', () => {
  it.each(['ab', 'team/app', 'a.b_c__d---e/f', `${'a'.repeat(256)}`])('accepts repository name %s', (name) => expect(isRepositoryName(name)).toBe(true));
  it.each(['a', 'Ab', '/ab', 'ab/', 'a..b', 'a_.b', 'ab-', 'a//b', `${'a'.repeat(257)}`])('refuses repository name %s', (name) => {
    expect(isRepositoryName(name)).toBe(false);
    expect(refusal(() => checkRepositoryName(name)).code).toBe('NAME_INVALID');
  });
  it('checks tags by the OCI grammar', () => {
    expect(['latest', 'v1.2.3', '_x', 'A-b_c.d', 'x'.repeat(128)].every(isTag)).toBe(true);
    expect(['', '.x', '-x', 'a/b', 'a:b', 'x'.repeat(129)].some(isTag)).toBe(false);
  });
  it('accepts sha256 and sha512 digests only', () => {
    expect(tryParseDigest(d('f'))).toMatchObject({ algorithm: 'sha256', hex: 'f'.repeat(64) });
    expect(tryParseDigest(`sha512:${'0'.repeat(128)}`)?.algorithm).toBe('sha512');
    for (const bad of [`sha256:${'F'.repeat(64)}`, `sha256:${'f'.repeat(63)}`, `md5:${'f'.repeat(32)}`, 'sha256', ':abc']) {
      expect(tryParseDigest(bad)).toBeUndefined();
      expect(refusal(() => parseDigest(bad)).code).toBe('DIGEST_INVALID');
    }
  });
});
