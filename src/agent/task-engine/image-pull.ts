import type { LocalImage, RegistryCredentials } from '../../image/image-service.js';
import type { AcsContainer } from '../../model/acs.js';
import type { EngineDeps } from './deps.js';
import { stopReasonIn } from './pull-reason.js';

/** Credentials for a registry host, asked for when the registry challenges. */
export type PullAuth = (registryHost: string) => Promise<RegistryCredentials | undefined>;

/**
 * Get `reference` into the image store as ECS_IMAGE_PULL_BEHAVIOR says:
 *
 *   default        pull; if the registry cannot be reached, use a cached copy when there is one
 *   always         pull, and fail if that fails
 *   once           use a cached copy when there is one, else pull
 *   prefer-cached  the same lookup as once
 *
 * A failure to get the task's registry credentials (a StopReasonError: its execution role was refused)
 * stops the task whatever the behaviour, as in ECS, where those credentials are a resource the task
 * acquires before any pull.
 */
export async function pullImage(deps: Pick<EngineDeps, 'images' | 'settings'>, reference: string, auth?: PullAuth): Promise<LocalImage> {
  const { images, settings } = deps;
  const options = auth ? { auth } : {};
  switch (settings.imagePullBehavior) {
    case 'prefer-cached':
    case 'once':
      return (await images.find(reference)) ?? (await images.pull(reference, options));
    case 'always':
      return images.pull(reference, options);
    default:
      try {
        return await images.pull(reference, options);
      } catch (error) {
        if (stopReasonIn(error)) throw error;
        const cached = await images.find(reference);
        if (!cached) throw error;
        return cached;
      }
  }
}

/**
 * The images of `containers` when the pull behaviour takes cached copies (once, prefer-cached) and every
 * one is in the store; undefined when any needs a pull, or its repository credentials must be fetched
 * first (ECS fetches them, and fails the task on a refusal, whether or not the image is cached).
 */
export async function cachedImages(deps: Pick<EngineDeps, 'images' | 'settings'>, containers: readonly AcsContainer[]): Promise<LocalImage[] | undefined> {
  const behavior = deps.settings.imagePullBehavior;
  if (behavior !== 'once' && behavior !== 'prefer-cached') return undefined;
  if (containers.some((c) => c.repositoryCredentials?.credentialsParameter)) return undefined;
  const found = await Promise.all(containers.map((c) => deps.images.find(c.image!).catch(() => undefined)));
  return found.every((i) => i !== undefined) ? (found as LocalImage[]) : undefined;
}
