import type { Store } from '../../store/store.js';
import { transact } from '../../store/transact.js';
import { ChunkCache, ChunkMissingError } from './chunk-cache.js';
import { batchContent, writeChunkFile } from './chunk-file.js';
import { ChunkIndex } from './chunk-index.js';
import { collect, EventMerge, type Direction, type EventRow, type MergeBounds } from './event-merge.js';
import { logKeys } from './keys.js';
import { parseStreamRecord, type ChunkRecord, type StreamRecord } from './records.js';

/** What PutLogEvents stores: the accepted events (in time order) and their UTF-8 bytes. */
export interface Upload {
  readonly events: readonly { timestamp: number; message: string }[];
  readonly bytes: number;
  readonly now: number;
}

/**
 * Events: each PutLogEvents batch is one immutable chunk file, made visible by one Store transaction that
 * compares-and-swaps the stream record (taking its next seq) and adds the chunk's key; the batch is
 * acknowledged after both. Reads merge the chunks a page needs, through a cache of each stream's index and
 * an LRU of parsed chunk files.
 */
export class LogEvents {
  private readonly index: ChunkIndex;
  private readonly cache: ChunkCache;

  constructor(
    private readonly store: Store,
    private readonly dir: string,
  ) {
    this.index = new ChunkIndex(store);
    this.cache = new ChunkCache(dir);
  }

  /**
   * Store an upload in a stream; the stream's new record, or undefined when the stream was deleted meanwhile
   * (its file, if one was written, is then an orphan for the sweep). An upload without events only counts.
   */
  async append(stream: StreamRecord, upload: Upload): Promise<StreamRecord | undefined> {
    const { events, bytes, now } = upload;
    // Written before the commit and never removed on failure: a commit that timed out may still have
    // happened, and its file must then be there. The sweep removes files no key names.
    const file = events.length ? await writeChunkFile(this.dir, stream.id, batchContent(events, now)) : undefined;
    return transact(this.store, async (tx) => {
      const key = logKeys.stream(stream.groupId, stream.name);
      const entry = await tx.get(key);
      const cur = entry && parseStreamRecord(entry.value);
      if (cur?.id !== stream.id) return undefined;
      if (file === undefined) {
        const next: StreamRecord = { ...cur, uploads: cur.uploads + 1 };
        tx.putJson(key, next);
        return next;
      }
      const minTs = events[0]!.timestamp;
      const maxTs = events.at(-1)!.timestamp;
      const chunk: ChunkRecord = { file, count: events.length, minTs, maxTs, bytes, ingested: now };
      const next: StreamRecord = {
        ...cur,
        firstEventMs: cur.firstEventMs === null ? minTs : Math.min(cur.firstEventMs, minTs),
        lastEventMs: Math.max(cur.lastEventMs, maxTs),
        lastIngestionMs: now,
        storedBytes: cur.storedBytes + bytes,
        uploads: cur.uploads + 1,
        nextSeq: cur.nextSeq + 1,
      };
      tx.putJson(logKeys.chunk(cur.id, cur.nextSeq), chunk);
      tx.putJson(key, next);
      if (next.lastEventMs !== cur.lastEventMs) {
        tx.delete(logKeys.streamTime(cur.groupId, cur.lastEventMs, cur.name));
        tx.put(logKeys.streamTime(cur.groupId, next.lastEventMs, cur.name), cur.name);
      }
      return next;
    });
  }

  /** Up to `limit` events of some streams in event order (forward) or reverse event order (backward). */
  async read(streams: readonly StreamRecord[], direction: Direction, bounds: MergeBounds, limit: number): Promise<EventRow[]> {
    return collect(await this.merge(streams, direction, bounds), limit);
  }

  /** A merge over the chunks of `streams` (as of their records), for callers that scan with their own rules. */
  async merge(streams: readonly StreamRecord[], direction: Direction, bounds: MergeBounds): Promise<EventMerge> {
    const refs = (await Promise.all(streams.map((s) => this.index.chunksOf(s)))).flat();
    return new EventMerge(refs, direction, bounds, (ref) => this.cache.get(ref));
  }

  /**
   * Run a read, again from the start (`fn` re-reads the stream records) if a chunk file it needed was gone:
   * a retention drop, trim or merge replaced it after the index was read (the sweep keeps replaced files for a
   * grace period, so this is rare).
   */
  async retrying<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof ChunkMissingError) || attempt === 3) throw error;
        this.index.clear();
      }
    }
  }
}
