/**
 * One pass over a layer blob as it downloads: hash the compressed bytes, sniff and decompress (gzip, zstd
 * or plain tar), hash the tar, parse it with node-tar and write the entries (see layer-writer.ts). The
 * digest and the diff_id are both checked before the pass counts as done; the caller unpacks into a
 * temporary directory and keeps it only then.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { DigestingStream } from './digest.js';
import { MAGIC_LENGTH, createDecompressor, detectCompression, type Compression } from './layer-compression.js';
import { LayerWriter } from './layer-writer.js';

export interface LayerExpectation {
  /** Digest of the blob as stored in the registry (compressed). */
  readonly digest: string;
  readonly size: number;
  /** Digest of the uncompressed tar, from the image config's rootfs.diff_ids. */
  readonly diffId: string;
}

export interface UnpackedLayer {
  readonly compression: Compression;
  /** Size of the uncompressed tar. */
  readonly tarSize: number;
  readonly entries: number;
}

/**
 * Unpack `blob` into the empty directory `dir`. Rejects (leaving `dir` for the caller to delete) when the
 * blob or its tar does not match `expected`, when an entry would escape `dir`, or on any I/O error.
 */
export async function unpackLayer(
  blob: AsyncIterable<Uint8Array>,
  dir: string,
  expected: LayerExpectation,
  signal?: AbortSignal,
): Promise<UnpackedLayer> {
  const source = blob[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let exhausted = false;
  while (head.length < MAGIC_LENGTH) {
    const next = await source.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    head = Buffer.concat([head, next.value]);
  }
  const compression = detectCompression(head);

  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(signal!.reason);
  signal?.addEventListener('abort', onOuterAbort, { once: true });
  let firstError: unknown;
  const fail = (e: unknown) => {
    firstError ??= e;
    abort.abort(e);
  };

  const compressed = new DigestingStream({ digest: expected.digest, size: expected.size, what: `layer ${expected.digest}` });
  const tarStream = new DigestingStream({
    digest: expected.diffId,
    what: `layer ${expected.digest}: uncompressed content does not match the config's diff_id ${expected.diffId}`,
  });
  const parser = new Parser({ strict: true });
  const entries = new EntryQueue(parser);
  const writer = new LayerWriter(dir);

  const pump = pipeline(
    Readable.from(replay(head, source, exhausted), { objectMode: false }),
    compressed,
    createDecompressor(compression),
    tarStream,
    async (tar: AsyncIterable<Buffer>) => {
      for await (const chunk of tar) {
        if (!parser.write(chunk)) await once(parser, 'drain', { signal: abort.signal });
      }
      parser.end();
    },
    { signal: abort.signal },
  ).catch((e: unknown) => {
    fail(e);
    entries.fail(e);
  });
  const write = (async () => {
    for await (const entry of entries) {
      if (abort.signal.aborted) break;
      await writer.write(entry);
    }
    if (!abort.signal.aborted) await writer.finish();
  })().catch((e: unknown) => fail(e));

  try {
    await Promise.all([pump, write]);
  } finally {
    signal?.removeEventListener('abort', onOuterAbort);
  }
  if (firstError !== undefined) throw firstError;
  if (abort.signal.aborted) throw abort.signal.reason;
  return { compression, tarSize: tarStream.bytes, entries: writer.entries };
}

/** The bytes already read to sniff the compression, then the rest; closes the source when stopped early. */
async function* replay(head: Buffer, rest: AsyncIterator<Uint8Array>, exhausted: boolean): AsyncGenerator<Buffer> {
  try {
    if (head.length > 0) yield head;
    if (exhausted) return;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.length);
    }
  } finally {
    await rest.return?.();
  }
}

/** Tar entry types with file content node-tar does not unpack; other ignored types carry none. */
const UNSUPPORTED_TYPES: ReadonlySet<string> = new Set(['SparseFile', 'ContinuationFile']);

/**
 * node-tar's Parser as an async iterable of entries. The Parser emits the next entry only after the
 * previous one is consumed and stops accepting bytes meanwhile, so entries are written strictly in
 * order with the download held back (no unbounded buffering).
 */
class EntryQueue implements AsyncIterable<ReadEntry> {
  private readonly pending: ReadEntry[] = [];
  /** The entry being written; destroyed on failure so a writer waiting for its data stops. */
  private current: ReadEntry | undefined;
  private ended = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  constructor(parser: Parser) {
    parser.on('entry', (entry: ReadEntry) => {
      // Failures reach the writer through its read of the entry; never as an unhandled 'error' event.
      entry.on('error', () => {});
      this.pending.push(entry);
      this.notify();
    });
    parser.on('end', () => {
      this.ended = true;
      this.notify();
    });
    parser.on('error', (e: unknown) => this.fail(e));
    // node-tar skips what it cannot represent; a layer missing a file must fail, not unpack short.
    parser.on('ignoredEntry', (entry: ReadEntry) => {
      if (entry.meta || UNSUPPORTED_TYPES.has(entry.type)) {
        this.fail(new Error(`tar entry "${entry.path}" of type ${entry.type}${entry.meta ? ` (${entry.size} bytes of metadata)` : ''} is not supported`));
      }
    });
  }

  fail(e: unknown): void {
    this.error ??= e;
    this.current?.destroy();
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReadEntry> {
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const entry = this.pending.shift();
      this.current = entry;
      if (entry) {
        yield entry;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
