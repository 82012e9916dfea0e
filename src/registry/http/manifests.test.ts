import { CreateRepositoryCommand, GetAuthorizationTokenCommand, PutImageTagMutabilityCommand } from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../state/keys.js';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { pushBlob, pushTestImage, putManifest, registryFetch, registryLogin, sha256, testImage, type RegistryHttp } from '../../testing/registry-client.js';

let api: ApiFixture;
let reg: RegistryHttp;

beforeAll(async () => {
  api = await startApiFixture();
  reg = await registryLogin(api.ecr, new GetAuthorizationTokenCommand({}), api.server.url);
  for (const name of ['m/app', 'm/tags', 'm/other', 'catalog-b', 'catalog-a']) await api.ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
});
afterAll(() => api.stop());

const errorOf = async (res: Response) => ((await res.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
const manifestCount = async () => (await api.server.store.range(keys.manifests())).entries.length;

describe('manifests', () => {
  it('pushes by tag, then reads back the exact bytes by tag and by digest, with GET and HEAD', async () => {
    const image = testImage();
    await pushTestImage(reg, 'm/app', image, 'v1');
    for (const ref of ['v1', image.digest]) {
      const res = await registryFetch(reg, `/v2/m/app/manifests/${ref}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.oci.image.manifest.v1+json');
      expect(res.headers.get('docker-content-digest')).toBe(image.digest);
      expect(await res.text()).toBe(image.manifestBytes);
      const head = await registryFetch(reg, `/v2/m/app/manifests/${ref}`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(image.manifestBytes)));
    }
  });

  it('pushes by digest and a Docker schema 2 manifest, keeping its media type', async () => {
    const image = testImage({ mediaType: 'docker' });
    for (const blob of [image.config, ...image.layers]) await pushBlob(reg, 'm/app', blob);
    const put = await putManifest(reg, 'm/app', image.digest, image.manifestBytes, 'application/vnd.docker.distribution.manifest.v2+json');
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/m/app/manifests/${image.digest}`);
    const get = await registryFetch(reg, `/v2/m/app/manifests/${image.digest}`);
    expect(get.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
  });

  it('stores an index over manifests in the repository, and refuses one naming a missing manifest', async () => {
    const amd = testImage();
    const arm = testImage();
    await pushTestImage(reg, 'm/app', amd, amd.digest);
    await pushTestImage(reg, 'm/app', arm, arm.digest);
    const index = (children: string[]) => ({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: children.map((digest, i) => ({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest,
        size: Buffer.byteLength(i === 0 ? amd.manifestBytes : arm.manifestBytes),
        platform: { os: 'linux', architecture: i === 0 ? 'amd64' : 'arm64' },
      })),
    });
    expect((await putManifest(reg, 'm/app', 'multi', index([amd.digest, arm.digest]))).status).toBe(201);
    const missing = await putManifest(reg, 'm/app', 'broken', index([amd.digest, sha256('nope')]));
    expect(missing.status).toBe(400);
    expect((await errorOf(missing)).code).toBe('MANIFEST_BLOB_UNKNOWN');
    // A manifest an index lists cannot be deleted out from under it.
    const refused = await registryFetch(reg, `/v2/m/app/manifests/${amd.digest}`, { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect((await errorOf(refused)).code).toBe('DENIED');
  });

  it('refuses a manifest naming a blob the repository does not have, and stores nothing', async () => {
    const before = await manifestCount();
    const image = testImage();
    await pushBlob(reg, 'm/app', image.config);
    await pushBlob(reg, 'm/other', image.layers[0]!); // in another repository only
    const res = await putManifest(reg, 'm/app', 'incomplete', image.manifestBytes);
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('MANIFEST_BLOB_UNKNOWN');
    expect(error.message).toContain(sha256(image.layers[0]!));
    expect(await manifestCount()).toBe(before);
    expect((await registryFetch(reg, '/v2/m/app/manifests/incomplete')).status).toBe(404);
    expect(await api.server.registry.blobs.fileNamesOf({ algorithm: 'sha256', hex: image.digest.slice(7), value: image.digest })).toEqual([]);
  });

  it.each([
    ['not JSON', 'this is not json', 'application/vnd.oci.image.manifest.v1+json', 'MANIFEST_INVALID', 400],
    ['schema 1', JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'MANIFEST_INVALID', 400],
    ['media type disagreeing with Content-Type', JSON.stringify({ ...testImage().manifest }), 'application/vnd.docker.distribution.manifest.v2+json', 'MANIFEST_INVALID', 400],
    ['bad layer digest', JSON.stringify({ ...testImage().manifest, layers: [{ mediaType: 'x', digest: 'sha256:123', size: 1 }] }), undefined, 'MANIFEST_INVALID', 400],
    ['oversized manifest', JSON.stringify({ ...testImage().manifest, annotations: { pad: 'x'.repeat(4 * 1024 * 1024) } }), undefined, 'MANIFEST_INVALID', 413],
  ])('refuses %s and stores nothing', async (_label, body, type, code, status) => {
    const before = await manifestCount();
    const res = await putManifest(reg, 'm/app', 'bad', body, type ?? 'application/vnd.oci.image.manifest.v1+json');
    expect(res.status).toBe(status);
    expect((await errorOf(res)).code).toBe(code);
    expect(await manifestCount()).toBe(before);
    expect((await registryFetch(reg, '/v2/m/app/manifests/bad')).status).toBe(404);
  });

  it('refuses a digest reference that does not match the body, and a malformed tag', async () => {
    const image = testImage();
    for (const blob of [image.config, ...image.layers]) await pushBlob(reg, 'm/app', blob);
    const wrong = await putManifest(reg, 'm/app', sha256('other'), image.manifestBytes);
    expect(wrong.status).toBe(400);
    expect((await errorOf(wrong)).code).toBe('DIGEST_INVALID');
    const badTag = await putManifest(reg, 'm/app', '-dash-first', image.manifestBytes);
    expect((await errorOf(badTag)).code).toBe('TAG_INVALID');
  });

  it('enforces immutable tags: the same digest again is fine, another digest is TAG_INVALID', async () => {
    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'm/immutable', imageTagMutability: 'IMMUTABLE' }));
    const first = testImage();
    await pushTestImage(reg, 'm/immutable', first, 'release');
    expect((await putManifest(reg, 'm/immutable', 'release', first.manifestBytes)).status).toBe(201);
    const second = testImage();
    for (const blob of [second.config, ...second.layers]) await pushBlob(reg, 'm/immutable', blob);
    const moved = await putManifest(reg, 'm/immutable', 'release', second.manifestBytes);
    expect(moved.status).toBe(400);
    const error = await errorOf(moved);
    expect(error.code).toBe('TAG_INVALID');
    expect(error.message).toContain("'release' already exists");
    expect((await registryFetch(reg, '/v2/m/immutable/manifests/release')).headers.get('docker-content-digest')).toBe(first.digest);
    // Exclusions let matching tags move.
    await api.ecr.send(
      new PutImageTagMutabilityCommand({
        repositoryName: 'm/immutable',
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'latest*' }],
      }),
    );
    expect((await putManifest(reg, 'm/immutable', 'latest', first.manifestBytes)).status).toBe(201);
    expect((await putManifest(reg, 'm/immutable', 'latest', second.manifestBytes)).status).toBe(201);
  });

  it('deletes a tag (keeping the manifest) and a manifest (with its tags)', async () => {
    const image = testImage();
    await pushTestImage(reg, 'm/app', image, 'doomed');
    await putManifest(reg, 'm/app', 'doomed-too', image.manifestBytes);
    expect((await registryFetch(reg, '/v2/m/app/manifests/doomed', { method: 'DELETE' })).status).toBe(202);
    expect((await registryFetch(reg, '/v2/m/app/manifests/doomed')).status).toBe(404);
    expect((await registryFetch(reg, `/v2/m/app/manifests/${image.digest}`)).status).toBe(200);
    expect((await registryFetch(reg, `/v2/m/app/manifests/${image.digest}`, { method: 'DELETE' })).status).toBe(202);
    const gone = await registryFetch(reg, '/v2/m/app/manifests/doomed-too');
    expect(gone.status).toBe(404);
    expect((await errorOf(gone)).code).toBe('MANIFEST_UNKNOWN');
  });
});

describe('tags, catalog and referrers', () => {
  it('lists tags in order, a page at a time, with a Link header', async () => {
    const image = testImage();
    const tags = ['b', 'a', 'c10', 'c2', 'Z'];
    await pushTestImage(reg, 'm/tags', image, tags[0]!);
    for (const tag of tags.slice(1)) expect((await putManifest(reg, 'm/tags', tag, image.manifestBytes)).status).toBe(201);
    const all = await registryFetch(reg, '/v2/m/tags/tags/list');
    expect(await all.json()).toEqual({ name: 'm/tags', tags: ['Z', 'a', 'b', 'c10', 'c2'] });
    expect(all.headers.get('link')).toBeNull();
    const first = await registryFetch(reg, '/v2/m/tags/tags/list?n=2');
    expect(((await first.json()) as { tags: string[] }).tags).toEqual(['Z', 'a']);
    expect(first.headers.get('link')).toBe('</v2/m/tags/tags/list?n=2&last=a>; rel="next"');
    const next = await registryFetch(reg, '/v2/m/tags/tags/list?n=2&last=a');
    expect(((await next.json()) as { tags: string[] }).tags).toEqual(['b', 'c10']);
    const last = await registryFetch(reg, '/v2/m/tags/tags/list?n=2&last=c10');
    expect(((await last.json()) as { tags: string[] }).tags).toEqual(['c2']);
    expect(last.headers.get('link')).toBeNull();
    const none = await registryFetch(reg, '/v2/m/tags/tags/list?n=0');
    expect(((await none.json()) as { tags: string[] }).tags).toEqual([]);
    expect(none.headers.get('link')).toBeNull();
    expect((await errorOf(await registryFetch(reg, '/v2/m/tags/tags/list?n=-1'))).code).toBe('PAGINATION_NUMBER_INVALID');
    expect((await errorOf(await registryFetch(reg, '/v2/m/nope/tags/list'))).code).toBe('NAME_UNKNOWN');
  });

  it('lists repositories in the catalog', async () => {
    const all = (await (await registryFetch(reg, '/v2/_catalog')).json()) as { repositories: string[] };
    expect(all.repositories).toEqual([...all.repositories].sort());
    expect(all.repositories).toEqual(expect.arrayContaining(['catalog-a', 'catalog-b', 'm/app']));
    const page = await registryFetch(reg, '/v2/_catalog?n=1');
    expect(await page.json()).toEqual({ repositories: ['catalog-a'] });
    expect(page.headers.get('link')).toBe('</v2/_catalog?n=1&last=catalog-a>; rel="next"');
  });

  it('answers the referrers API, filtered by artifactType', async () => {
    const subject = testImage();
    await pushTestImage(reg, 'm/app', subject, 'signed');
    const emptyConfig = Buffer.from('{}');
    await pushBlob(reg, 'm/app', emptyConfig);
    const referrer = (artifactType: string) => ({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(emptyConfig), size: 2 },
      layers: [],
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: Buffer.byteLength(subject.manifestBytes) },
      annotations: { 'org.example.kind': artifactType },
    });
    const sig = referrer('application/vnd.example.signature');
    const sbom = referrer('application/vnd.example.sbom');
    const put = await putManifest(reg, 'm/app', sha256(JSON.stringify(sig)), sig);
    expect(put.status).toBe(201);
    expect(put.headers.get('oci-subject')).toBe(subject.digest);
    await putManifest(reg, 'm/app', sha256(JSON.stringify(sbom)), sbom);

    const all = await registryFetch(reg, `/v2/m/app/referrers/${subject.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe('application/vnd.oci.image.index.v1+json');
    const index = (await all.json()) as { manifests: { digest: string; artifactType: string; annotations: object }[] };
    expect(index.manifests.map((m) => m.artifactType).sort()).toEqual(['application/vnd.example.sbom', 'application/vnd.example.signature']);
    expect(index.manifests[0]!.annotations).toHaveProperty('org.example.kind');
    const filtered = await registryFetch(reg, `/v2/m/app/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`);
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect(((await filtered.json()) as { manifests: unknown[] }).manifests).toHaveLength(1);
    const nothing = await registryFetch(reg, `/v2/m/app/referrers/${sha256('no referrers')}`);
    expect(await nothing.json()).toEqual({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] });
    expect((await registryFetch(reg, '/v2/m/app/referrers/not-a-digest')).status).toBe(400);
  });
});

describe('authentication', () => {
  it('challenges anonymous requests with 401 and WWW-Authenticate', async () => {
    for (const path of ['/v2/', '/v2/m/app/tags/list', `/v2/m/app/blobs/${sha256('x')}`]) {
      const res = await registryFetch(reg, path, { auth: null });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="/);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      expect((await errorOf(res)).code).toBe('UNAUTHORIZED');
    }
  });

  it('accepts the token as Basic and as Bearer, and refuses wrong, forged and foreign tokens', async () => {
    expect((await registryFetch(reg, '/v2/')).status).toBe(200);
    expect((await registryFetch(reg, '/v2/', { auth: `Bearer ${reg.password}` })).status).toBe(200);
    const [prefix, claims, signature] = reg.password.split('.') as [string, string, string];
    const forgedClaims = Buffer.from(JSON.stringify({ p: 'arn:aws:iam::123456789012:root', e: Date.now() + 10 ** 9 })).toString('base64url');
    const bad = [
      `Basic ${Buffer.from('AWS:wrong').toString('base64')}`,
      `Basic ${Buffer.from(`admin:${reg.password}`).toString('base64')}`,
      `Basic ${Buffer.from(`AWS:${prefix}.${forgedClaims}.${signature}`).toString('base64')}`,
      `Basic ${Buffer.from(`AWS:${prefix}.${claims}.${signature.slice(0, -2)}AA`).toString('base64')}`,
      'Bearer nonsense',
      'Digest whatever',
    ];
    for (const auth of bad) {
      const res = await registryFetch(reg, '/v2/', { auth });
      expect(res.status, auth).toBe(401);
    }
  });

  it('answers unknown endpoints with an OCI error', async () => {
    const res = await registryFetch(reg, '/v2/m/app/whatever');
    expect(res.status).toBe(405);
    expect((await errorOf(res)).code).toBe('UNSUPPORTED');
  });
});
