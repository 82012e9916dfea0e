import { readChunkFile, type ChunkEvents } from './chunk-file.js';
import type { ChunkRef } from './event-merge.js';

/** A chunk's file is gone: its key was removed or replaced since the reader loaded the stream's index. */
export class ChunkMissingError extends Error {
  override readonly name = 'ChunkMissingError';
}

/**
 * Parsed chunk files, least recently used first out, bounded by an estimate of their memory. Chunk files
 * never change once written, so a cached chunk is never stale: the only question is whether the stream's
 * index still names it, which the reader settles from the Store.
 */
export class ChunkCache {
  private readonly entries = new Map<string, { events: ChunkEvents; weight: number }>();
  private readonly loading = new Map<string, Promise<ChunkEvents>>();
  private weight = 0;

  constructor(
    private readonly dir: string,
    private readonly maxWeight = 64 * 1024 * 1024,
  ) {}

  /** The events of a chunk; ChunkMissingError when its file is gone. */
  get(ref: ChunkRef): Promise<ChunkEvents> {
    const key = `${ref.streamId}/${ref.record.file}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return Promise.resolve(hit.events);
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.read(key, ref).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  private async read(key: string, ref: ChunkRef): Promise<ChunkEvents> {
    const events = await readChunkFile(this.dir, ref.streamId, ref.record.file, ref.seq);
    if (!events) throw new ChunkMissingError(`chunk ${key} (seq ${ref.seq}) is gone`);
    // Messages (as UTF-16 in memory, roughly their UTF-8 size for ASCII) plus per-event numbers.
    const weight = ref.record.bytes * 2 + ref.record.count * 64;
    this.entries.set(key, { events, weight });
    this.weight += weight;
    for (const [k, v] of this.entries) {
      if (this.weight <= this.maxWeight) break;
      this.entries.delete(k);
      this.weight -= v.weight;
    }
    return events;
  }
}
