/**
 * Content digests (`sha256:<hex>`): parsing, hashing buffers, and a pass-through stream that hashes and
 * counts what flows through it so a download is verified while it is written, never after.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** The digest algorithms berth verifies, with the length of their hex encoding. */
const ALGORITHMS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof ALGORITHMS;

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
}

/** A blob or manifest whose bytes do not hash to the digest it was asked for. */
export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
}

/** Parse `algorithm:hex`; throws naming what is wrong (unknown algorithm, bad hex, wrong length). */
export function parseDigest(digest: string): ParsedDigest {
  const colon = digest.indexOf(':');
  if (colon <= 0) throw new Error(`invalid digest "${digest}": expected algorithm:hex`);
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  if (!Object.hasOwn(ALGORITHMS, algorithm)) throw new Error(`unsupported digest algorithm "${algorithm}" in "${digest}"`);
  const length = ALGORITHMS[algorithm as DigestAlgorithm];
  if (hex.length !== length || !/^[0-9a-f]+$/.test(hex)) {
    throw new Error(`invalid digest "${digest}": ${algorithm} needs ${length} lowercase hex characters`);
  }
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

/** The digest of `data` under `algorithm`. */
export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Throws {@link DigestMismatchError} unless `data` hashes to `expected`. */
export function verifyDigest(data: Uint8Array, expected: string, what: string): void {
  const actual = digestOf(data, parseDigest(expected).algorithm);
  if (actual !== expected) throw new DigestMismatchError(`${what}: digest mismatch: expected ${expected}, got ${actual}`);
}

/**
 * Passes bytes through unchanged while hashing and counting them. With `expected` set it fails the stream
 * at its end (before 'finish' reaches the consumer) when the digest or the size does not match.
 */
export class DigestingStream extends Transform {
  private readonly hash: Hash;
  private readonly algorithm: DigestAlgorithm;
  /** Bytes seen so far. */
  bytes = 0;
  private result: string | undefined;

  constructor(private readonly expected?: { digest: string; size?: number; what: string }) {
    super();
    this.algorithm = expected ? parseDigest(expected.digest).algorithm : 'sha256';
    this.hash = createHash(this.algorithm);
  }

  /** The digest of everything that passed, once the stream has ended. */
  get digest(): string {
    if (this.result === undefined) throw new Error('DigestingStream: digest read before the stream ended');
    return this.result;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    const limit = this.expected?.size;
    if (limit !== undefined && this.bytes > limit) {
      callback(new DigestMismatchError(`${this.expected!.what}: more than the ${limit} bytes its descriptor declares`));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.result = `${this.algorithm}:${this.hash.digest('hex')}`;
    const expected = this.expected;
    if (expected && expected.size !== undefined && this.bytes !== expected.size) {
      callback(new DigestMismatchError(`${expected.what}: size mismatch: expected ${expected.size} bytes, got ${this.bytes}`));
    } else if (expected && this.result !== expected.digest) {
      callback(new DigestMismatchError(`${expected.what}: digest mismatch: expected ${expected.digest}, got ${this.result}`));
    } else {
      callback();
    }
  }
}
