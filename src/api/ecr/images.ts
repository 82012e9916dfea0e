import type {
  BatchCheckLayerAvailabilityRequest,
  BatchDeleteImageRequest,
  BatchGetImageRequest,
  DescribeImagesRequest,
  ImageFailure,
  ImageIdentifier,
  ListImagesRequest,
  PutImageRequest,
} from '@aws-sdk/client-ecr';
import { invalidParameter, ServiceError } from '../../model/errors.js';
import { RegistryError } from '../../model/registry/errors.js';
import { isTag, tryParseDigest } from '../../model/registry/names.js';
import { deleteManifestIn, deleteTagIn, digestOf } from '../../registry/manifests.js';
import { requireRepository } from '../../registry/repositories.js';
import { keys } from '../../state/keys.js';
import type { ManifestRecord, TagRecord } from '../../state/records/registry.js';
import { readJson, transact, readRecord } from '../../store/transact.js';
import { pageOfList } from '../pagination.js';
import { epochSeconds, type EcrEnv } from './env.js';
import { asEcr, checkRegistryId, ecrErrors, toServiceError } from './errors.js';
import { readRepository } from './repositories.js';
import { parseManifestRecord, parseTagRecord } from '../../state/records/registry.js';

type Id = ImageIdentifier;
const PAGE = { defaultSize: 100, maxSize: 1000 } as const;

/** Whether an image has tags, for ECR's tagStatus filters. */
function tagStatusMatches(record: ManifestRecord, status: string | undefined): boolean {
  if (status === 'TAGGED') return record.tags.length > 0;
  if (status === 'UNTAGGED') return record.tags.length === 0;
  return true;
}

/** Why an image identifier is unusable, as an ECR failure; undefined when it is well-formed. */
function idProblem(id: Id): Omit<ImageFailure, 'imageId'> | undefined {
  if (id.imageDigest === undefined && id.imageTag === undefined) return { failureCode: 'MissingDigestAndTag', failureReason: 'Missing image digest and tag' };
  if (id.imageDigest !== undefined && !tryParseDigest(id.imageDigest)) return { failureCode: 'InvalidImageDigest', failureReason: 'Invalid image digest' };
  if (id.imageTag !== undefined && !isTag(id.imageTag)) return { failureCode: 'InvalidImageTag', failureReason: 'Invalid image tag' };
  return undefined;
}

export function imageOperations(env: EcrEnv) {
  const { registry } = env;
  const { store, manifests } = registry;

  /** The manifest an identifier names, or an ECR failure. */
  async function find(repo: string, id: Id): Promise<ManifestRecord | Omit<ImageFailure, 'imageId'>> {
    const problem = idProblem(id);
    if (problem) return problem;
    let digest = id.imageDigest;
    if (id.imageTag !== undefined) {
      const tagged = await readRecord(store, parseTagRecord, keys.tag(repo, id.imageTag));
      if (!tagged) return { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
      if (digest !== undefined && tagged.digest !== digest) {
        return { failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid image digest for the given image tag' };
      }
      digest = tagged.digest;
    }
    const record = await readRecord(store, parseManifestRecord, keys.manifest(repo, digest!));
    return record ?? { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
  }

  const isRecord = (x: ManifestRecord | Omit<ImageFailure, 'imageId'>): x is ManifestRecord => 'digest' in x;
  const list = (repo: string) => asEcr(env, repo, () => manifests.list(repo));

  function detail(repo: string, r: ManifestRecord) {
    return {
      registryId: env.scope.accountId,
      repositoryName: repo,
      imageDigest: r.digest,
      ...(r.tags.length ? { imageTags: [...r.tags] } : {}),
      imageSizeInBytes: r.imageSize,
      imagePushedAt: epochSeconds(r.pushedAt),
      imageManifestMediaType: r.mediaType,
      ...(r.configMediaType ? { artifactMediaType: r.configMediaType } : {}),
      ...(r.subject ? { subjectManifestDigest: r.subject } : {}),
    };
  }

  return {
    async ListImages(input: ListImagesRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      const ids: Id[] = [];
      for (const r of await list(repo)) {
        if (!tagStatusMatches(r, input.filter?.tagStatus)) continue;
        if (r.tags.length === 0) ids.push({ imageDigest: r.digest });
        for (const tag of r.tags) ids.push({ imageDigest: r.digest, imageTag: tag });
      }
      // The model caps a response's imageIds at 100 (and forbids an empty list), whatever maxResults says.
      const maxResults = input.maxResults === undefined ? undefined : Math.min(input.maxResults, 100);
      const page = pageOfList(ids, { nextToken: input.nextToken, maxResults }, PAGE);
      return { ...(page.items.length ? { imageIds: page.items } : {}), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async DescribeImages(input: DescribeImagesRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      if (input.imageIds?.length) {
        if (input.nextToken !== undefined || input.maxResults !== undefined) throw invalidParameter('imageIds cannot be combined with nextToken or maxResults.');
        await readRepository(env, repo);
        const details = [];
        const seen = new Set<string>();
        for (const id of input.imageIds) {
          const found = await find(repo, id);
          if (!isRecord(found)) {
            if (found.failureCode === 'ImageNotFound' || found.failureCode === 'ImageTagDoesNotMatchDigest') throw ecrErrors.imageNotFound(env, repo, id);
            throw invalidParameter(`Invalid parameter at 'imageIds': ${found.failureReason}.`);
          }
          if (!seen.has(found.digest)) details.push(detail(repo, found));
          seen.add(found.digest);
        }
        return { imageDetails: details };
      }
      const records = (await list(repo)).filter((r) => tagStatusMatches(r, input.filter?.tagStatus));
      const page = pageOfList(records, input, PAGE);
      return { imageDetails: page.items.map((r) => detail(repo, r)), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    },

    async BatchGetImage(input: BatchGetImageRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      await readRepository(env, repo);
      const images = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds ?? []) {
        const found = await find(repo, id);
        if (!isRecord(found)) {
          failures.push({ imageId: id, ...found });
        } else if (input.acceptedMediaTypes?.length && !input.acceptedMediaTypes.includes(found.mediaType)) {
          failures.push({ imageId: id, failureCode: 'ImageNotFound', failureReason: `The image's media type ${found.mediaType} is not among acceptedMediaTypes` });
        } else {
          const bytes = await asEcr(env, repo, () => manifests.bytesOf(repo, found));
          images.push({
            registryId: env.scope.accountId,
            repositoryName: repo,
            imageId: { imageDigest: found.digest, ...(id.imageTag !== undefined ? { imageTag: id.imageTag } : {}) },
            imageManifest: bytes.toString('utf8'),
            imageManifestMediaType: found.mediaType,
          });
        }
      }
      return { images, failures };
    },

    async BatchDeleteImage(input: BatchDeleteImageRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      await readRepository(env, repo);
      const imageIds: Id[] = [];
      const failures: ImageFailure[] = [];
      for (const id of input.imageIds ?? []) {
        const found = await find(repo, id);
        if (!isRecord(found)) {
          failures.push({ imageId: id, ...found });
          continue;
        }
        try {
          imageIds.push(...(await deleteImage(repo, id)));
        } catch (error) {
          if (!(error instanceof RegistryError)) throw toServiceError(env, repo, error);
          failures.push({
            imageId: id,
            ...(error.reason === 'referenced-by-index'
              ? { failureCode: 'ImageReferencedByManifestList', failureReason: 'Requested image referenced by a manifest list' }
              : error.code === 'NAME_UNKNOWN'
                ? { failureCode: 'ImageNotFound', failureReason: 'Requested image not found (repository deleted)' }
                : { failureCode: 'ImageNotFound', failureReason: 'Requested image not found' }),
          });
        }
      }
      return { ...(imageIds.length ? { imageIds } : {}), failures };
    },

    async PutImage(input: PutImageRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      const bytes = Buffer.from(input.imageManifest!, 'utf8');
      const digest = digestOf(bytes, 'sha256');
      if (input.imageDigest !== undefined && input.imageDigest !== digest) {
        throw new ServiceError('ImageDigestDoesNotMatchException', `The provided digest '${input.imageDigest}' does not match the digest of the image manifest ('${digest}').`);
      }
      if (input.imageTag !== undefined && !isTag(input.imageTag)) throw invalidParameter(`Invalid parameter at 'imageTag': '${input.imageTag}' is not a valid tag.`);
      let declared: unknown;
      try {
        declared = (JSON.parse(input.imageManifest!) as { mediaType?: unknown }).mediaType;
      } catch {
        throw invalidParameter("Invalid parameter at 'imageManifest': the manifest is not valid JSON.");
      }
      if (declared === undefined && input.imageManifestMediaType === undefined) {
        throw invalidParameter("Invalid parameter at 'imageManifestMediaType': give it when the manifest has no mediaType.");
      }
      await readRepository(env, repo);
      const result = await asEcr(env, repo, () =>
        manifests.put({ repo, reference: input.imageTag ?? digest, bytes, contentType: input.imageManifestMediaType }),
      );
      if (result.unchanged) {
        throw new ServiceError(
          'ImageAlreadyExistsException',
          `Image with digest '${digest}'${input.imageTag !== undefined ? ` and tag '${input.imageTag}'` : ''} already exists in the repository with name '${repo}' in registry with id '${env.scope.accountId}'`,
        );
      }
      return {
        image: {
          registryId: env.scope.accountId,
          repositoryName: repo,
          imageId: { imageDigest: digest, ...(input.imageTag !== undefined ? { imageTag: input.imageTag } : {}) },
          imageManifest: input.imageManifest!,
          imageManifestMediaType: result.record.mediaType,
        },
      };
    },

    async BatchCheckLayerAvailability(input: BatchCheckLayerAvailabilityRequest) {
      checkRegistryId(env, input.registryId);
      const repo = input.repositoryName!;
      await readRepository(env, repo);
      const layers = [];
      const failures = [];
      for (const layerDigest of input.layerDigests ?? []) {
        if (!tryParseDigest(layerDigest)) {
          failures.push({ layerDigest, failureCode: 'InvalidLayerDigest' as const, failureReason: 'Invalid layer digest' });
          continue;
        }
        const blob = await asEcr(env, repo, () => registry.records.stat(repo, layerDigest));
        if (blob) layers.push({ layerDigest, layerAvailability: 'AVAILABLE' as const, layerSize: blob.size });
        else failures.push({ layerDigest, failureCode: 'MissingLayerDigest' as const, failureReason: 'Could not find layer with digest' });
      }
      return { layers, failures };
    },
  };

  /**
   * ECR's deletion rules: by digest, the image and all its tags; by tag, the tag — and the image with it
   * when that was its last tag (unless an index still lists it).
   */
  async function deleteImage(repo: string, id: Id): Promise<Id[]> {
    return transact(store, async (tx) => {
      await requireRepository(tx, repo);
      if (id.imageTag !== undefined) {
        const tagged = await tx.getRecord(parseTagRecord, keys.tag(repo, id.imageTag));
        if (!tagged || (id.imageDigest !== undefined && tagged.digest !== id.imageDigest)) {
          throw new RegistryError('MANIFEST_UNKNOWN', 'image not found');
        }
        await deleteTagIn(tx, repo, id.imageTag);
        const record = await tx.getRecord(parseManifestRecord, keys.manifest(repo, tagged.digest));
        if (record && record.tags.length === 0 && record.indexes.length === 0) await deleteManifestIn(tx, repo, tagged.digest);
        return [{ imageDigest: tagged.digest, imageTag: id.imageTag }];
      }
      const { tags } = await deleteManifestIn(tx, repo, id.imageDigest!);
      return tags.length ? tags.map((imageTag) => ({ imageDigest: id.imageDigest!, imageTag })) : [{ imageDigest: id.imageDigest! }];
    });
  }
}
