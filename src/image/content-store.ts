/**
 * The image store on disk, under one root directory (the agent's `<dataDir>/images`):
 *
 * ```
 * blobs/sha256-<hex>         verified manifests, indexes and configs
 * layers/sha256-<hex>/       one unpacked layer per diff_id, in overlayfs form, shared by every image
 * l/<20 hex>                 short symlink to a layer, so overlay mount options stay under one page
 * empty/                     the lower directory of images without layers (overlay needs one)
 * images/sha256-<hex>.json   image record by id (config digest): config defaults and layer list
 * refs/<hash>.json           normalised reference → image id and manifest digest
 * containers/<id>/           upper/, work/, rootfs/ (the mount point) and container.json
 * tmp/                       downloads and unpacks in progress; emptied at start
 * ```
 *
 * Crash safety: everything becomes visible by rename(2) after it is complete and verified — a blob or
 * a layer that exists is whole. Records are written to a temporary file, fsynced and renamed.
 * One service instance owns a root at a time (tmp/ is emptied when it starts).
 *
 * Only init() and unrecordedContainerDirs() touch the disk synchronously, once, before the agent serves;
 * everything else is asynchronous, so a slow disk never holds up the agent's event loop (heartbeats,
 * reports, other tasks' steps).
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { access, mkdtemp, open, readFile, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { runCommand } from './command.js';
import { parseDigest, verifyDigest } from './digest.js';
import type { ImageConfig } from './image-service.js';

export interface LayerRecord {
  /** Digest of the uncompressed layer: the key it is stored under. */
  readonly diffId: string;
  /** Digest and size of the blob it was pulled as. */
  readonly digest: string;
  readonly size: number;
}

export interface ImageRecord {
  /** The config digest. */
  readonly id: string;
  readonly config: ImageConfig;
  /** Bottom layer first. */
  readonly layers: readonly LayerRecord[];
  readonly os?: string;
  readonly architecture?: string;
}

export interface RefRecord {
  /** Normalised reference. */
  readonly reference: string;
  readonly imageId: string;
  readonly manifestDigest: string;
  /** Manifest (and index) blobs this reference resolved through. */
  readonly blobs: readonly string[];
}

export interface ContainerRecord {
  readonly id: string;
  readonly imageId: string;
  readonly layers: readonly string[];
}

const SHORT_LINK_HEX = 20;
const EMPTY_LAYER = 'empty';
/** Container ids up to this length name their directory as they are. */
const MAX_PLAIN_CONTAINER_DIR = 64;

export class ContentStore {
  /** Image records read or written by this process (readImage). */
  private readonly images = new Map<string, ImageRecord>();
  /** Layers whose short link this process has made or checked (layerLink). */
  private readonly linked = new Set<string>();

  constructor(readonly root: string) {}

  /** Create the layout and throw away what a previous process left half-done. */
  init(): void {
    for (const d of ['blobs', 'layers', 'l', 'images', 'refs', 'containers', EMPTY_LAYER]) mkdirSync(join(this.root, d), { recursive: true });
    rmSync(join(this.root, 'tmp'), { recursive: true, force: true });
    mkdirSync(join(this.root, 'tmp'));
  }

  /** A fresh directory under tmp/ (same filesystem as the store, so rename into place is atomic). */
  tempDir(prefix: string): Promise<string> {
    return mkdtemp(join(this.root, 'tmp', prefix));
  }

  // ---- blobs

  hasBlob(digest: string): Promise<boolean> {
    return exists(this.blobPath(digest));
  }

  /** The blob's bytes, re-verified; undefined when absent or damaged on disk (then it is removed). */
  async readBlob(digest: string): Promise<Buffer | undefined> {
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(digest));
    } catch {
      return undefined;
    }
    try {
      verifyDigest(data, digest, `stored blob ${digest}`);
    } catch {
      await rm(this.blobPath(digest), { force: true });
      return undefined;
    }
    return data;
  }

  /** Store verified bytes under their digest (verified again here: nothing unverified lands in blobs/). */
  async writeBlob(digest: string, data: Buffer): Promise<void> {
    verifyDigest(data, digest, `blob ${digest}`);
    if (!(await this.hasBlob(digest))) await this.writeAtomically(this.blobPath(digest), data);
  }

  async deleteBlob(digest: string): Promise<void> {
    await rm(this.blobPath(digest), { force: true });
  }

  async listBlobs(): Promise<string[]> {
    return (await readdir(join(this.root, 'blobs'))).map(nameToDigest);
  }

  private blobPath(digest: string): string {
    return join(this.root, 'blobs', digestToName(digest));
  }

  // ---- layers

  hasLayer(diffId: string): Promise<boolean> {
    return exists(this.layerDir(diffId));
  }

  layerDir(diffId: string): string {
    return join(this.root, 'layers', digestToName(diffId));
  }

  /**
   * Move a completely unpacked and verified layer into place; a concurrent winner's copy is kept. Its
   * files are flushed to disk first (one syncfs, not an fsync per file), so a layer that survives a power
   * cut under its final name is whole.
   */
  async commitLayer(tempDir: string, diffId: string): Promise<void> {
    await runCommand('sync', ['--file-system', tempDir]);
    try {
      await rename(tempDir, this.layerDir(diffId));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
      await rm(tempDir, { recursive: true, force: true });
    }
    await this.layerLink(diffId);
  }

  /**
   * The layer's short name relative to the root (`l/<20 hex>`), for overlay mount options. Created when
   * missing, so a crash between unpacking and linking heals on the next mount.
   */
  async layerLink(diffId: string): Promise<string> {
    const { hex } = parseDigest(diffId);
    const link = join('l', hex.slice(0, SHORT_LINK_HEX));
    // Checked once per process: every container start mounts its image's layers through these links.
    if (this.linked.has(diffId)) return link;
    const target = join('..', 'layers', digestToName(diffId));
    try {
      await symlink(target, join(this.root, link));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // 80 bits of a sha256 shared by two layers would take a preimage-grade effort; still, never mix them up.
      if ((await readlink(join(this.root, link))) !== target) throw new Error(`layer link ${link} already names another layer`);
    }
    this.linked.add(diffId);
    return link;
  }

  /** An empty directory (relative to the root) standing in as the only layer of an image that has none. */
  emptyLayer(): string {
    return EMPTY_LAYER;
  }

  /** Remove a layer: renamed out of layers/ first, so a half-deleted layer is never taken for a whole one. */
  async deleteLayer(diffId: string): Promise<void> {
    const { hex } = parseDigest(diffId);
    this.linked.delete(diffId);
    await rm(join(this.root, 'l', hex.slice(0, SHORT_LINK_HEX)), { force: true });
    const doomed = join(this.root, 'tmp', `deleting-${digestToName(diffId)}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.layerDir(diffId), doomed);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    // Off the event loop: a layer can be thousands of files, and the agent's heartbeats must not wait.
    await rm(doomed, { recursive: true, force: true });
  }

  async listLayers(): Promise<string[]> {
    return (await readdir(join(this.root, 'layers'))).map(nameToDigest);
  }

  // ---- image, reference and container records

  async writeImage(record: ImageRecord): Promise<void> {
    await this.writeJson(join(this.root, 'images', `${digestToName(record.id)}.json`), record);
    this.images.set(record.id, record);
  }

  /**
   * An image record, kept in memory once read: it is named by its config's digest, so its content never
   * changes, and every container start reads it twice (finding the cached image, mounting its layers).
   */
  async readImage(id: string): Promise<ImageRecord | undefined> {
    const known = this.images.get(id);
    if (known) return known;
    const record = await this.readJson<ImageRecord>(join(this.root, 'images', `${digestToName(id)}.json`));
    if (record) this.images.set(id, record);
    return record;
  }

  async deleteImage(id: string): Promise<void> {
    this.images.delete(id);
    await rm(join(this.root, 'images', `${digestToName(id)}.json`), { force: true });
  }

  listImages(): Promise<ImageRecord[]> {
    return this.readAll<ImageRecord>('images');
  }

  writeRef(record: RefRecord): Promise<void> {
    return this.writeJson(this.refPath(record.reference), record);
  }

  async readRef(reference: string): Promise<RefRecord | undefined> {
    const record = await this.readJson<RefRecord>(this.refPath(reference));
    return record?.reference === reference ? record : undefined;
  }

  async deleteRef(reference: string): Promise<void> {
    await rm(this.refPath(reference), { force: true });
  }

  listRefs(): Promise<RefRecord[]> {
    return this.readAll<RefRecord>('refs');
  }

  /** Every record in a records directory (images/ or refs/), unreadable ones skipped. */
  private async readAll<T>(dir: string): Promise<T[]> {
    const names = (await readdir(join(this.root, dir))).filter((n) => n.endsWith('.json'));
    const records = await Promise.all(names.map((n) => this.readJson<T>(join(this.root, dir, n))));
    return records.filter((r): r is Awaited<T> & T => r !== undefined);
  }

  /** References can be long and hold `/` and `:`; their file is named by a hash of the text. */
  private refPath(reference: string): string {
    return join(this.root, 'refs', `${createHash('sha256').update(reference).digest('hex')}.json`);
  }

  /**
   * A container's directory. Long ids (up to 1024 characters) are shortened with a hash of the whole id:
   * a file name holds at most 255 bytes, and the paths go into the overlay's one page of mount options.
   */
  containerDir(id: string): string {
    const name = id.length <= MAX_PLAIN_CONTAINER_DIR ? id : `${id.slice(0, 40)}~${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;
    return join(this.root, 'containers', name);
  }

  writeContainer(record: ContainerRecord): Promise<void> {
    // Not fsynced: a record lost with a power cut goes with the mount it described (see unrecordedContainerDirs).
    return this.writeJson(join(this.containerDir(record.id), 'container.json'), record, false);
  }

  readContainer(id: string): Promise<ContainerRecord | undefined> {
    return this.readJson<ContainerRecord>(join(this.containerDir(id), 'container.json'));
  }

  async listContainers(): Promise<ContainerRecord[]> {
    const names = await readdir(join(this.root, 'containers'));
    const records = await Promise.all(names.map((name) => this.readJson<ContainerRecord>(join(this.root, 'containers', name, 'container.json'))));
    return records.filter((r) => r !== undefined);
  }

  /** Container directories without a record (a crash interrupted their creation). Synchronous: start-up only. */
  unrecordedContainerDirs(): string[] {
    return readdirSync(join(this.root, 'containers'))
      .map((name) => join(this.root, 'containers', name))
      .filter((dir) => !existsSync(join(dir, 'container.json')));
  }

  // ---- files

  private writeJson(path: string, value: unknown, durable = true): Promise<void> {
    return this.writeAtomically(path, Buffer.from(JSON.stringify(value)), durable);
  }

  private async readJson<T>(path: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch {
      // Absent, or unreadable after outside damage: treated as absent, so the image is pulled again.
      return undefined;
    }
  }

  private async writeAtomically(path: string, data: Buffer, durable = true): Promise<void> {
    const temp = join(this.root, 'tmp', `write-${randomBytes(8).toString('hex')}`);
    const file = await open(temp, 'wx', 0o644);
    try {
      await file.writeFile(data);
      if (durable) await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  }
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

const digestToName = (digest: string): string => {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}-${hex}`;
};

const nameToDigest = (name: string): string => name.replace(/\.json$/, '').replace('-', ':');
