import type { Logger } from 'pino';
import type { ImageService, LocalImage, PullOptions, RootfsOptions } from '../image/image-service.js';

/**
 * Removes images no task uses, as the ECS agent's image cleanup does: every `intervalMs`, images that are
 * neither used by a task the agent still holds nor pulled or used within `minimumAgeMs` are pruned from
 * the store (their layers too, when no other image needs them).
 */
export class ImageCleanup {
  private readonly lastUsed = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly images: ImageService,
    private readonly inUse: () => Iterable<string>,
    private readonly log: Logger,
    private readonly options: { readonly intervalMs: number; readonly minimumAgeMs: number; readonly now?: () => number },
  ) {}

  /** The image service the engine should use: the same, noting when each image was last pulled or found. */
  tracked(): ImageService {
    const note = (image: LocalImage | undefined) => {
      if (image) this.lastUsed.set(image.id, this.now());
      return image;
    };
    const images = this.images;
    return {
      pull: async (reference: string, options?: PullOptions) => note(await images.pull(reference, options))!,
      find: async (reference: string) => note(await images.find(reference)),
      createRootfs: (image, id, options) => images.createRootfs(note(image)!, id, options),
      ...(images.prepareRootfs ? { prepareRootfs: (image: LocalImage, id: string, options?: RootfsOptions) => images.prepareRootfs!(note(image)!, id, options) } : {}),
      unmountRootfs: (id) => images.unmountRootfs(id),
      removeRootfs: (id) => images.removeRootfs(id),
      prune: (keep) => images.prune(keep),
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.run(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One cleanup pass; returns the ids of the images removed. */
  async run(): Promise<string[]> {
    const keep = new Set(this.inUse());
    const cutoff = this.now() - this.options.minimumAgeMs;
    for (const [id, at] of this.lastUsed) {
      if (at >= cutoff) keep.add(id);
      else this.lastUsed.delete(id);
    }
    try {
      const removed = await this.images.prune(keep);
      if (removed.length) this.log.info({ removed }, 'removed images that no task uses');
      return removed;
    } catch (err) {
      this.log.error({ err }, 'image cleanup failed');
      return [];
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
