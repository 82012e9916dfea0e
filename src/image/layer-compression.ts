/**
 * Layer blob compression, told by magic bytes rather than by media type (Docker does the same: some
 * registries and tools label layers loosely). gzip is Node's zlib; zstd is fzstd (pure JavaScript, streaming,
 * multi-frame), because Node 20's zlib has no zstd.
 */
import { Transform, PassThrough, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export const COMPRESSIONS = ['gzip', 'zstd', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** The bytes a stream must start with before {@link detectCompression} can decide. */
export const MAGIC_LENGTH = 4;

/** The compression of a blob from its first bytes. Pure. */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** A stream that turns `compression`-compressed bytes into the plain tar. */
export function createDecompressor(compression: Compression): Transform {
  switch (compression) {
    case 'gzip':
      return createGunzip();
    case 'zstd':
      return new ZstdDecompressStream();
    case 'none':
      return new PassThrough();
  }
}

class ZstdDecompressStream extends Transform {
  private readonly zstd = new Decompress((chunk) => {
    if (chunk.length > 0) this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
  });

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.zstd.push(chunk);
      callback();
    } catch (e) {
      callback(zstdError(e));
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.zstd.push(new Uint8Array(0), true);
      callback();
    } catch (e) {
      callback(zstdError(e));
    }
  }
}

function zstdError(e: unknown): Error {
  return new Error(`zstd: ${(e as Error).message || 'invalid data'}`, { cause: e });
}
