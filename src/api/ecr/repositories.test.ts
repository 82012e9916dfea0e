import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutImageTagMutabilityCommand,
  StartImageScanCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../state/keys.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { pushTestImage, registryFetch, registryLogin, testImage, type RegistryHttp } from '../../testing/registry-client.js';

let api: ApiFixture;
let reg: RegistryHttp;
beforeAll(async () => {
  api = await startApiFixture();
  reg = await registryLogin(api.ecr, new GetAuthorizationTokenCommand({}), api.server.url);
});
afterAll(() => api.stop());

const arn = (name: string) => `arn:aws:ecr:${TEST_REGION}:${TEST_ACCOUNT}:repository/${name}`;

describe('CreateRepository and DescribeRepositories', () => {
  it('creates a namespaced repository with settings, tags and a URI on the server', async () => {
    const { repository } = await api.ecr.send(
      new CreateRepositoryCommand({
        repositoryName: 'team-a/web.app_1',
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        tags: [{ Key: 'team', Value: 'a' }],
      }),
    );
    expect(repository).toMatchObject({
      repositoryArn: arn('team-a/web.app_1'),
      registryId: TEST_ACCOUNT,
      repositoryName: 'team-a/web.app_1',
      repositoryUri: `${api.server.registryHost}/team-a/web.app_1`,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });
    expect(api.server.registryHost).toBe(new URL(api.server.url).host);
    expect(repository!.createdAt).toBeInstanceOf(Date);
    const { tags } = await api.ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('team-a/web.app_1') }));
    expect(tags).toEqual([{ Key: 'team', Value: 'a' }]);
  });

  it.each([
    ['uppercase', 'Web'],
    ['leading slash', '/web'],
    ['double dot', 'a..b'],
    ['one character', 'a'],
    ['trailing dash', 'web-'],
  ])('refuses a bad name (%s) and creates nothing', async (_label, name) => {
    const e = await failure(api.ecr.send(new CreateRepositoryCommand({ repositoryName: name })));
    expect(e.name).toBe('InvalidParameterException');
    expect(await api.server.store.get(keys.repository(name))).toBeUndefined();
  });

  it('refuses a duplicate, reserved tags and exclusion filters without an *_WITH_EXCLUSION setting', async () => {
    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'dup' }));
    const dup = await failure(api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'dup' })));
    expect(dup).toMatchObject({ name: 'RepositoryAlreadyExistsException', message: `The repository with name 'dup' already exists in the registry with id '${TEST_ACCOUNT}'` });
    const reserved = await failure(api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'tagged', tags: [{ Key: 'aws:x', Value: 'y' }] })));
    expect(reserved.name).toBe('InvalidTagParameterException');
    const filters = await failure(
      api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'filtered', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x*' }] })),
    );
    expect(filters.name).toBe('InvalidParameterException');
    const otherAccount = await failure(api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'elsewhere', registryId: '999999999999' })));
    expect(otherAccount.name).toBe('InvalidParameterException');
  });

  it('describes by name (failing on a missing one) and pages through all', async () => {
    for (const n of ['page/1', 'page/2', 'page/3']) await api.ecr.send(new CreateRepositoryCommand({ repositoryName: n }));
    const named = await api.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['page/2', 'dup'] }));
    expect(named.repositories!.map((r) => r.repositoryName)).toEqual(['page/2', 'dup']);
    const missing = await failure(api.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['page/2', 'ghost'] })));
    expect(missing).toMatchObject({ name: 'RepositoryNotFoundException', message: `The repository with name 'ghost' does not exist in the registry with id '${TEST_ACCOUNT}'` });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await api.ecr.send(new DescribeRepositoriesCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }));
      expect(page.repositories!.length).toBeLessThanOrEqual(2);
      seen.push(...page.repositories!.map((r) => r.repositoryName!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['dup', 'page/1', 'page/2', 'page/3', 'team-a/web.app_1']));
  });
});

describe('settings and tags', () => {
  it('changes tag mutability and scanning configuration (stored only) and returns them', async () => {
    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'settings' }));
    const m = await api.ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'settings', imageTagMutability: 'IMMUTABLE' }));
    expect(m).toMatchObject({ registryId: TEST_ACCOUNT, repositoryName: 'settings', imageTagMutability: 'IMMUTABLE' });
    const s = await api.ecr.send(new PutImageScanningConfigurationCommand({ repositoryName: 'settings', imageScanningConfiguration: { scanOnPush: true } }));
    expect(s.imageScanningConfiguration).toEqual({ scanOnPush: true });
    const [repo] = (await api.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['settings'] }))).repositories!;
    expect(repo).toMatchObject({ imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true } });
    const missing = await failure(api.ecr.send(new PutImageTagMutabilityCommand({ repositoryName: 'ghost', imageTagMutability: 'MUTABLE' })));
    expect(missing.name).toBe('RepositoryNotFoundException');
  });

  it('says plainly that it does not scan images', async () => {
    const e = await failure(api.ecr.send(new StartImageScanCommand({ repositoryName: 'settings', imageId: { imageTag: 'x' } })));
    expect(e).toMatchObject({ name: 'UnsupportedFeatureException', message: 'berth does not support the StartImageScan action yet.' });
  });

  it('tags and untags a repository', async () => {
    await api.ecr.send(new TagResourceCommand({ resourceArn: arn('settings'), tags: [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }] }));
    await api.ecr.send(new TagResourceCommand({ resourceArn: arn('settings'), tags: [{ Key: 'a', Value: '3' }] }));
    await api.ecr.send(new UntagResourceCommand({ resourceArn: arn('settings'), tagKeys: ['b'] }));
    expect((await api.ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('settings') }))).tags).toEqual([{ Key: 'a', Value: '3' }]);
    const bad = await failure(api.ecr.send(new ListTagsForResourceCommand({ resourceArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/x' })));
    expect(bad.name).toBe('InvalidParameterException');
    const ghost = await failure(api.ecr.send(new ListTagsForResourceCommand({ resourceArn: arn('ghost') })));
    expect(ghost.name).toBe('RepositoryNotFoundException');
  });
});

describe('DeleteRepository', () => {
  it('refuses a repository with images unless forced, then deletes it with its images', async () => {
    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'doomed/app' }));
    await pushTestImage(reg, 'doomed/app', testImage(), 'v1');
    const refused = await failure(api.ecr.send(new DeleteRepositoryCommand({ repositoryName: 'doomed/app' })));
    expect(refused.name).toBe('RepositoryNotEmptyException');
    expect((await registryFetch(reg, '/v2/doomed/app/manifests/v1')).status).toBe(200);

    const { repository } = await api.ecr.send(new DeleteRepositoryCommand({ repositoryName: 'doomed/app', force: true }));
    expect(repository?.repositoryName).toBe('doomed/app');
    expect((await registryFetch(reg, '/v2/doomed/app/manifests/v1')).status).toBe(404);
    for (const prefix of [keys.manifestsOf('doomed/app'), keys.tagsOf('doomed/app'), keys.blobLinksOf('doomed/app')]) {
      expect((await api.server.store.range(prefix)).entries).toEqual([]);
    }
    // The name is free again, and the new repository starts empty.
    await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'doomed/app' }));
    expect(await (await registryFetch(reg, '/v2/doomed/app/tags/list')).json()).toEqual({ name: 'doomed/app', tags: [] });
    await api.ecr.send(new DeleteRepositoryCommand({ repositoryName: 'doomed/app' }));
    const again = await failure(api.ecr.send(new DeleteRepositoryCommand({ repositoryName: 'doomed/app' })));
    expect(again.name).toBe('RepositoryNotFoundException');
  });
});
