import type { Store } from '../../store/store.js';
import { transact } from '../../store/transact.js';
import { readChunkFile, retireChunkFile, writeChunkFile, type ChunkContent, type ChunkEvents, type ChunkRun } from './chunk-file.js';
import { logKeys, seqOfChunkKey } from './keys.js';
import { rangePages } from '../../store/range-pages.js';
import { parseChunkRecord, parseStreamRecord, type ChunkRecord, type StreamRecord } from './records.js';

/** What the sweep needs: the Store, the log directory, the time, and how many keys one transaction may change. */
export interface SweepContext {
  readonly store: Store;
  readonly dir: string;
  readonly now: () => number;
  /** Keys changed per Store transaction at most (etcd allows 128 operations per transaction by default). */
  readonly batch: number;
  /** Between batches: a turn of the event loop, and whether to go on (false once the sweep is stopped). */
  readonly pause: () => Promise<boolean>;
}

/** A chunk with its seq and record, as listed from the Store. */
export interface IndexedChunk {
  readonly seq: number;
  readonly record: ChunkRecord;
}

/** Every chunk of a stream, in seq order. */
export async function chunksOfStream(store: Store, streamId: string): Promise<IndexedChunk[]> {
  const out: IndexedChunk[] = [];
  for await (const page of rangePages(store, logKeys.chunksOf(streamId), 1_000)) {
    for (const e of page) out.push({ seq: seqOfChunkKey(e.key), record: parseChunkRecord(e.value) });
  }
  return out;
}

/**
 * Replace some chunks of a stream in one transaction: remove the keys of `removed`, put `added` (seq →
 * record), adjust the stream's stored bytes and bump its index version so that readers reload its index.
 * Only if every chunk removed still names the same file (another sweep or a merge may have changed it).
 * The files of removed chunks are retired (kept for the grace period) after the commit.
 */
export async function replaceChunks(
  ctx: SweepContext,
  stream: StreamRecord,
  removed: readonly IndexedChunk[],
  added: readonly IndexedChunk[],
): Promise<boolean> {
  const bytesDelta = added.reduce((n, c) => n + c.record.bytes, 0) - removed.reduce((n, c) => n + c.record.bytes, 0);
  const done = await transact(ctx.store, async (tx) => {
    const key = logKeys.stream(stream.groupId, stream.name);
    const entry = await tx.get(key);
    const cur = entry && parseStreamRecord(entry.value);
    if (cur?.id !== stream.id) return false;
    for (const c of removed) {
      const e = await tx.get(logKeys.chunk(stream.id, c.seq));
      if (!e || parseChunkRecord(e.value).file !== c.record.file) return false;
    }
    for (const c of removed) tx.delete(logKeys.chunk(stream.id, c.seq));
    for (const c of added) tx.putJson(logKeys.chunk(stream.id, c.seq), c.record);
    tx.putJson(key, { ...cur, storedBytes: Math.max(0, cur.storedBytes + bytesDelta), indexVersion: cur.indexVersion + 1 });
    return true;
  });
  if (done) {
    const kept = new Set(added.map((c) => c.record.file));
    for (const c of removed) if (!kept.has(c.record.file)) await retireChunkFile(ctx.dir, stream.id, c.record.file, ctx.now());
  }
  return done;
}

/** A chunk's events as the content of a new file, keeping each event's seq and index (its place). */
export function contentOf(events: ChunkEvents, from: number, to: number): ChunkContent {
  const runs: [number, number, number, number][] = [];
  for (let i = from; i < to; i++) {
    const run = runs.at(-1);
    if (run && run[0] === events.seq[i] && run[1] === events.ingested[i] && run[2] + run[3] === events.idx[i]) run[3]++;
    else runs.push([events.seq[i]!, events.ingested[i]!, events.idx[i]!, 1]);
  }
  return { ts: events.ts.slice(from, to), msg: events.messages.slice(from, to), runs: runs as ChunkRun[] };
}

/** The record of a chunk file holding `content`. */
export function recordOf(file: string, content: ChunkContent): ChunkRecord {
  return {
    file,
    count: content.ts.length,
    // Events in a chunk are in event order, so in time order.
    minTs: content.ts[0]!,
    maxTs: content.ts.at(-1)!,
    bytes: content.msg.reduce((n, m) => n + Buffer.byteLength(m, 'utf8'), 0),
    ingested: content.runs.reduce((n, r) => Math.max(n, r[1]), 0),
  };
}

/**
 * Apply a retention cutoff to one stream: chunks whose newest event is older than `cutoffTs` go whole; a
 * chunk straddling the cutoff is rewritten without its expired events once they are at least a quarter of it
 * (reads hide them meanwhile; the quarter keeps a long chunk from being rewritten at every sweep).
 * Returns the number of events removed.
 */
export async function expireStream(ctx: SweepContext, stream: StreamRecord, cutoffTs: number): Promise<number> {
  if (stream.firstEventMs === null || stream.firstEventMs >= cutoffTs) return 0;
  const chunks = await chunksOfStream(ctx.store, stream.id);
  let removed = 0;
  const whole = chunks.filter((c) => c.record.maxTs < cutoffTs);
  for (let i = 0; i < whole.length; i += ctx.batch) {
    const slice = whole.slice(i, i + ctx.batch);
    if (await replaceChunks(ctx, stream, slice, [])) removed += slice.reduce((n, c) => n + c.record.count, 0);
    if (!(await ctx.pause())) return removed;
  }
  for (const c of chunks.filter((x) => x.record.minTs < cutoffTs && x.record.maxTs >= cutoffTs)) {
    const events = await readChunkFile(ctx.dir, stream.id, c.record.file, c.seq);
    if (!events) continue;
    let expired = 0;
    while (expired < events.ts.length && events.ts[expired]! < cutoffTs) expired++;
    if (expired * 4 < events.ts.length) continue;
    const content = contentOf(events, expired, events.ts.length);
    const file = await writeChunkFile(ctx.dir, stream.id, content);
    if (await replaceChunks(ctx, stream, [c], [{ seq: c.seq, record: recordOf(file, content) }])) removed += expired;
    if (!(await ctx.pause())) return removed;
  }
  return removed;
}
