import type {
  CreateRepositoryRequest,
  DeleteRepositoryRequest,
  DescribeRepositoriesRequest,
  PutImageScanningConfigurationRequest,
  PutImageTagMutabilityRequest,
  Repository,
} from '@aws-sdk/client-ecr';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { isRepositoryName } from '../../model/registry/names.js';
import { tagMutabilityProblem, type TagMutability, type TagMutabilityFilter } from '../../model/registry/tag-mutability.js';
import type { Wire } from '../../model/wire.js';
import { purgeRepository } from '../../registry/repositories.js';
import { keys } from '../../state/keys.js';
import type { RepositoryRecord } from '../../state/records/registry.js';
import { readRecord, transact, type Tx } from '../../store/transact.js';
import { pageOf } from '../pagination.js';
import { epochSeconds, type EcrEnv } from './env.js';
import { asEcr, checkRegistryId, ecrErrors } from './errors.js';
import { validateEcrTags } from '../../model/registry/repository-tags.js';
import { parseRepositoryRecord } from '../../state/records/registry.js';

export const repositoryArn = (env: EcrEnv, name: string) => `arn:aws:ecr:${env.scope.region}:${env.scope.accountId}:repository/${name}`;

/** A stored repository as ECR returns it. */
export function toRepository(env: EcrEnv, r: RepositoryRecord): Wire<Repository> {
  return {
    repositoryArn: repositoryArn(env, r.name),
    registryId: env.scope.accountId,
    repositoryName: r.name,
    repositoryUri: `${env.registryHost()}/${r.name}`,
    createdAt: epochSeconds(r.createdAt),
    imageTagMutability: r.imageTagMutability,
    ...(r.imageTagMutabilityExclusionFilters?.length ? { imageTagMutabilityExclusionFilters: [...r.imageTagMutabilityExclusionFilters] } : {}),
    imageScanningConfiguration: { ...r.imageScanningConfiguration },
    encryptionConfiguration: { ...r.encryptionConfiguration } as Repository['encryptionConfiguration'],
  };
}

/** The repository record inside a transaction; RepositoryNotFoundException when absent or being deleted. */
export async function repositoryIn(env: EcrEnv, tx: Pick<Tx, "getRecord">, name: string): Promise<RepositoryRecord> {
  const record = isRepositoryName(name) ? await tx.getRecord(parseRepositoryRecord, keys.repository(name)) : undefined;
  if (!record || record.deleting !== undefined) throw ecrErrors.repositoryNotFound(env, name);
  return record;
}

export const readRepository = (env: EcrEnv, name: string) =>
  repositoryIn(env, { getRecord: (parse, key) => readRecord(env.registry.store, parse, key) }, name);

function mutability(input: { imageTagMutability?: string | undefined; imageTagMutabilityExclusionFilters?: TagMutabilityFilter[] | undefined }) {
  const setting = {
    imageTagMutability: (input.imageTagMutability ?? 'MUTABLE') as TagMutability,
    ...(input.imageTagMutabilityExclusionFilters?.length ? { imageTagMutabilityExclusionFilters: input.imageTagMutabilityExclusionFilters } : {}),
  };
  const problem = tagMutabilityProblem(setting);
  if (problem) throw invalidParameter(problem);
  return setting;
}

export function repositoryOperations(env: EcrEnv) {
  const { store } = env.registry;

  return {
    async CreateRepository(input: CreateRepositoryRequest) {
      checkRegistryId(env, input.registryId);
      const name = input.repositoryName!;
      if (!isRepositoryName(name)) {
        throw invalidParameter(
          `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
        );
      }
      const tags = validateEcrTags(input.tags);
      const record: RepositoryRecord = {
        name,
        createdAt: env.registry.now(),
        ...mutability(input as Parameters<typeof mutability>[0]),
        imageScanningConfiguration: { scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false },
        encryptionConfiguration: {
          encryptionType: input.encryptionConfiguration?.encryptionType ?? 'AES256',
          ...(input.encryptionConfiguration?.kmsKey ? { kmsKey: input.encryptionConfiguration.kmsKey } : {}),
        },
        tags,
      };
      // A repository whose deletion a crash interrupted is finished off first.
      const stale = await readRecord(store, parseRepositoryRecord, keys.repository(name));
      if (stale?.deleting !== undefined) await purgeRepository(store, name, { ifEmpty: false, now: env.registry.now() });
      await transact(store, async (tx) => {
        if (await tx.get(keys.repository(name))) {
          throw new ServiceError(
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${env.scope.accountId}'`,
          );
        }
        tx.putJson(keys.repository(name), record);
      });
      return { repository: toRepository(env, record) };
    },

    async DescribeRepositories(input: DescribeRepositoriesRequest) {
      checkRegistryId(env, input.registryId);
      if (input.repositoryNames?.length) {
        if (input.nextToken !== undefined || input.maxResults !== undefined) {
          throw invalidParameter('repositoryNames cannot be combined with nextToken or maxResults.');
        }
        const repositories = [];
        for (const name of input.repositoryNames) repositories.push(toRepository(env, await readRepository(env, name)));
        return { repositories };
      }
      const page = await pageOf(store, keys.repositories(), input, { defaultSize: 100, maxSize: 1000 }, (entry) => {
        const record = parseRepositoryRecord(entry.value, entry.key);
        return record.deleting === undefined ? toRepository(env, record) : undefined;
      });
      return { repositories: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async DeleteRepository(input: DeleteRepositoryRequest) {
      checkRegistryId(env, input.registryId);
      const name = input.repositoryName!;
      await readRepository(env, name);
      const record = await asEcr(env, name, () => purgeRepository(store, name, { ifEmpty: input.force !== true, now: env.registry.now() }));
      return { repository: toRepository(env, record) };
    },

    async PutImageTagMutability(input: PutImageTagMutabilityRequest) {
      checkRegistryId(env, input.registryId);
      const name = input.repositoryName!;
      const setting = mutability(input as Parameters<typeof mutability>[0]);
      await transact(store, async (tx) => {
        const { imageTagMutabilityExclusionFilters: _old, ...record } = await repositoryIn(env, tx, name);
        tx.putJson(keys.repository(name), { ...record, ...setting } satisfies RepositoryRecord);
      });
      return {
        registryId: env.scope.accountId,
        repositoryName: name,
        imageTagMutability: setting.imageTagMutability,
        ...(setting.imageTagMutabilityExclusionFilters ? { imageTagMutabilityExclusionFilters: setting.imageTagMutabilityExclusionFilters } : {}),
      };
    },

    /** Stored and returned only: berth does not scan images (see docs/registry.md). */
    async PutImageScanningConfiguration(input: PutImageScanningConfigurationRequest) {
      checkRegistryId(env, input.registryId);
      const name = input.repositoryName!;
      const imageScanningConfiguration = { scanOnPush: input.imageScanningConfiguration?.scanOnPush ?? false };
      await transact(store, async (tx) => {
        const record = await repositoryIn(env, tx, name);
        tx.putJson(keys.repository(name), { ...record, imageScanningConfiguration } satisfies RepositoryRecord);
      });
      return { registryId: env.scope.accountId, repositoryName: name, imageScanningConfiguration };
    },
  };
}
