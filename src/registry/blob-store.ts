import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { tryParseDigest, type Digest } from '../model/registry/names.js';
import { KeyedMutex } from './keyed-mutex.js';

/**
 * Blob bytes on the filesystem, content addressed: `<root>/blobs/<algorithm>/<first two hex>/<hex>`.
 *
 * A file appears under `blobs/` only by rename(2) of a fully written, fsynced temporary file in
 * `<root>/uploads/` (same filesystem), after its digest was verified; so a crash never leaves a partial
 * blob visible, and two writers of the same blob both rename identical bytes into place, harmlessly.
 * Whether a blob exists as far as clients are concerned is the Store's business (its `registry/blobs/`
 * record); the file is written before that record and removed after it.
 */
export class BlobStore {
  readonly blobsDir: string;
  readonly uploadsDir: string;
  /** Serialises "place file + record" against "delete record + file" for one digest. */
  readonly locks = new KeyedMutex();

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
    mkdirSync(this.blobsDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.uploadsDir, { recursive: true, mode: 0o700 });
  }

  pathOf(digest: Digest): string {
    return join(this.blobsDir, digest.algorithm, digest.hex.slice(0, 2), digest.hex);
  }

  /** A fresh path for a temporary file on the same filesystem as the blobs. */
  tempPath(): string {
    return join(this.uploadsDir, randomUUID());
  }

  /**
   * Move an fsynced temporary file into place as `digest` and make the rename durable. The caller holds
   * the digest's lock and has verified the bytes.
   */
  async place(tempPath: string, digest: Digest): Promise<void> {
    const target = this.pathOf(digest);
    const dir = join(target, '..');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rename(tempPath, target);
    await fsyncPath(dir);
  }

  /** Write `bytes` (already known to hash to `digest`) as a blob: temp file, fsync, rename. */
  async writeWhole(bytes: Uint8Array, digest: Digest): Promise<void> {
    const temp = this.tempPath();
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await this.place(temp, digest);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Open a blob for reading; undefined when its file is missing. */
  async open(digest: Digest): Promise<{ handle: FileHandle; size: number } | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(digest), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const { size } = await handle.stat();
    return { handle, size };
  }

  async readAll(digest: Digest): Promise<Buffer | undefined> {
    const opened = await this.open(digest);
    if (!opened) return undefined;
    try {
      return await opened.handle.readFile();
    } finally {
      await opened.handle.close();
    }
  }

  /** Size of the blob's file, or undefined when it is missing. */
  async sizeOf(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(digest))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** Remove a blob's file (the caller holds its lock and has removed its record). */
  async remove(digest: Digest): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }

  /** Every blob file, with its modification time: for sweeping files that lost their record in a crash. */
  async *files(): AsyncGenerator<{ digest: Digest; mtimeMs: number }> {
    for (const algorithm of await readdirOrEmpty(this.blobsDir)) {
      for (const prefix of await readdirOrEmpty(join(this.blobsDir, algorithm))) {
        for (const hex of await readdirOrEmpty(join(this.blobsDir, algorithm, prefix))) {
          const digest = tryParseDigest(`${algorithm}:${hex}`);
          if (!digest) continue;
          try {
            yield { digest, mtimeMs: (await stat(this.pathOf(digest))).mtimeMs };
          } catch {
            // removed meanwhile
          }
        }
      }
    }
  }

  /** Temporary files (upload sessions, manifests being written) with their modification times. */
  async tempFiles(): Promise<{ path: string; mtimeMs: number }[]> {
    const out: { path: string; mtimeMs: number }[] = [];
    for (const name of await readdirOrEmpty(this.uploadsDir)) {
      try {
        out.push({ path: join(this.uploadsDir, name), mtimeMs: (await stat(join(this.uploadsDir, name))).mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }
}

/** fsync a file or a directory (so that a rename in it is durable) by its path. */
export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
