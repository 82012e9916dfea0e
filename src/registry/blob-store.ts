import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { tryParseDigest, type Digest } from '../model/registry/names.js';
import { fsyncPath } from '../files/durable.js';
import { readdirOrEmpty } from '../files/read-dir.js';

/**
 * Blob bytes on the filesystem, content addressed: `<root>/blobs/<algorithm>/<first two hex>/<hex>.<suffix>`,
 * the suffix unique to one placement (the blob's store record names its file; see BlobRecord.file).
 *
 * The directory may be shared by several server processes on several machines (docs/registry.md says
 * what the filesystem must guarantee). A file appears under `blobs/` only by rename(2) of a fully
 * written, fsynced temporary file in `<root>/uploads/` (same filesystem) after its digest was verified,
 * under a name nobody used before; so a crash never leaves a partial blob visible, and removing the file
 * of a deleted record can never remove bytes another process placed for a newer record of the same
 * digest. Nothing here locks: which file is a blob's is the Store's business (blob-placement.ts).
 */
export class BlobStore {
  readonly blobsDir: string;
  readonly uploadsDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
    mkdirSync(this.blobsDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.uploadsDir, { recursive: true, mode: 0o700 });
  }

  /** The path of `digest`'s file `file` (by default the legacy name, `<hex>`). */
  pathOf(digest: Digest, file: string = digest.hex): string {
    return join(this.dirOf(digest), file);
  }

  /** A file name for a new placement of `digest`: never used before, by this process or any other. */
  newFileName(digest: Digest): string {
    return `${digest.hex}.${randomBytes(8).toString('hex')}`;
  }

  /** A fresh path for a temporary file on the same filesystem as the blobs. */
  tempPath(): string {
    return tempFilePath(this.root, newTempName());
  }

  /**
   * Move an fsynced temporary file into place as `digest`'s file `file` and make the rename durable. Its
   * modification time is set to now first: garbage collection leaves files younger than its grace period.
   */
  async place(tempPath: string, digest: Digest, file: string): Promise<void> {
    const dir = this.dirOf(digest);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const now = new Date();
    await utimes(tempPath, now, now);
    await rename(tempPath, join(dir, file));
    await fsyncPath(dir);
  }

  /** Write `bytes` (already known to hash to `digest`) as its file `file`: temp file, fsync, rename. */
  async writeWhole(bytes: Uint8Array, digest: Digest, file: string): Promise<void> {
    const temp = this.tempPath();
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await this.place(temp, digest, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Open a blob's file for reading; undefined when it is missing. */
  async open(digest: Digest, file?: string): Promise<{ handle: FileHandle; size: number } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(digest, file), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const { size } = await handle.stat();
    return { handle, size };
  }

  async readAll(digest: Digest, file?: string): Promise<Buffer | undefined> {
    const opened = await this.open(digest, file);
    if (!opened) return undefined;
    try {
      return await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
  }

  /** Remove one of a blob's files (one no record names any more). */
  async remove(digest: Digest, file?: string): Promise<void> {
    await rm(this.pathOf(digest, file), { force: true });
  }

  /** The names of the files present for `digest`. */
  async fileNamesOf(digest: Digest): Promise<string[]> {
    return (await readdirOrEmpty(this.dirOf(digest))).filter((name) => name === digest.hex || name.startsWith(`${digest.hex}.`));
  }

  /** Every blob file, with its modification time: for sweeping files no record names. */
  async *files(): AsyncGenerator<{ digest: Digest; file: string; mtimeMs: number }> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, algorithm))) {
        for (const file of await readdirOrEmpty(join(this.blobsDir, algorithm, prefix))) {
          const digest = tryParseDigest(`${algorithm}:${file.split('.')[0]}`);
          if (!digest) continue;
          try {
            yield { digest, file, mtimeMs: (await stat(this.pathOf(digest, file))).mtimeMs };
          } catch {
            // removed meanwhile
          }
        }
      }
    }
  }

  /** Temporary files (upload sessions, manifests being written) with their modification times. */
  async tempFiles(): Promise<{ name: string; path: string; mtimeMs: number }[]> {
    return listTempFiles(this.root);
  }

  private dirOf(digest: Digest): string {
    return join(this.blobsDir, digest.algorithm, digest.hex.slice(0, 2));
  }
}

/** A fresh temporary file name, relative to the registry directory (as upload records keep it). */
export function newTempName(): string {
  return `uploads/${randomUUID()}`;
}

/** The path of temporary file `name` (from newTempName) under registry directory `root`. */
export function tempFilePath(root: string, name: string): string {
  // Names come from the Store; refuse anything that could point outside the uploads directory.
  if (!/^uploads\/[0-9a-f-]{36}$/.test(name)) throw new Error(`not a temporary file name: '${name}'`);
  return join(root, name);
}

/** The temporary files under registry directory `root`, with their names (as newTempName gives them) and ages. */
export async function listTempFiles(root: string): Promise<{ name: string; path: string; mtimeMs: number }[]> {
  const out: { name: string; path: string; mtimeMs: number }[] = [];
  for (const base of await readdirOrEmpty(join(root, 'uploads'))) {
    const path = join(root, 'uploads', base);
    try {
      out.push({ name: `uploads/${base}`, path, mtimeMs: (await stat(path)).mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}
