import type { Store } from '../../store/store.js';
import type { ChunkRef } from './event-merge.js';
import { logKeys, seqOfChunkKey } from './keys.js';
import { parseChunkRecord, type StreamRecord } from './records.js';
import { rangePages } from '../../store/range-pages.js';

const PAGE = 1_000;

interface Cached {
  readonly indexVersion: number;
  readonly nextSeq: number;
  readonly chunks: readonly ChunkRef[];
}

/**
 * Each stream's chunk index (its `logs/chunks/<id>/` keys), cached per stream and brought up to date from
 * the stream record every read carries: the same `nextSeq` means nothing was added, a higher one means only
 * the chunks after the cached ones need reading, another `indexVersion` (a retention drop, a trim, a merge)
 * means the whole index is read again. So a reader following a stream reads no chunk keys at all between
 * batches, and one range per batch.
 */
export class ChunkIndex {
  private readonly streams = new Map<string, Cached>();

  constructor(
    private readonly store: Store,
    private readonly maxStreams = 1_024,
  ) {}

  /** The chunks of `stream` as of its record (seq order). */
  async chunksOf(stream: StreamRecord): Promise<readonly ChunkRef[]> {
    const cached = this.streams.get(stream.id);
    let chunks: ChunkRef[];
    if (cached && cached.indexVersion === stream.indexVersion && cached.nextSeq >= stream.nextSeq) {
      if (cached.nextSeq === stream.nextSeq) return this.touch(stream.id, cached).chunks;
      // An older record than the cache's: answer what that record promised.
      return cached.chunks.filter((c) => c.seq < stream.nextSeq);
    }
    if (cached && cached.indexVersion === stream.indexVersion) {
      chunks = [...cached.chunks, ...(await this.read(stream, cached.nextSeq - 1))];
    } else {
      chunks = await this.read(stream, 0);
    }
    this.touch(stream.id, { indexVersion: stream.indexVersion, nextSeq: stream.nextSeq, chunks });
    return chunks;
  }

  /** Forget every cached index (a chunk was found missing: some index changed under the reader). */
  clear(): void {
    this.streams.clear();
  }

  private async read(stream: StreamRecord, afterSeq: number): Promise<ChunkRef[]> {
    const out: ChunkRef[] = [];
    const after = afterSeq > 0 ? logKeys.chunk(stream.id, afterSeq) : undefined;
    for await (const page of rangePages(this.store, logKeys.chunksOf(stream.id), PAGE, after)) {
      for (const e of page) {
        const seq = seqOfChunkKey(e.key);
        // Chunks committed after the stream record was read belong to a later read.
        if (seq < stream.nextSeq) out.push({ streamId: stream.id, seq, record: parseChunkRecord(e.value) });
      }
    }
    return out;
  }

  private touch(streamId: string, entry: Cached): Cached {
    this.streams.delete(streamId);
    this.streams.set(streamId, entry);
    if (this.streams.size > this.maxStreams) this.streams.delete(this.streams.keys().next().value!);
    return entry;
  }
}
