import type { LocalImage } from '../../image/image-service.js';
import type { EngineDeps } from './deps.js';

/**
 * Get `reference` into the image store as ECS_IMAGE_PULL_BEHAVIOR says:
 *
 *   default        pull; if the registry cannot be reached, use a cached copy when there is one
 *   always         pull, and fail if that fails
 *   once           use a cached copy when there is one, else pull
 *   prefer-cached  the same lookup as once
 */
export async function pullImage(deps: Pick<EngineDeps, 'images' | 'settings' | 'registryAuth'>, reference: string): Promise<LocalImage> {
  const { images, settings, registryAuth } = deps;
  const auth = registryAuth ? { auth: (host: string) => registryAuth(host) } : {};
  switch (settings.imagePullBehavior) {
    case 'prefer-cached':
    case 'once':
      return (await images.find(reference)) ?? (await images.pull(reference, auth));
    case 'always':
      return images.pull(reference, auth);
    default:
      try {
        return await images.pull(reference, auth);
      } catch (error) {
        const cached = await images.find(reference);
        if (!cached) throw error;
        return cached;
      }
  }
}
