import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** Bytes gathered before each write, so large uploads make few, large writes. */
const WRITE_BATCH = 1024 * 1024;
/**
 * Bytes written between flushes started in the background while the upload streams: the disk writes
 * overlap the network, and the fsync that must come before the blob is acknowledged has little left to do.
 */
const FLUSH_EVERY = 8 * 1024 * 1024;

/**
 * Write `body` into `handle` from `position` on, feeding `hash` as the bytes arrive. Positional writes (not
 * O_APPEND) so that where bytes land depends only on the acknowledged offset. Returns the bytes written.
 */
export async function writeBody(handle: FileHandle, position: number, body: AsyncIterable<Buffer>, hash: Hash): Promise<number> {
  const flusher = new WriteBehind(handle);
  let at = position;
  let batch: Buffer[] = [];
  let batched = 0;
  try {
    for await (const chunk of body) {
      hash.update(chunk);
      batch.push(chunk);
      batched += chunk.length;
      if (batched >= WRITE_BATCH) {
        await writeAll(handle, batch, at);
        at += batched;
        flusher.wrote(batched);
        batch = [];
        batched = 0;
      }
    }
    await writeAll(handle, batch, at);
    return at + batched - position;
  } finally {
    await flusher.idle();
  }
}

/** The hash of the first `length` bytes of the file at `path` (a server that did not see them arrive). */
export async function hashFilePrefix(path: string, algorithm: 'sha256' | 'sha512', length: number): Promise<Hash> {
  const hash = createHash(algorithm);
  if (length === 0) return hash;
  let seen = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: WRITE_BATCH })) {
    hash.update(chunk as Buffer);
    seen += (chunk as Buffer).length;
  }
  if (seen !== length) throw new Error(`upload file ${path} holds ${seen} bytes, fewer than the ${length} acknowledged`);
  return hash;
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
    // A failed background flush is not an error of the upload: the fsync before placing is the one that counts.
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

async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  if (buffers.length === 0) return;
  const total = buffers.reduce((n, b) => n + b.length, 0);
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten < total) {
    // Short writes are rare on regular files; finish the rest one piece at a time.
    let rest = Buffer.concat(buffers).subarray(bytesWritten);
    let at = position + bytesWritten;
    while (rest.length > 0) {
      const { bytesWritten: n } = await handle.write(rest, 0, rest.length, at);
      rest = rest.subarray(n);
      at += n;
    }
  }
}
