import { invalidParameter, ServiceError } from '../../model/errors.js';
import { RegistryError } from '../../model/registry/errors.js';
import type { EcrEnv } from './env.js';

/** ECR's wording for the errors it shares across operations. */
export const ecrErrors = {
  repositoryNotFound: (env: EcrEnv, name: string) =>
    new ServiceError(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${env.scope.accountId}'`,
    ),
  imageNotFound: (env: EcrEnv, repo: string, id: { imageDigest?: string | undefined; imageTag?: string | undefined }) =>
    new ServiceError(
      'ImageNotFoundException',
      `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo}' in the registry with id '${env.scope.accountId}'`,
    ),
  lifecyclePolicyNotFound: (env: EcrEnv, repo: string) =>
    new ServiceError(
      'LifecyclePolicyNotFoundException',
      `Lifecycle policy does not exist for the repository with name '${repo}' in the registry with id '${env.scope.accountId}'`,
    ),
};

/** Refuse a registryId other than this registry's (berth serves one account). */
export function checkRegistryId(env: EcrEnv, registryId: string | undefined): void {
  if (registryId !== undefined && registryId !== env.scope.accountId) {
    throw invalidParameter(`registryId '${registryId}' is not this registry's id ('${env.scope.accountId}').`);
  }
}

/** Run registry-core code and answer its errors as ECR names them. */
export async function asEcr<T>(env: EcrEnv, repo: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toServiceError(env, repo, error);
  }
}

export function toServiceError(env: EcrEnv, repo: string, error: unknown): unknown {
  if (!(error instanceof RegistryError)) return error;
  switch (error.code) {
    case 'NAME_UNKNOWN':
      return ecrErrors.repositoryNotFound(env, repo);
    case 'MANIFEST_BLOB_UNKNOWN': {
      const digest = (error.detail as { digest?: string } | undefined)?.digest ?? '';
      return error.reason === 'missing-manifest'
        ? new ServiceError('ReferencedImagesNotFoundException', `The manifest ${digest} referenced by the image index does not exist in the repository with name '${repo}'`)
        : new ServiceError(
            'LayersNotFoundException',
            `Layers with digests '[${digest}]' required for pushing image into repository with name '${repo}' in the registry with id '${env.scope.accountId}' do not exist`,
          );
    }
    case 'TAG_INVALID':
      return error.reason === 'tag-immutable'
        ? new ServiceError('ImageTagAlreadyExistsException', error.message)
        : invalidParameter(`Invalid parameter at 'imageTag': ${error.message}`);
    case 'DENIED':
      if (error.reason === 'not-empty') {
        return new ServiceError(
          'RepositoryNotEmptyException',
          `The repository with name '${repo}' in registry with id '${env.scope.accountId}' cannot be deleted because it still contains images`,
        );
      }
      return invalidParameter(error.message);
    default:
      return invalidParameter(error.message);
  }
}
