/**
 * Blob upload sessions (the OCI "POST, PATCH…, PUT ?digest=" protocol).
 *
 *   POST ──▶ OPEN ──PATCH that continues at the current offset──▶ OPEN (offset grows)
 *             │ └────PATCH at another offset──▶ 416 (BLOB_UPLOAD_INVALID), stays OPEN
 *             ├─PUT ?digest= matching the bytes──▶ blob placed and linked; session ends (201)
 *             ├─PUT ?digest= not matching────────▶ DIGEST_INVALID; session and bytes discarded
 *             ├─DELETE──────────────────────────▶ session and bytes discarded (204)
 *             └─idle longer than the timeout────▶ discarded by sweep()
 *
 * Bytes go to a temporary file in the blob store's uploads directory while a sha256 is computed over
 * them as they arrive (so finishing needs no second read). A request that fails half-way — the client
 * disconnects, a chunk's length disagrees with its Content-Range — truncates the file and restores the
 * hash to where they were before it, so the client can ask for the offset and resume. Sessions live in
 * this process's memory: an upload does not survive a server restart (the client starts it again).
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, truncate, type FileHandle } from 'node:fs/promises';
import { RegistryError } from '../model/registry/errors.js';
import { parseDigest, type Digest } from '../model/registry/names.js';
import type { BlobRecords } from './blob-records.js';
import { fsyncPath, type BlobStore } from './blob-store.js';
import { keys } from '../state/keys.js';
import type { Store } from '../store/store.js';

export interface UploadSession {
  readonly id: string;
  readonly repo: string;
  readonly path: string;
  readonly startedAt: number;
  offset: number;
  hash: Hash;
  touchedAt: number;
  busy: boolean;
}

/** An inclusive byte range from a Content-Range header. */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

/** Bytes gathered before each write, so large uploads make few, large writes. */
const WRITE_BATCH = 1024 * 1024;
/**
 * Bytes written between flushes started in the background while the upload streams: the disk writes
 * overlap the network, and the fsync that must come before the blob is acknowledged has little left to do.
 */
const FLUSH_EVERY = 8 * 1024 * 1024;

const uploadUnknown = (id: string) => new RegistryError('BLOB_UPLOAD_UNKNOWN', `blob upload unknown to registry: ${id}`, { uuid: id });

export class Uploads {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly records: BlobRecords,
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  async start(repo: string): Promise<UploadSession> {
    const id = randomUUID();
    const path = this.blobs.tempPath();
    await (await open(path, 'wx', 0o600)).close();
    const at = this.now();
    const session: UploadSession = { id, repo, path, startedAt: at, offset: 0, hash: createHash('sha256'), touchedAt: at, busy: false };
    this.sessions.set(id, session);
    return session;
  }

  /** The session `id` of `repo`; BLOB_UPLOAD_UNKNOWN when there is none. */
  get(repo: string, id: string): UploadSession {
    const session = this.sessions.get(id);
    if (!session || session.repo !== repo) throw uploadUnknown(id);
    return session;
  }

  /** Append a request body; when `range` is given it must start at the current offset and match the body's length. */
  async append(session: UploadSession, body: AsyncIterable<Buffer> | undefined, range?: ChunkRange): Promise<void> {
    if (session.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${session.id} is busy with another request`);
    if (range && range.start !== session.offset) {
      throw new RegistryError(
        'BLOB_UPLOAD_INVALID',
        `chunk ${range.start}-${range.end} does not continue the upload, which holds ${session.offset} bytes`,
        { offset: session.offset },
        'range',
      );
    }
    if (!body) return;
    session.busy = true;
    const before = { offset: session.offset, hash: session.hash.copy() };
    let handle: FileHandle | undefined;
    try {
      handle = await open(session.path, 'a');
      const flusher = new WriteBehind(handle);
      let batch: Buffer[] = [];
      let batched = 0;
      for await (const chunk of body) {
        session.hash.update(chunk);
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) {
          await writeAll(handle, batch);
          session.offset += batched;
          flusher.wrote(batched);
          batch = [];
          batched = 0;
        }
      }
      await writeAll(handle, batch);
      session.offset += batched;
      await flusher.idle();
      if (range && session.offset - before.offset !== range.end - range.start + 1) {
        throw new RegistryError(
          'BLOB_UPLOAD_INVALID',
          `Content-Range ${range.start}-${range.end} promises ${range.end - range.start + 1} bytes but the body had ${session.offset - before.offset}`,
          undefined,
          'range',
        );
      }
    } catch (error) {
      await handle?.close();
      handle = undefined;
      await truncate(session.path, before.offset);
      session.offset = before.offset;
      session.hash = before.hash;
      throw error;
    } finally {
      await handle?.close();
      session.busy = false;
      session.touchedAt = this.now();
    }
  }

  /**
   * Complete the upload as `digestText`: append the final body, verify, fsync, place the file as a blob
   * and record it in the repository. A digest that does not match ends the session with nothing stored.
   */
  async finish(session: UploadSession, digestText: string, body?: AsyncIterable<Buffer>, range?: ChunkRange): Promise<{ digest: string; size: number }> {
    const digest = parseDigest(digestText);
    await this.append(session, body, range);
    if (session.busy) throw new RegistryError('BLOB_UPLOAD_INVALID', `upload ${session.id} is busy with another request`);
    session.busy = true;
    try {
      const actual = digest.algorithm === 'sha256' ? `sha256:${session.hash.copy().digest('hex')}` : await hashFile(session.path, digest);
      if (actual !== digest.value) {
        await this.discard(session);
        throw new RegistryError('DIGEST_INVALID', `provided digest ${digest.value} did not match uploaded content (${actual})`, {
          digest: digest.value,
          actual,
        });
      }
      await fsyncPath(session.path);
      this.sessions.delete(session.id);
      await this.blobs.locks.run(digest.value, async () => {
        await this.blobs.place(session.path, digest);
        try {
          await this.records.recordUpload(session.repo, digest.value, session.offset);
        } catch (error) {
          // No record may point at nothing, and no file should outlive a refused upload.
          if (!(await this.store.get(keys.blob(digest.value)))) await this.blobs.remove(digest);
          throw error;
        }
      });
      return { digest: digest.value, size: session.offset };
    } finally {
      session.busy = false;
    }
  }

  async cancel(session: UploadSession): Promise<void> {
    await this.discard(session);
  }

  /** Discard sessions idle for longer than `idleMs`, and temporary files no session owns that are as old. */
  async sweep(idleMs: number): Promise<number> {
    const cutoff = this.now() - idleMs;
    let removed = 0;
    for (const session of [...this.sessions.values()]) {
      if (!session.busy && session.touchedAt < cutoff) {
        await this.discard(session);
        removed++;
      }
    }
    const owned = new Set([...this.sessions.values()].map((s) => s.path));
    for (const file of await this.blobs.tempFiles()) {
      if (!owned.has(file.path) && file.mtimeMs < cutoff) {
        await rm(file.path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Temporary files left by an earlier process: no session survives a restart. */
  async removeLeftovers(): Promise<void> {
    const owned = new Set([...this.sessions.values()].map((s) => s.path));
    for (const file of await this.blobs.tempFiles()) if (!owned.has(file.path)) await rm(file.path, { force: true });
  }

  get size(): number {
    return this.sessions.size;
  }

  private async discard(session: UploadSession): Promise<void> {
    this.sessions.delete(session.id);
    await rm(session.path, { force: true });
  }
}

/** Parse a chunk's Content-Range (`<start>-<end>`, inclusive; a leading `bytes ` or `bytes=` is tolerated). */
export function parseChunkRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range '${header}': expected <start>-<end>`, undefined, 'range');
  }
  return { start, end };
}

/** Starts an fdatasync every FLUSH_EVERY bytes, one at a time, without waiting for it. */
class WriteBehind {
  private pending = 0;
  private flushing: Promise<void> | undefined;

  constructor(private readonly handle: FileHandle) {}

  wrote(bytes: number): void {
    this.pending += bytes;
    if (this.pending < FLUSH_EVERY || this.flushing) return;
    this.pending = 0;
    // A failed background flush is not an error of the upload: finish()'s fsync is the one that counts.
    this.flushing = this.handle
      .datasync()
      .catch(() => undefined)
      .finally(() => (this.flushing = undefined));
  }

  /** Wait for the flush in flight (before the handle is closed). */
  async idle(): Promise<void> {
    await this.flushing;
  }
}

async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  if (buffers.length === 0) return;
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const { bytesWritten } = await handle.writev(buffers);
  if (bytesWritten < total) {
    // Short writes are rare on regular files; finish the rest one piece at a time.
    let rest = Buffer.concat(buffers).subarray(bytesWritten);
    while (rest.length > 0) {
      const { bytesWritten: n } = await handle.write(rest);
      rest = rest.subarray(n);
    }
  }
}

async function hashFile(path: string, digest: Digest): Promise<string> {
  const hash = createHash(digest.algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: WRITE_BATCH })) hash.update(chunk as Buffer);
  return `${digest.algorithm}:${hash.digest('hex')}`;
}
