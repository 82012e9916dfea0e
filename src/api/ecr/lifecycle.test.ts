import {
  CreateRepositoryCommand,
  DeleteLifecyclePolicyCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  ListImagesCommand,
  PutLifecyclePolicyCommand,
  StartLifecyclePolicyPreviewCommand,
} from '@aws-sdk/client-ecr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import { pushTestImage, registryLogin, testImage, type RegistryHttp } from '../../testing/registry-client.js';

let api: ApiFixture;
let reg: RegistryHttp;
const digests: Record<string, string> = {};

const keepTwoReleases = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'keep the two newest releases',
      selection: { tagStatus: 'tagged', tagPrefixList: ['release-'], countType: 'imageCountMoreThan', countNumber: 2 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'no untagged images',
      selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 },
      action: { type: 'expire' },
    },
  ],
});

/** Push times are milliseconds; make sure each image gets a later one than the last. */
async function nextMillisecond(): Promise<void> {
  const start = Date.now();
  while (Date.now() === start) await new Promise((r) => setImmediate(r));
}

beforeAll(async () => {
  api = await startApiFixture({ registryLifecycleIntervalMs: 50 });
  reg = await registryLogin(api.ecr, new GetAuthorizationTokenCommand({}), api.server.url);
  await api.ecr.send(new CreateRepositoryCommand({ repositoryName: 'life/app' }));
  for (const ref of ['release-1', 'release-2', 'release-3', 'dev', 'untagged-1', 'untagged-2']) {
    const image = testImage();
    digests[ref] = await pushTestImage(reg, 'life/app', image, ref.startsWith('untagged') ? image.digest : ref);
    await nextMillisecond();
  }
});
afterAll(() => api.stop());

describe('lifecycle policies', () => {
  it('refuses an invalid policy, naming the problem', async () => {
    const text = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'tagged', countType: 'imageCountMoreThan', countNumber: 1 }, action: { type: 'expire' } }] });
    const e = await failure(api.ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'life/app', lifecyclePolicyText: text })));
    expect(e.name).toBe('InvalidParameterException');
    expect(e.message).toContain("tagStatus 'tagged' needs a non-empty tagPrefixList or tagPatternList");
    const none = await failure(api.ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'life/app' })));
    expect(none.name).toBe('LifecyclePolicyNotFoundException');
    const ghost = await failure(api.ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'life/ghost', lifecyclePolicyText: keepTwoReleases })));
    expect(ghost.name).toBe('RepositoryNotFoundException');
  });

  it('previews what a policy would expire without expiring it', async () => {
    const noPreview = await failure(api.ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'life/app' })));
    expect(noPreview.name).toBe('LifecyclePolicyPreviewNotFoundException');
    const started = await api.ecr.send(new StartLifecyclePolicyPreviewCommand({ repositoryName: 'life/app', lifecyclePolicyText: keepTwoReleases }));
    expect(started.status).toBe('COMPLETE');
    const preview = await api.ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'life/app' }));
    expect(preview.status).toBe('COMPLETE');
    expect(preview.summary).toEqual({ expiringImageTotalCount: 2 });
    expect(preview.previewResults!.map((r) => [r.imageDigest, r.imageTags, r.appliedRulePriority, r.action?.type])).toEqual([
      [digests['release-1'], ['release-1'], 1, 'EXPIRE'],
      [digests['untagged-1'], undefined, 2, 'EXPIRE'],
    ]);
    const page = await api.ecr.send(new GetLifecyclePolicyPreviewCommand({ repositoryName: 'life/app', maxResults: 1 }));
    expect(page.previewResults).toHaveLength(1);
    expect(page.nextToken).toBeTruthy();
    expect((await api.ecr.send(new ListImagesCommand({ repositoryName: 'life/app' }))).imageIds).toHaveLength(6);
  });

  it('applies a stored policy on the schedule, and records when', async () => {
    const put = await api.ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'life/app', lifecyclePolicyText: keepTwoReleases }));
    expect(put.lifecyclePolicyText).toBe(keepTwoReleases);
    const deadline = Date.now() + 10_000;
    let remaining: string[] = [];
    while (Date.now() < deadline) {
      const { imageIds = [] } = await api.ecr.send(new ListImagesCommand({ repositoryName: 'life/app' }));
      remaining = imageIds.map((i) => i.imageTag ?? i.imageDigest!).sort();
      if (remaining.length === 4) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(remaining).toEqual(['dev', digests['untagged-2'], 'release-2', 'release-3'].sort());
    const got = await api.ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'life/app' }));
    expect(got.lifecyclePolicyText).toBe(keepTwoReleases);
    expect(got.lastEvaluatedAt).toBeInstanceOf(Date);

    const deleted = await api.ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'life/app' }));
    expect(deleted.lifecyclePolicyText).toBe(keepTwoReleases);
    expect((await failure(api.ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'life/app' })))).name).toBe('LifecyclePolicyNotFoundException');
    expect((await failure(api.ecr.send(new DeleteLifecyclePolicyCommand({ repositoryName: 'life/app' })))).name).toBe('LifecyclePolicyNotFoundException');
  });
});
