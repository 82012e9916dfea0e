import type {
  DeleteLifecyclePolicyRequest,
  GetLifecyclePolicyPreviewRequest,
  GetLifecyclePolicyRequest,
  PutLifecyclePolicyRequest,
  StartLifecyclePolicyPreviewRequest,
} from '@aws-sdk/client-ecr';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { LifecyclePolicyError, parseLifecyclePolicy } from '../../model/registry/lifecycle-policy.js';
import { keys } from '../../state/keys.js';
import type { LifecyclePolicyRecord, LifecyclePreviewRecord } from '../../state/records/registry.js';
import { readJson, transact, readRecord } from '../../store/transact.js';
import { pageOfList } from '../pagination.js';
import { epochSeconds, type EcrEnv } from './env.js';
import { asEcr, checkRegistryId, ecrErrors } from './errors.js';
import { readRepository, repositoryIn } from './repositories.js';
import { parseLifecyclePolicyRecord, parseLifecyclePreviewRecord } from '../../state/records/registry.js';

/** Policy text ECR would refuse is InvalidParameterException naming the rule and the reason. */
function checkPolicy(text: string): void {
  try {
    parseLifecyclePolicy(text);
  } catch (error) {
    if (error instanceof LifecyclePolicyError) {
      throw invalidParameter(`Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '${error.message}'`);
    }
    throw error;
  }
}

export function lifecycleOperations(env: EcrEnv) {
  const { store, lifecycle } = env.registry;
  const ids = (repositoryName: string) => ({ registryId: env.scope.accountId, repositoryName });

  async function policyOf(repo: string): Promise<LifecyclePolicyRecord> {
    await readRepository(env, repo);
    const policy = await readRecord(store, parseLifecyclePolicyRecord, keys.lifecyclePolicy(repo));
    if (!policy) throw ecrErrors.lifecyclePolicyNotFound(env, repo);
    return policy;
  }

  const describe = (repo: string, policy: LifecyclePolicyRecord) => ({
    ...ids(repo),
    lifecyclePolicyText: policy.text,
    ...(policy.lastEvaluatedAt !== undefined ? { lastEvaluatedAt: epochSeconds(policy.lastEvaluatedAt) } : {}),
  });

  return {
    async PutLifecyclePolicy(input: PutLifecyclePolicyRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      const text = input.lifecyclePolicyText!;
      checkPolicy(text);
      await transact(store, async (tx) => {
        await repositoryIn(env, tx, repo);
        tx.putJson(keys.lifecyclePolicy(repo), { text } satisfies LifecyclePolicyRecord);
      });
      return { ...ids(repo), lifecyclePolicyText: text };
    },

    async GetLifecyclePolicy(input: GetLifecyclePolicyRequest) {
      checkRegistryId(env, input.registryId);
      return describe(input.repositoryName!, await policyOf(input.repositoryName!));
    },

    async DeleteLifecyclePolicy(input: DeleteLifecyclePolicyRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      const policy = await transact(store, async (tx) => {
        await repositoryIn(env, tx, repo);
        const current = await tx.getRecord(parseLifecyclePolicyRecord, keys.lifecyclePolicy(repo));
        if (!current) throw ecrErrors.lifecyclePolicyNotFound(env, repo);
        tx.delete(keys.lifecyclePolicy(repo));
        return current;
      });
      return describe(repo, policy);
    },

    /** Evaluated at once (it is cheap), so the preview is COMPLETE as soon as this returns. */
    async StartLifecyclePolicyPreview(input: StartLifecyclePolicyPreviewRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      const text = input.lifecyclePolicyText ?? (await policyOf(repo)).text;
      checkPolicy(text);
      await readRepository(env, repo);
      const verdicts = await asEcr(env, repo, () => lifecycle.evaluate(repo, text));
      const preview: LifecyclePreviewRecord = {
        text,
        status: 'COMPLETE',
        evaluatedAt: env.registry.now(),
        results: verdicts.map((v) => ({ digest: v.image.digest, tags: [...v.image.tags], pushedAt: v.image.pushedAt, rulePriority: v.rulePriority })),
      };
      await transact(store, async (tx) => {
        await repositoryIn(env, tx, repo);
        tx.putJson(keys.lifecyclePreview(repo), preview);
      });
      return { ...ids(repo), lifecyclePolicyText: text, status: preview.status };
    },

    async GetLifecyclePolicyPreview(input: GetLifecyclePolicyPreviewRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      await readRepository(env, repo);
      const preview = await readRecord(store, parseLifecyclePreviewRecord, keys.lifecyclePreview(repo));
      if (!preview) {
        throw new ServiceError(
          'LifecyclePolicyPreviewNotFoundException',
          `There is no preview for the repository with name '${repo}' in the registry with id '${env.scope.accountId}'; start one with StartLifecyclePolicyPreview`,
        );
      }
      let results = preview.results;
      if (input.imageIds?.length) {
        if (input.nextToken !== undefined || input.maxResults !== undefined) throw invalidParameter('imageIds cannot be combined with nextToken or maxResults.');
        results = results.filter((r) => input.imageIds!.some((id) => (id.imageDigest ?? r.digest) === r.digest && (id.imageTag === undefined || r.tags.includes(id.imageTag))));
      }
      const page = pageOfList(results, input, { defaultSize: 100, maxSize: 100 });
      return {
        ...ids(repo),
        lifecyclePolicyText: preview.text,
        status: preview.status,
        previewResults: page.items.map((r) => ({
          ...(r.tags.length ? { imageTags: [...r.tags] } : {}),
          imageDigest: r.digest,
          imagePushedAt: epochSeconds(r.pushedAt),
          action: { type: 'EXPIRE' as const },
          appliedRulePriority: r.rulePriority,
        })),
        summary: { expiringImageTotalCount: preview.results.length },
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },
  };
}
