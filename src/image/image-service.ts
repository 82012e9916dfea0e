import type { RootfsOverlay } from '../runtime/runtime.js';

/**
 * What the agent needs to turn an image reference into a root filesystem: pull from any OCI distribution
 * registry into a content-addressed store under the agent's data directory, unpack each layer once, and
 * give every container its own writable overlay on top of the shared layers.
 */
export interface ImageService {
  /** Pull `reference` (e.g. `busybox`, `127.0.0.1:5000/app:v1`, `repo@sha256:…`) for linux/amd64. */
  pull(reference: string, options?: PullOptions): Promise<LocalImage>;
  /** The image already in the store for `reference`, without any network access. */
  find(reference: string): Promise<LocalImage | undefined>;
  /**
   * Mount a writable overlay of `image` for container `id` and return its path. Its writable layer is in the
   * store, or in `options.writableDir` (a Fargate task's size-limited ephemeral storage, agent/ephemeral-storage.ts;
   * the same directory each time the container's rootfs is mounted).
   */
  createRootfs(image: LocalImage, id: string, options?: RootfsOptions): Promise<string>;
  /**
   * Prepare container `id`'s root as createRootfs does, but leave the mount to a runtime that mounts the root
   * itself (Runtime.mountsRootfsOverlay): its writable layer, an empty root directory (`path`) and the overlay to
   * mount over it. Without `overlay` in the answer, `path` is mounted here as createRootfs mounts it (the layers'
   * absolute paths do not fit in one page of mount options, or it was mounted before an agent restart).
   * Optional: without it, the engine mounts with createRootfs.
   */
  prepareRootfs?(image: LocalImage, id: string, options?: RootfsOptions): Promise<PreparedRootfs>;
  /**
   * Unmount container `id`'s overlay but keep its writable layer (a stopped container, as Docker does):
   * createRootfs mounts it again with the same writes. Idempotent.
   */
  unmountRootfs(id: string): Promise<void>;
  /** Unmount and delete container `id`'s overlay. Idempotent. */
  removeRootfs(id: string): Promise<void>;
  /** Delete images (and layers no remaining image needs) whose ids are not in `keep`. Returns the ids removed. */
  prune(keep: ReadonlySet<string>): Promise<string[]>;
}

/** A container's root directory, and the overlay a runtime is to mount there (when it is not mounted already). */
export interface PreparedRootfs {
  readonly path: string;
  readonly overlay?: RootfsOverlay;
}

export interface RootfsOptions {
  /** An absolute directory on the filesystem the container's writes go to: its overlay's upper and work directories. */
  readonly writableDir?: string;
}

export interface PullOptions {
  /** Credentials for a registry host, asked for when the registry challenges. */
  readonly auth?: (registryHost: string) => Promise<RegistryCredentials | undefined>;
  readonly signal?: AbortSignal;
}

export type RegistryCredentials =
  | { readonly username: string; readonly password: string }
  | { readonly identityToken: string };

export interface LocalImage {
  /** The reference as normalised: `docker.io/library/busybox:latest`, `host:port/repo@sha256:…`. */
  readonly reference: string;
  /** Digest of the manifest pulled (for a multi-platform index: of the linux/amd64 manifest). */
  readonly manifestDigest: string;
  /** The image id: the digest of its config. */
  readonly id: string;
  readonly config: ImageConfig;
  /** Total size of the compressed layers, in bytes. */
  readonly size: number;
}

/** The parts of an OCI image config's `config` object that set a container's defaults. */
export interface ImageConfig {
  readonly Env?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly WorkingDir?: string;
  readonly User?: string;
  readonly ExposedPorts?: Readonly<Record<string, object>>;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
}

/** A pull that failed: the message carries the registry's reason (becomes CannotPullContainerError). */
export class PullError extends Error {
  override readonly name = 'PullError';
}
