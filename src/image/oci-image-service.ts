/**
 * The agent's image service: pulls from OCI distribution registries into the content store, unpacks
 * each layer once, and mounts a private overlay per container. See content-store.ts for the layout.
 *
 * A pull: manifest by tag or digest (verified) → for an index, the platform's manifest (verified) →
 * config (verified, cached) → every layer not yet stored, three at a time, each downloaded, verified
 * and unpacked in one pass → image record → reference records. Pulls and mounts share a gate that
 * pruning takes exclusively, so pruning never deletes what a pull or a mount is about to use.
 */
import { readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { HttpTransport } from './http-transport.js';
import { ContentStore, type ImageRecord, type LayerRecord, type RefRecord } from './content-store.js';
import { DigestMismatchError, digestOf, parseDigest } from './digest.js';
import { PullError, type ImageService, type LocalImage, type PreparedRootfs, type PullOptions, type RootfsOptions } from './image-service.js';
import type { unpackLayer } from './layer-unpack.js';
import { InvalidManifestError, parseImageConfig, parseManifest, selectPlatform, type Descriptor, type Platform } from './manifest.js';
import { isMountPoint, mountOverlay, mountPoints, unmount } from './overlay.js';
import { formatReference, parseReference, withDigest, type ImageReference } from './reference.js';
import type { FetchedManifest, RegistryContext, RepositoryClient } from './registry-client.js';
import { compileInsecureRegistries, type InsecureRegistries } from './registry-endpoint.js';
import { Gate, SingleFlight } from './single-flight.js';
import type { SpawnFn } from '../process/spawn-helper.js';
import { overlayOptionString } from '../runtime/overlay-options.js';
import type { RootfsOverlay } from '../runtime/runtime.js';

export interface OciImageServiceOptions {
  /** Store root, e.g. `<dataDir>/images`. Created when missing. */
  readonly root: string;
  /** Registries spoken to in plain HTTP besides loopback ones: `host`, `host:port` or CIDR (BERTH_INSECURE_REGISTRIES). */
  readonly insecureRegistries?: readonly string[];
  /** Extra CA certificates (PEM) trusted for HTTPS registries, beside Node's bundled roots. */
  readonly ca?: string | readonly string[];
  /** Platform chosen from multi-platform indexes. Default linux/amd64. */
  readonly platform?: Platform;
  /** Layers downloaded at once per pull. Default 3, as Docker. */
  readonly concurrentDownloads?: number;
  /** How mount(8) and umount(8) are started (the agent's spawn helper); Node's own spawn by default. */
  readonly spawn?: SpawnFn;
}

/** A container id that cannot name a directory safely, or a rootfs that could not be made. */
export class RootfsError extends Error {
  override readonly name = 'RootfsError';
}

// Runtime ids are `<task id>-<container name>`; ECS container names alone may be 255 characters long.
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,1023}$/;

/**
 * What pulling needs beyond the store: the registries' connections, the registry client, node-tar and the
 * decompressors. Loaded on the first pull only: an agent whose images are all cached never holds them.
 */
interface Transport {
  readonly dispatcher: HttpTransport;
  readonly context: RegistryContext;
  readonly RepositoryClient: typeof RepositoryClient;
  readonly unpackLayer: typeof unpackLayer;
}

export class OciImageService implements ImageService {
  private readonly store: ContentStore;
  private readonly ca: string[] | undefined;
  private readonly insecure: InsecureRegistries;
  private loaded: Promise<Transport> | undefined;
  private closed = false;
  private readonly platform: Platform;
  private readonly concurrency: number;
  private readonly spawn: SpawnFn | undefined;
  private readonly gate = new Gate();
  private readonly layerFlights = new SingleFlight<void>();
  private readonly blobFlights = new SingleFlight<Buffer>();
  private readonly rootfsFlights = new SingleFlight<PreparedRootfs>();

  constructor(options: OciImageServiceOptions) {
    this.store = new ContentStore(options.root);
    this.store.init();
    // A crash between creating a container's directory and recording it leaves a directory nothing names.
    // Synchronous, as the store's init(): once, before the agent serves anything.
    const mounted = new Set(mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')));
    for (const dir of this.store.unrecordedContainerDirs()) if (!mounted.has(join(dir, 'rootfs'))) rmSync(dir, { recursive: true, force: true });
    this.ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
    this.insecure = compileInsecureRegistries(options.insecureRegistries ?? []);
    this.platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
    this.concurrency = options.concurrentDownloads ?? 3;
    this.spawn = options.spawn;
  }

  async pull(reference: string, options: PullOptions = {}): Promise<LocalImage> {
    const ref = parseReference(reference);
    const text = formatReference(ref);
    try {
      return await this.gate.withShared(() => this.pullImage(ref, text, options));
    } catch (e) {
      if (options.signal?.aborted) throw new PullError(`pull of ${text} was cancelled`, { cause: e });
      throw new PullError(`failed to pull ${text}: ${(e as Error).message}`, { cause: e });
    }
  }

  async find(reference: string): Promise<LocalImage | undefined> {
    const text = formatReference(parseReference(reference));
    const ref = await this.store.readRef(text);
    const image = ref && (await this.store.readImage(ref.imageId));
    if (!ref || !image) return undefined;
    // A layer removed behind the store's back makes the image unusable: report it missing, so it is pulled.
    if (!(await Promise.all(image.layers.map((l) => this.store.hasLayer(l.diffId)))).every(Boolean)) return undefined;
    return toLocalImage(text, ref.manifestDigest, image);
  }

  async createRootfs(image: LocalImage, id: string, options: RootfsOptions = {}): Promise<string> {
    return (await this.rootfs(image, id, options, false)).path;
  }

  async prepareRootfs(image: LocalImage, id: string, options: RootfsOptions = {}): Promise<PreparedRootfs> {
    return this.rootfs(image, id, options, true);
  }

  private rootfs(image: LocalImage, id: string, options: RootfsOptions, forRuntime: boolean): Promise<PreparedRootfs> {
    checkContainerId(id);
    if (options.writableDir !== undefined && !options.writableDir.startsWith('/')) throw new RootfsError(`writableDir must be absolute, got ${options.writableDir}`);
    return this.gate.withShared(() => this.rootfsFlights.run(id, () => this.makeRootfs(image, id, options.writableDir, forRuntime)));
  }

  async unmountRootfs(id: string): Promise<void> {
    checkContainerId(id);
    try {
      await unmount(join(this.store.containerDir(id), 'rootfs'), this.spawn);
    } catch (e) {
      throw new RootfsError(`cannot unmount the root filesystem of container ${id}: ${(e as Error).message}`, { cause: e });
    }
  }

  async removeRootfs(id: string): Promise<void> {
    // Never delete while still mounted: that would delete through the mount.
    await this.unmountRootfs(id);
    // Off the event loop: a container's writable layer may hold many files, and the agent's heartbeats wait.
    await rm(this.store.containerDir(id), { recursive: true, force: true });
  }

  /**
   * Ids of the containers that have a rootfs (mounted, or left by a crash or a reboot). After a restart
   * the agent should remove those of containers it no longer runs: prune() counts their images as in use.
   */
  async listRootfs(): Promise<string[]> {
    return (await this.store.listContainers()).map((c) => c.id).sort();
  }

  async prune(keep: ReadonlySet<string>): Promise<string[]> {
    return this.gate.withExclusive(async () => {
      const containers = await this.store.listContainers();
      const inUse = new Set([...keep, ...containers.map((c) => c.imageId)]);
      const images = await this.store.listImages();
      const kept = images.filter((i) => inUse.has(i.id));
      const keptIds = new Set(kept.map((i) => i.id));
      const removed = images.filter((i) => !keptIds.has(i.id)).map((i) => i.id);

      const neededBlobs = new Set(keptIds);
      for (const ref of await this.store.listRefs()) {
        if (keptIds.has(ref.imageId)) for (const b of ref.blobs) neededBlobs.add(b);
        else await this.store.deleteRef(ref.reference);
      }
      for (const id of removed) await this.store.deleteImage(id);
      const neededLayers = new Set([...kept.flatMap((i) => i.layers.map((l) => l.diffId)), ...containers.flatMap((c) => c.layers)]);
      for (const layer of await this.store.listLayers()) if (!neededLayers.has(layer)) await this.store.deleteLayer(layer);
      for (const blob of await this.store.listBlobs()) if (!neededBlobs.has(blob)) await this.store.deleteBlob(blob);
      return removed;
    });
  }

  /** Close registry connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.loaded) await (await this.loaded).dispatcher.close();
  }

  private transport(): Promise<Transport> {
    if (this.closed) return Promise.reject(new Error('the image service is closed'));
    return (this.loaded ??= (async () => {
      const [{ HttpTransport }, { TokenCache }, { RepositoryClient }, { unpackLayer }] = await Promise.all([
        import('./http-transport.js'),
        import('./registry-auth.js'),
        import('./registry-client.js'),
        import('./layer-unpack.js'),
      ]);
      // Certificates are verified (Node's default); extra roots add to Node's bundle, they do not replace it.
      const dispatcher = new HttpTransport(this.ca ? { ca: [...rootCertificates, ...this.ca] } : {});
      const context: RegistryContext = { dispatcher, tokens: new TokenCache(), challenges: new Map(), insecure: this.insecure };
      return { dispatcher, context, RepositoryClient, unpackLayer };
    })());
  }

  // ---- pulling

  private async pullImage(ref: ImageReference, text: string, options: PullOptions): Promise<LocalImage> {
    const signal = options.signal;
    const transport = await this.transport();
    const client = new transport.RepositoryClient(ref, transport.context, { ...(options.auth ? { credentials: options.auth } : {}), ...(signal ? { signal } : {}) });
    const blobs: string[] = [];

    const top = await client.manifest(ref.digest ?? ref.tag!);
    const topDigest = manifestDigest(top, ref.digest, `manifest ${ref.digest ?? ref.tag}`);
    await this.store.writeBlob(topDigest, top.body);
    blobs.push(topDigest);
    let manifest = parseManifest(top.body, top.contentType);
    let digest = topDigest;
    if (manifest.kind === 'index') {
      const chosen = selectPlatform(manifest.manifests, this.platform);
      const fetched = await client.manifest(chosen.digest);
      digest = manifestDigest(fetched, chosen.digest, `manifest ${chosen.digest}`);
      if (fetched.body.length !== chosen.size) throw new DigestMismatchError(`manifest ${chosen.digest}: size ${fetched.body.length}, index says ${chosen.size}`);
      manifest = parseManifest(fetched.body, fetched.contentType);
      if (manifest.kind !== 'image') throw new InvalidManifestError(`index entry ${chosen.digest} is not an image manifest`);
      await this.store.writeBlob(digest, fetched.body);
      blobs.push(digest);
    }

    const configBytes = await this.configBlob(client, manifest.config, signal);
    const parsed = parseImageConfig(configBytes);
    if (parsed.diffIds.length !== manifest.layers.length) {
      throw new InvalidManifestError(`image config lists ${parsed.diffIds.length} diff_ids for ${manifest.layers.length} layers`);
    }
    const layers: LayerRecord[] = manifest.layers.map((l, i) => ({ diffId: parsed.diffIds[i]!, digest: l.digest, size: l.size }));
    await forEachLimited(layers, this.concurrency, signal, (layer, layerSignal) => this.ensureLayer(transport, client, layer, layerSignal));

    const record: ImageRecord = {
      id: manifest.config.digest,
      config: parsed.config,
      layers,
      ...(parsed.os ? { os: parsed.os } : {}),
      ...(parsed.architecture ? { architecture: parsed.architecture } : {}),
    };
    await this.store.writeImage(record);
    const refRecord = (reference: string): RefRecord => ({ reference, imageId: record.id, manifestDigest: digest, blobs });
    await this.store.writeRef(refRecord(text));
    // The same image is then found by digest too, as Docker's RepoDigests allow.
    for (const d of new Set([topDigest, digest])) await this.store.writeRef(refRecord(formatReference(withDigest(ref, d))));
    return toLocalImage(text, digest, record);
  }

  private async configBlob(client: RepositoryClient, desc: Descriptor, signal: AbortSignal | undefined): Promise<Buffer> {
    const stored = await this.store.readBlob(desc.digest);
    if (stored) return stored;
    return this.blobFlights.run(
      desc.digest,
      async (flightSignal) => {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of await client.blob(desc.digest, flightSignal)) {
          size += (chunk as Buffer).length;
          if (size > desc.size) throw new DigestMismatchError(`config ${desc.digest}: larger than the ${desc.size} bytes its descriptor declares`);
          chunks.push(chunk as Buffer);
        }
        const data = Buffer.concat(chunks);
        if (data.length !== desc.size) throw new DigestMismatchError(`config ${desc.digest}: size ${data.length}, manifest says ${desc.size}`);
        await this.store.writeBlob(desc.digest, data);
        return data;
      },
      signal,
    );
  }

  /** Download and unpack a layer unless it is stored; concurrent pulls of one layer share one download. */
  private async ensureLayer(transport: Transport, client: RepositoryClient, layer: LayerRecord, signal: AbortSignal): Promise<void> {
    if (await this.store.hasLayer(layer.diffId)) return;
    await this.layerFlights.run(
      layer.diffId,
      async (flightSignal) => {
        if (await this.store.hasLayer(layer.diffId)) return;
        const temp = await this.store.tempDir('layer-');
        try {
          const blob = await client.blob(layer.digest, flightSignal);
          await transport.unpackLayer(blob, temp, layer, flightSignal);
          await this.store.commitLayer(temp, layer.diffId);
        } finally {
          await rm(temp, { recursive: true, force: true });
        }
      },
      signal,
    );
  }

  // ---- root filesystems

  /**
   * The container's writable layer, record and root directory; then its overlay mounted there, or (`forRuntime`)
   * described for the runtime to mount unless its absolute paths do not fit in one page of mount options.
   */
  private async makeRootfs(image: LocalImage, id: string, writableDir: string | undefined, forRuntime: boolean): Promise<PreparedRootfs> {
    const [record, existing] = await Promise.all([this.store.readImage(image.id), this.store.readContainer(id)]);
    if (!record) throw new RootfsError(`image ${image.reference} (${image.id}) is not in the image store; pull it first`);
    const dir = this.store.containerDir(id);
    const target = join(dir, 'rootfs');
    if (existing && existing.imageId !== record.id) {
      if (await isMountPoint(target)) throw new RootfsError(`container ${id} already has a root filesystem of image ${existing.imageId}`);
      await rm(dir, { recursive: true, force: true });
    } else if (existing && (await isMountPoint(target))) {
      // Mounted before an agent restart: keep the container's writes (and never mount its upper directory twice).
      return { path: target };
    }
    // The writes go to the store, or to the directory given (on another filesystem: upper and work together).
    const writable = writableDir ?? dir;
    try {
      await Promise.all([join(writable, 'upper'), join(writable, 'work'), join(dir, 'rootfs')].map((d) => mkdir(d, { recursive: true })));
      // At once, all before the mount (each a round trip to the thread pool on the start's critical path):
      // the upper directory's mode is the mode of the container's `/`, whatever this process's umask; the
      // record names the mount for a restarted agent (and keeps the layers from pruning while it exists).
      const [, , links] = await Promise.all([
        chmod(join(writable, 'upper'), 0o755),
        this.store.writeContainer({ id, imageId: record.id, layers: record.layers.map((l) => l.diffId) }),
        Promise.all(record.layers.map((l) => this.store.layerLink(l.diffId))),
      ]);
      const lowerdirs = links.reverse();
      if (lowerdirs.length === 0) lowerdirs.push(this.store.emptyLayer());
      if (forRuntime) {
        const overlay = { lowerdirs: lowerdirs.map((l) => join(this.store.root, l)), upperdir: join(writable, 'upper'), workdir: join(writable, 'work') };
        if (fitsMountOptions(overlay)) return { path: target, overlay };
      }
      const rel = relative(this.store.root, writable);
      await mountOverlay({ cwd: this.store.root, lowerdirs, upperdir: `${rel}/upper`, workdir: `${rel}/work`, target }, this.spawn);
      return { path: target };
    } catch (e) {
      if (!existing) await rm(dir, { recursive: true, force: true });
      throw new RootfsError(`cannot create the root filesystem of container ${id}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Whether the overlay's absolute paths fit in the kernel's one page of mount options (the relative ones, mounted here, go further). */
function fitsMountOptions(overlay: RootfsOverlay): boolean {
  try {
    overlayOptionString(overlay.lowerdirs, overlay.upperdir, overlay.workdir);
    return true;
  } catch {
    return false;
  }
}

function checkContainerId(id: string): void {
  if (typeof id !== 'string' || !CONTAINER_ID.test(id)) {
    throw new RootfsError(`invalid container id "${String(id)}": use 1-1024 letters, digits, "_", "." or "-", starting with a letter or digit`);
  }
}

/**
 * The digest a fetched manifest is known by. Pulled by digest: the body must hash to it. Pulled by tag:
 * the registry's Docker-Content-Digest, when sent, must match the body's hash.
 */
function manifestDigest(fetched: FetchedManifest, expected: string | undefined, what: string): string {
  const algorithm = expected ? parseDigest(expected).algorithm : 'sha256';
  const actual = digestOf(fetched.body, algorithm);
  if (expected && actual !== expected) throw new DigestMismatchError(`${what}: digest mismatch: got ${actual}`);
  if (!expected && fetched.declaredDigest) {
    let declared: string;
    try {
      declared = digestOf(fetched.body, parseDigest(fetched.declaredDigest).algorithm);
    } catch {
      throw new DigestMismatchError(`${what}: registry sent an unusable Docker-Content-Digest "${fetched.declaredDigest}"`);
    }
    if (declared !== fetched.declaredDigest) {
      throw new DigestMismatchError(`${what}: digest mismatch: registry says ${fetched.declaredDigest}, content is ${declared}`);
    }
  }
  return actual;
}

function toLocalImage(reference: string, manifestDigest: string, image: ImageRecord): LocalImage {
  return { reference, manifestDigest, id: image.id, config: image.config, size: image.layers.reduce((n, l) => n + l.size, 0) };
}

/**
 * Run `fn` over `items`, `limit` at a time. On the first failure the rest are cancelled through the
 * signal passed to `fn`, and the call rejects only after every started item has settled, so nothing a
 * failed pull started is still writing when it reports.
 */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  outer: AbortSignal | undefined,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const cancel = new AbortController();
  const signal = outer ? AbortSignal.any([outer, cancel.signal]) : cancel.signal;
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const worker = async () => {
    while (!firstError && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item, signal);
      } catch (e) {
        firstError ??= { error: e };
        cancel.abort(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError) throw firstError.error;
}
