import type { ListTagsForResourceRequest, TagResourceRequest, UntagResourceRequest } from '@aws-sdk/client-ecr';
import { parseArn } from '../../model/arn.js';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { keys } from '../../state/keys.js';
import { MAX_REPOSITORY_TAGS, validateEcrTags, type EcrTag } from '../../model/registry/repository-tags.js';
import type { RepositoryRecord } from '../../state/records/registry.js';
import { transact } from '../../store/transact.js';
import type { EcrEnv } from './env.js';
import { readRepository, repositoryIn } from './repositories.js';

/** The repository an ECR ARN names in this registry. */
function repositoryOf(env: EcrEnv, resourceArn: string): string {
  const arn = parseArn(resourceArn);
  if (!arn || arn.service !== 'ecr' || arn.resourceType !== 'repository') {
    throw invalidParameter(`Invalid parameter at 'resourceArn': '${resourceArn}' is not an Amazon ECR repository ARN.`);
  }
  if (arn.region !== env.scope.region || arn.accountId !== env.scope.accountId) {
    throw invalidParameter(`Invalid parameter at 'resourceArn': '${resourceArn}' is not in this registry.`);
  }
  return arn.resource;
}

export function tagOperations(env: EcrEnv) {
  async function retag(resourceArn: string, change: (tags: readonly EcrTag[]) => EcrTag[]): Promise<void> {
    const name = repositoryOf(env, resourceArn);
    await transact(env.registry.store, async (tx) => {
      const record = await repositoryIn(env, tx, name);
      tx.putJson(keys.repository(name), { ...record, tags: change(record.tags) } satisfies RepositoryRecord);
    });
  }

  return {
    async TagResource(input: TagResourceRequest) {
      const added = validateEcrTags(input.tags);
      await retag(input.resourceArn!, (tags) => {
        const merged = new Map(tags.map((t) => [t.Key, t.Value]));
        for (const t of added) merged.set(t.Key, t.Value);
        if (merged.size > MAX_REPOSITORY_TAGS) throw new ServiceError('TooManyTagsException', `A repository can have at most ${MAX_REPOSITORY_TAGS} tags.`);
        return [...merged].map(([Key, Value]) => ({ Key, Value }));
      });
      return {};
    },

    async UntagResource(input: UntagResourceRequest) {
      const drop = new Set(input.tagKeys ?? []);
      await retag(input.resourceArn!, (tags) => tags.filter((t) => !drop.has(t.Key)));
      return {};
    },

    async ListTagsForResource(input: ListTagsForResourceRequest) {
      const record = await readRepository(env, repositoryOf(env, input.resourceArn!));
      return { tags: record.tags.map((t) => ({ ...t })) };
    },
  };
}
