import { readChunkFile, writeChunkFile, type ChunkEvents } from './chunk-file.js';
import { ChunkMissingError } from './chunk-cache.js';
import { chunksOfStream, contentOf, recordOf, replaceChunks, type IndexedChunk, type SweepContext } from './chunk-retention.js';
import { collect, EventMerge } from './event-merge.js';
import type { StreamRecord } from './records.js';

/** A chunk smaller than this is worth merging with its neighbours. */
export const SMALL_CHUNK_BYTES = 256 * 1024;
/** A merged chunk holds at most this many bytes of messages. */
export const MERGED_CHUNK_BYTES = 1024 * 1024;
/** Fewer small chunks in a row than this are left alone (merging two saves little). */
export const MIN_RUN = 4;

/**
 * Runs of consecutive (by seq) small chunks to merge, each of at least MIN_RUN and at most `maxRun` chunks
 * and MERGED_CHUNK_BYTES. A stream that receives a small batch every second would otherwise have tens of
 * thousands of chunks a day: keys to range, files to open.
 */
export function smallRuns(chunks: readonly IndexedChunk[], maxRun: number): IndexedChunk[][] {
  const runs: IndexedChunk[][] = [];
  let run: IndexedChunk[] = [];
  let bytes = 0;
  const close = () => {
    if (run.length >= MIN_RUN) runs.push(run);
    run = [];
    bytes = 0;
  };
  for (const c of chunks) {
    if (c.record.bytes >= SMALL_CHUNK_BYTES) {
      close();
      continue;
    }
    if (run.length === maxRun || bytes + c.record.bytes > MERGED_CHUNK_BYTES) close();
    run.push(c);
    bytes += c.record.bytes;
  }
  close();
  return runs;
}

/**
 * Merge runs of small chunks of a stream: each run is written as one new file (its events in event order,
 * each keeping its seq and index, so tokens still point at the same places), then one transaction replaces
 * the run's keys by one key at the run's first seq. The old files are retired (readers that loaded the index
 * before the commit still find them for the grace period). Returns how many chunks were merged away.
 */
export async function compactStream(ctx: SweepContext, stream: StreamRecord): Promise<number> {
  // The transaction changes the run's keys, the merged one and the stream record.
  const runs = smallRuns(await chunksOfStream(ctx.store, stream.id), Math.max(MIN_RUN, ctx.batch - 2));
  let merged = 0;
  for (const run of runs) {
    const load = async (ref: { seq: number; record: { file: string } }): Promise<ChunkEvents> => {
      const events = await readChunkFile(ctx.dir, stream.id, ref.record.file, ref.seq);
      if (!events) throw new ChunkMissingError(`chunk ${ref.record.file} of stream ${stream.id} is gone`);
      return events;
    };
    let rows;
    try {
      const refs = run.map((c) => ({ streamId: stream.id, ...c }));
      const all = { from: { ts: -1, streamId: '', seq: 0, idx: 0 }, sinceTs: 0, beforeTs: Number.MAX_SAFE_INTEGER };
      rows = await collect(new EventMerge(refs, 'forward', all, load), Number.MAX_SAFE_INTEGER);
    } catch (error) {
      // Another sweep changed the stream meanwhile: leave it to the next sweep.
      if (error instanceof ChunkMissingError) continue;
      throw error;
    }
    const events: ChunkEvents = {
      ts: rows.map((r) => r.ts),
      seq: rows.map((r) => r.seq),
      idx: rows.map((r) => r.idx),
      ingested: rows.map((r) => r.ingested),
      messages: rows.map((r) => r.message),
    };
    const content = contentOf(events, 0, rows.length);
    const file = await writeChunkFile(ctx.dir, stream.id, content);
    if (await replaceChunks(ctx, stream, run, [{ seq: run[0]!.seq, record: recordOf(file, content) }])) merged += run.length - 1;
    if (!(await ctx.pause())) break;
  }
  return merged;
}
