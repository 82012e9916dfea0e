import {
  BatchCheckLayerAvailabilityCommand,
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  GetAuthorizationTokenCommand,
  ListImagesCommand,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { pushBlob, pushTestImage, putManifest, registryFetch, registryLogin, sha256, testImage, type RegistryHttp, type TestImage } from '../../testing/registry-client.js';

let api: ApiFixture;
let reg: RegistryHttp;
let web: TestImage;
let old: TestImage;

beforeAll(async () => {
  api = await startApiFixture();
  reg = await registryLogin(api.ecr, new GetAuthorizationTokenCommand({}), api.server.url);
  await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'img/web' }));
  old = testImage();
  await pushTestImage(reg, 'img/web', old, old.digest); // untagged
  web = testImage({ layerCount: 3, layerSize: 2048 });
  await pushTestImage(reg, 'img/web', web, 'v1');
  await putManifest(reg, 'img/web', 'latest', web.manifestBytes);
});
afterAll(() => api.stop());

describe('GetAuthorizationToken', () => {
  it('returns base64 AWS:<password> valid for 12 hours, and the registry accepts it', async () => {
    const { authorizationData } = await api.ecr.send(new GetAuthorizationTokenCommand({}));
    const [data] = authorizationData!;
    expect(data!.proxyEndpoint).toBe(`http://${api.server.registryHost}`);
    const hours = (data!.expiresAt!.getTime() - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(11.9);
    expect(hours).toBeLessThanOrEqual(12);
    const decoded = Buffer.from(data!.authorizationToken!, 'base64').toString('utf8');
    expect(decoded).toMatch(/^AWS:/);
    const res = await fetch(`${data!.proxyEndpoint}/v2/`, { headers: { authorization: `Basic ${data!.authorizationToken}` } });
    expect(res.status).toBe(200);
  });
});

describe('listing and describing images', () => {
  it('lists one id per tag plus untagged images, filtered by tag status', async () => {
    const all = await api.ecr.send(new ListImagesCommand({ repositoryName: 'img/web' }));
    expect(all.imageIds).toEqual(
      expect.arrayContaining([
        { imageDigest: web.digest, imageTag: 'latest' },
        { imageDigest: web.digest, imageTag: 'v1' },
        { imageDigest: old.digest },
      ]),
    );
    expect(all.imageIds).toHaveLength(3);
    const untagged = await api.ecr.send(new ListImagesCommand({ repositoryName: 'img/web', filter: { tagStatus: 'UNTAGGED' } }));
    expect(untagged.imageIds).toEqual([{ imageDigest: old.digest }]);
    const page = await api.ecr.send(new ListImagesCommand({ repositoryName: 'img/web', maxResults: 2 }));
    expect(page.imageIds).toHaveLength(2);
    const rest = await api.ecr.send(new ListImagesCommand({ repositoryName: 'img/web', maxResults: 2, nextToken: page.nextToken! }));
    expect([...page.imageIds!, ...rest.imageIds!]).toEqual(all.imageIds);
    const missing = await failure(api.ecr.send(new ListImagesCommand({ repositoryName: 'img/ghost' })));
    expect(missing.name).toBe('RepositoryNotFoundException');
  });

  it('describes images: digest, tags, size, push time and media types', async () => {
    const { imageDetails } = await api.ecr.send(new DescribeImagesCommand({ repositoryName: 'img/web', imageIds: [{ imageTag: 'v1' }] }));
    expect(imageDetails).toHaveLength(1);
    expect(imageDetails![0]).toMatchObject({
      registryId: TEST_ACCOUNT,
      repositoryName: 'img/web',
      imageDigest: web.digest,
      imageTags: ['latest', 'v1'],
      imageSizeInBytes: web.config.length + 3 * 2048,
      imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactMediaType: 'application/vnd.oci.image.config.v1+json',
    });
    expect(Math.abs(imageDetails![0]!.imagePushedAt!.getTime() - Date.now())).toBeLessThan(60_000);
    const tagged = await api.ecr.send(new DescribeImagesCommand({ repositoryName: 'img/web', filter: { tagStatus: 'TAGGED' } }));
    expect(tagged.imageDetails!.map((d) => d.imageDigest)).toEqual([web.digest]);
    const missing = await failure(api.ecr.send(new DescribeImagesCommand({ repositoryName: 'img/web', imageIds: [{ imageTag: 'nope' }] })));
    expect(missing).toMatchObject({ name: 'ImageNotFoundException' });
    expect(missing.message).toContain("imageTag:'nope'");
  });

  it('gets manifests in a batch, with failures for what is missing or malformed', async () => {
    const out = await api.ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'img/web',
        imageIds: [{ imageTag: 'v1' }, { imageDigest: old.digest }, { imageTag: 'ghost' }, { imageDigest: 'sha256:bad' }, { imageTag: 'v1', imageDigest: old.digest }, {}],
      }),
    );
    expect(out.images!.map((i) => i.imageManifest)).toEqual([web.manifestBytes, old.manifestBytes]);
    expect(out.images![0]).toMatchObject({ imageId: { imageDigest: web.digest, imageTag: 'v1' }, imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect(out.failures!.map((f) => f.failureCode)).toEqual(['ImageNotFound', 'InvalidImageDigest', 'ImageTagDoesNotMatchDigest', 'MissingDigestAndTag']);
  });

  it('checks layer availability', async () => {
    const out = await api.ecr.send(
      new BatchCheckLayerAvailabilityCommand({ repositoryName: 'img/web', layerDigests: [sha256(web.layers[0]!), sha256('absent'), 'junk'] }),
    );
    expect(out.layers).toEqual([{ layerDigest: sha256(web.layers[0]!), layerAvailability: 'AVAILABLE', layerSize: 2048 }]);
    expect(out.failures!.map((f) => f.failureCode)).toEqual(['MissingLayerDigest', 'InvalidLayerDigest']);
  });
});

describe('PutImage', () => {
  it('tags an existing manifest under a new tag, and refuses the same image and tag again', async () => {
    const { image } = await api.ecr.send(new PutImageCommand({ repositoryName: 'img/web', imageManifest: web.manifestBytes, imageTag: 'stable' }));
    expect(image).toMatchObject({ imageId: { imageDigest: web.digest, imageTag: 'stable' }, imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' });
    expect((await registryFetch(reg, '/v2/img/web/manifests/stable')).headers.get('docker-content-digest')).toBe(web.digest);
    const again = await failure(api.ecr.send(new PutImageCommand({ repositoryName: 'img/web', imageManifest: web.manifestBytes, imageTag: 'stable' })));
    expect(again.name).toBe('ImageAlreadyExistsException');
  });

  it('refuses missing layers, a wrong digest and an immutable tag, storing nothing', async () => {
    const fresh = testImage();
    await pushBlob(reg, 'img/web', fresh.config);
    const layers = await failure(api.ecr.send(new PutImageCommand({ repositoryName: 'img/web', imageManifest: fresh.manifestBytes, imageTag: 'fresh' })));
    expect(layers.name).toBe('LayersNotFoundException');
    expect(layers.message).toContain(sha256(fresh.layers[0]!));
    const digest = await failure(
      api.ecr.send(new PutImageCommand({ repositoryName: 'img/web', imageManifest: web.manifestBytes, imageTag: 'x', imageDigest: old.digest })),
    );
    expect(digest.name).toBe('ImageDigestDoesNotMatchException');
    const noType = await failure(api.ecr.send(new PutImageCommand({ repositoryName: 'img/web', imageManifest: JSON.stringify({ schemaVersion: 2 }) })));
    expect(noType.name).toBe('InvalidParameterException');
    expect((await api.ecr.send(new ListImagesCommand({ repositoryName: 'img/web' }))).imageIds!.some((i) => i.imageTag === 'fresh' || i.imageTag === 'x')).toBe(false);

    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'img/frozen', imageTagMutability: 'IMMUTABLE' }));
    const a = testImage();
    const b = testImage();
    await pushTestImage(reg, 'img/frozen', a, 'prod');
    await pushTestImage(reg, 'img/frozen', b, b.digest);
    const frozen = await failure(api.ecr.send(new PutImageCommand({ repositoryName: 'img/frozen', imageManifest: b.manifestBytes, imageTag: 'prod' })));
    expect(frozen.name).toBe('ImageTagAlreadyExistsException');
    const [detail] = (await api.ecr.send(new DescribeImagesCommand({ repositoryName: 'img/frozen', imageIds: [{ imageTag: 'prod' }] }))).imageDetails!;
    expect(detail!.imageDigest).toBe(a.digest);
  });
});

describe('BatchDeleteImage', () => {
  it('removes a tag, deletes an image with its last tag or by digest, and reports failures', async () => {
    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'img/del' }));
    const one = testImage();
    const two = testImage();
    await pushTestImage(reg, 'img/del', one, 'a');
    await putManifest(reg, 'img/del', 'b', one.manifestBytes);
    await pushTestImage(reg, 'img/del', two, 'c');

    const first = await api.ecr.send(new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageTag: 'a' }] }));
    expect(first.imageIds).toEqual([{ imageDigest: one.digest, imageTag: 'a' }]);
    expect((await registryFetch(reg, `/v2/img/del/manifests/${one.digest}`)).status).toBe(200);
    await api.ecr.send(new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageTag: 'b' }] }));
    expect((await registryFetch(reg, `/v2/img/del/manifests/${one.digest}`)).status).toBe(404);

    const second = await api.ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageDigest: two.digest }, { imageTag: 'ghost' }, { imageDigest: 'sha256:x' }] }),
    );
    expect(second.imageIds).toEqual([{ imageDigest: two.digest, imageTag: 'c' }]);
    expect(second.failures!.map((f) => f.failureCode)).toEqual(['ImageNotFound', 'InvalidImageDigest']);
    expect((await api.ecr.send(new ListImagesCommand({ repositoryName: 'img/del' }))).imageIds ?? []).toEqual([]);
  });

  it('will not delete an image an index lists', async () => {
    const child = testImage();
    await pushTestImage(reg, 'img/del', child, child.digest);
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: child.digest, size: Buffer.byteLength(child.manifestBytes) }],
    };
    expect((await putManifest(reg, 'img/del', 'multi', index)).status).toBe(201);
    const out = await api.ecr.send(new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageDigest: child.digest }] }));
    expect(out.failures).toEqual([
      { imageId: { imageDigest: child.digest }, failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image referenced by a manifest list' },
    ]);
    await api.ecr.send(new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageTag: 'multi' }] }));
    const again = await api.ecr.send(new BatchDeleteImageCommand({ repositoryName: 'img/del', imageIds: [{ imageDigest: child.digest }] }));
    expect(again.imageIds).toEqual([{ imageDigest: child.digest }]);
  });
});
