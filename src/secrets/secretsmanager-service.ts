import { pageOf, pageOfList, type Page } from '../api/pagination.js';
import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import { invalidParameter, ServiceError } from '../model/errors.js';
import { keys } from '../state/keys.js';
import { parseSecretRecord, type KeyValueTag, type SecretRecord } from '../state/records/secrets.js';
import { secretErrors } from './errors.js';
import { secretsActions } from './iam-actions.js';
import { randomPassword } from './random-password.js';
import { deleteSecret, restoreSecret } from './secret-deletion.js';
import { secretMatcher } from './secret-filters.js';
import { moveStage } from './secret-stages.js';
import { SecretVault, valueOf, type SecretsEnv } from './secret-vault.js';

export const SECRETS_MANAGER_TARGET_PREFIX = 'secretsmanager';

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

/**
 * AWS Secrets Manager: secrets, their versions and staging labels, deletion with a recovery window, tags and
 * GetRandomPassword. Rotation, replication and resource policies answer UnsupportedFeatureException.
 */
export function secretsManagerService(env: SecretsEnv): JsonService {
  const vault = new SecretVault(env);
  const operations: Record<string, Operation> = {
    async CreateSecret(input) {
      if (input.AddReplicaRegions?.length) throw invalidParameter('berth does not replicate secrets to other Regions (AddReplicaRegions).');
      const value = valueOf(input);
      checkTags(input.Tags);
      const { secret, versionId } = await vault.create({
        name: input.Name,
        ...(input.ClientRequestToken !== undefined ? { token: input.ClientRequestToken } : {}),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.KmsKeyId !== undefined ? { kmsKeyId: input.KmsKeyId } : {}),
        ...(input.Tags !== undefined ? { tags: input.Tags } : {}),
        ...(value ? { value } : {}),
      });
      return { ARN: secret.arn, Name: secret.name, ...(versionId ? { VersionId: versionId } : {}), ReplicationStatus: [] };
    },

    async GetSecretValue(input) {
      const { secret, versionId, meta, value } = await vault.getValue(input.SecretId, input.VersionId, input.VersionStage);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: versionId,
        ...('string' in value ? { SecretString: value.string } : { SecretBinary: value.binary }),
        VersionStages: meta.stages,
        CreatedDate: seconds(meta.createdDate),
      };
    },

    async BatchGetSecretValue(input) {
      const ids: readonly string[] | undefined = input.SecretIdList;
      if ((ids === undefined) === (input.Filters === undefined)) {
        throw invalidParameter('Either SecretIdList or Filters must be provided, but not both.');
      }
      let wanted: readonly string[];
      let nextToken: string | undefined;
      if (ids) {
        if (input.MaxResults !== undefined || input.NextToken !== undefined) throw invalidParameter('MaxResults and NextToken go with Filters, not with SecretIdList.');
        wanted = ids;
      } else {
        const matches = secretMatcher(input.Filters, env.scope.region);
        const page = await asTokenError(() =>
          pageOf(env.store, keys.secrets(), { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 20, maxSize: 20 }, (e) => {
            const secret = parseSecretRecord(e.value, e.key);
            return secret.deletedDate === undefined && matches(secret) ? secret.arn : undefined;
          }),
        );
        wanted = page.items;
        nextToken = page.nextToken;
      }
      const values: object[] = [];
      const errors: object[] = [];
      for (const id of wanted) {
        try {
          values.push(await operations.GetSecretValue!({ SecretId: id }, undefined as never));
        } catch (error) {
          // Errors are per secret, as AWS reports them; anything else is the call's failure.
          if (!(error instanceof ServiceError)) throw error;
          errors.push({ SecretId: id, ErrorCode: error.type, Message: error.message });
        }
      }
      return { SecretValues: values, Errors: errors, ...(nextToken ? { NextToken: nextToken } : {}) };
    },

    async PutSecretValue(input) {
      const value = valueOf(input);
      if (!value) throw secretErrors.noValue();
      const { secret, versionId, stages } = await vault.putValue(input.SecretId, value, input.ClientRequestToken, input.VersionStages);
      return { ARN: secret.arn, Name: secret.name, VersionId: versionId, VersionStages: stages };
    },

    async UpdateSecret(input) {
      const value = valueOf(input);
      const patch = (s: SecretRecord): SecretRecord => ({
        ...s,
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        ...(input.KmsKeyId !== undefined ? { kmsKeyId: input.KmsKeyId } : {}),
        lastChangedDate: env.now(),
      });
      if (value) {
        const { secret, versionId } = await vault.putValue(input.SecretId, value, input.ClientRequestToken, undefined, patch);
        return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
      }
      const secret = await vault.change(input.SecretId, patch);
      return { ARN: secret.arn, Name: secret.name };
    },

    async DescribeSecret(input) {
      const secret = await vault.find(undefined, input.SecretId, { allowDeleted: true });
      return { ...listEntry(secret), VersionIdsToStages: staged(secret) };
    },

    async ListSecrets(input) {
      const matches = secretMatcher(input.Filters, env.scope.region);
      const request = { nextToken: input.NextToken, maxResults: input.MaxResults };
      const select = (secret: SecretRecord) => ((secret.deletedDate === undefined || input.IncludePlannedDeletion) && matches(secret) ? secret : undefined);
      let page: Page<SecretRecord>;
      if (input.SortBy === undefined || input.SortBy === 'name') {
        page = await asTokenError(() =>
          pageOf(env.store, keys.secrets(), request, { defaultSize: 100, maxSize: 100, reverse: input.SortOrder === 'desc' }, (e) => select(parseSecretRecord(e.value, e.key))),
        );
      } else {
        // Other orders need every secret in hand: read them all, then page through the sorted list.
        const all = (await env.store.range(keys.secrets())).entries.map((e) => select(parseSecretRecord(e.value, e.key))).filter((s) => s !== undefined);
        const field = ({ 'created-date': 'createdDate', 'last-accessed-date': 'lastAccessedDate', 'last-changed-date': 'lastChangedDate' } as const)[input.SortBy as string];
        if (!field) throw invalidParameter(`Invalid SortBy value: ${String(input.SortBy)}.`);
        all.sort((a, b) => ((a[field] ?? 0) - (b[field] ?? 0)) * (input.SortOrder === 'desc' ? -1 : 1));
        page = await asTokenError(async () => pageOfList(all, request, { defaultSize: 100, maxSize: 100 }));
      }
      return { SecretList: page.items.map((s) => ({ ...listEntry(s), SecretVersionsToStages: staged(s) })), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async ListSecretVersionIds(input) {
      const secret = await vault.find(undefined, input.SecretId);
      const versions = Object.entries(secret.versions)
        .filter(([, v]) => input.IncludeDeprecated || v.stages.length > 0)
        .sort(([, a], [, b]) => b.createdDate - a.createdDate)
        .map(([id, v]) => ({
          VersionId: id,
          VersionStages: v.stages,
          CreatedDate: seconds(v.createdDate),
          ...(v.lastAccessedDate !== undefined ? { LastAccessedDate: seconds(v.lastAccessedDate) } : {}),
          KmsKeyIds: [secret.kmsKeyId ?? 'DefaultEncryptionKey'],
        }));
      const page = await asTokenError(async () => pageOfList(versions, { nextToken: input.NextToken, maxResults: input.MaxResults }, { defaultSize: 100, maxSize: 100 }));
      return { Versions: page.items, ARN: secret.arn, Name: secret.name, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },

    async DeleteSecret(input) {
      const { secret, deletionDate } = await deleteSecret(vault, input.SecretId, input.RecoveryWindowInDays, input.ForceDeleteWithoutRecovery);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(deletionDate) };
    },

    async RestoreSecret(input) {
      const secret = await restoreSecret(vault, input.SecretId);
      return { ARN: secret.arn, Name: secret.name };
    },

    async TagResource(input) {
      checkTags(input.Tags);
      await vault.change(input.SecretId, (s) => {
        const merged = new Map(s.tags.map((t) => [t.Key, t.Value]));
        for (const t of input.Tags as KeyValueTag[]) merged.set(t.Key, t.Value);
        if (merged.size > 50) throw invalidParameter('A secret can have at most 50 tags.');
        return { ...s, tags: [...merged].map(([Key, Value]) => ({ Key, Value })) };
      });
      return {};
    },

    async UntagResource(input) {
      const drop = new Set<string>(input.TagKeys);
      await vault.change(input.SecretId, (s) => ({ ...s, tags: s.tags.filter((t) => !drop.has(t.Key)) }));
      return {};
    },

    async UpdateSecretVersionStage(input) {
      const secret = await vault.change(input.SecretId, (s) => {
        for (const id of [input.RemoveFromVersionId, input.MoveToVersionId]) {
          if (id !== undefined && !Object.hasOwn(s.versions, id)) throw secretErrors.versionNotFound('VersionId', id);
        }
        return { ...s, versions: moveStage(s.versions, input.VersionStage, input.RemoveFromVersionId, input.MoveToVersionId, env.now()), lastChangedDate: env.now() };
      });
      return { ARN: secret.arn, Name: secret.name };
    },

    async GetRandomPassword(input) {
      return { RandomPassword: randomPassword(input) };
    },
  };
  return {
    targetPrefix: SECRETS_MANAGER_TARGET_PREFIX,
    signingNames: ['secretsmanager'],
    model: loadServiceModel('secretsmanager-2017-10-17.json'),
    // A secret's ARN is read from the store (its suffix is random); a deleted one is still the same resource.
    actions: secretsActions((secretId) => vault.find(undefined, secretId, { allowDeleted: true }).then((s) => s.arn, () => undefined)),
    operations,
  };
}

/** What DescribeSecret and ListSecrets share. */
function listEntry(s: SecretRecord): object {
  return {
    ARN: s.arn,
    Name: s.name,
    ...(s.description !== undefined ? { Description: s.description } : {}),
    ...(s.kmsKeyId !== undefined ? { KmsKeyId: s.kmsKeyId } : {}),
    LastChangedDate: seconds(s.lastChangedDate),
    ...(s.lastAccessedDate !== undefined ? { LastAccessedDate: seconds(s.lastAccessedDate) } : {}),
    ...(s.deletedDate !== undefined ? { DeletedDate: seconds(s.deletedDate) } : {}),
    ...(s.tags.length ? { Tags: s.tags } : {}),
    CreatedDate: seconds(s.createdDate),
  };
}

/** Version id → staging labels, for the versions that have any (deprecated ones are left out, as AWS does). */
function staged(s: SecretRecord): Record<string, readonly string[]> {
  return Object.fromEntries(Object.entries(s.versions).filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, v.stages]));
}

function checkTags(tags: readonly KeyValueTag[] | undefined): void {
  if (!tags) return;
  if (tags.length > 50) throw invalidParameter('A secret can have at most 50 tags.');
  for (const t of tags) {
    if (t.Key === undefined || t.Value === undefined) throw invalidParameter('Every tag needs a Key and a Value.');
    if (t.Key.toLowerCase().startsWith('aws:')) throw invalidParameter('Tag keys starting with "aws:" are reserved for AWS use.');
  }
}

/** A page whose token does not decode is Secrets Manager's InvalidNextTokenException. */
async function asTokenError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ServiceError && error.message.startsWith('The nextToken')) throw secretErrors.invalidNextToken();
    throw error;
  }
}
