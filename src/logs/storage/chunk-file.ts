import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath } from '../../files/durable.js';
import { readdirOrEmpty } from '../../files/read-dir.js';

/**
 * Chunk files: the events of one PutLogEvents batch (or of several, merged), written once and never changed.
 *
 * Layout: `<dir>/logs/<streamId>/<random>.chunk`, written as `.<random>.tmp` beside it, fsynced, renamed, and
 * the directory fsynced. A file becomes visible to readers only through its `logs/chunks/` key in the Store,
 * committed after the rename; a file without a key is an orphan (crash between the two, or replaced by a
 * merge or a trim) that the sweep removes once it is older than a grace period.
 *
 * Format (JSON, v1): `{ v, ts: number[], msg: string[], runs: [seq, ingested, firstIdx, count][] }`. Each
 * run is a stretch of events that came in one batch: `seq` 0 means "this chunk's own seq" (a batch's file
 * is written before its seq is known, which the commit decides); merged chunks name each run's seq, so an
 * event keeps its place (timestamp, seq, index) — and the tokens pointing at it — through merges.
 */
export interface ChunkEvents {
  readonly ts: readonly number[];
  readonly seq: readonly number[];
  readonly idx: readonly number[];
  readonly ingested: readonly number[];
  readonly messages: readonly string[];
}

/** A run of events from one batch: its seq (0: the chunk's own), ingestion time, first index and length. */
export type ChunkRun = readonly [seq: number, ingested: number, firstIdx: number, count: number];

export interface ChunkContent {
  readonly ts: readonly number[];
  readonly msg: readonly string[];
  readonly runs: readonly ChunkRun[];
}

/** A chunk file that is not what the format says (a broken file system, or not berth's file). */
export class ChunkFileError extends Error {
  override readonly name = 'ChunkFileError';
}

export const streamDir = (dir: string, streamId: string) => join(dir, 'logs', streamId);
export const chunkPath = (dir: string, streamId: string, file: string) => join(dir, 'logs', streamId, file);

/** The content of a new batch's chunk: one run, whose seq the commit decides. */
export function batchContent(events: readonly { timestamp: number; message: string }[], ingested: number): ChunkContent {
  return { ts: events.map((e) => e.timestamp), msg: events.map((e) => e.message), runs: [[0, ingested, 0, events.length]] };
}

/** Write `content` as a new chunk file of the stream, durably; returns its file name. */
export async function writeChunkFile(dir: string, streamId: string, content: ChunkContent): Promise<string> {
  const sdir = streamDir(dir, streamId);
  const created = await mkdir(sdir, { recursive: true, mode: 0o700 });
  if (created !== undefined) {
    // A new stream directory (and maybe `logs/`): make its entry durable before a file in it is relied on.
    await fsyncPath(join(sdir, '..'));
    await fsyncPath(dir);
  }
  const name = `${randomBytes(12).toString('hex')}.chunk`;
  const temp = join(sdir, `.${name}.tmp`);
  // O_EXCL: a name is never shared, even with a writer on another machine.
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(JSON.stringify({ v: 1, ...content }));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(sdir, name));
  await fsyncPath(sdir);
  return name;
}

/** Read and decode a chunk file; undefined when it is missing. `seq` is the chunk's own (its key's). */
export async function readChunkFile(dir: string, streamId: string, file: string, seq: number): Promise<ChunkEvents | undefined> {
  let text: string;
  try {
    text = await readFile(chunkPath(dir, streamId, file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return decodeChunk(text, seq, file);
}

/** Decode a chunk file's text, expanding its runs into per-event seq, index and ingestion time. */
export function decodeChunk(text: string, ownSeq: number, what = 'chunk'): ChunkEvents {
  let parsed: { v?: unknown; ts?: unknown; msg?: unknown; runs?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new ChunkFileError(`${what}: not JSON`);
  }
  const { ts, msg, runs } = parsed;
  if (parsed.v !== 1 || !Array.isArray(ts) || !Array.isArray(msg) || !Array.isArray(runs) || ts.length !== msg.length) {
    throw new ChunkFileError(`${what}: not a v1 chunk`);
  }
  const seq: number[] = [];
  const idx: number[] = [];
  const ingested: number[] = [];
  for (const run of runs as unknown[]) {
    if (!Array.isArray(run) || run.length !== 4 || !run.every((n) => Number.isSafeInteger(n))) throw new ChunkFileError(`${what}: bad run`);
    const [s, ing, first, count] = run as [number, number, number, number];
    for (let k = 0; k < count; k++) {
      seq.push(s === 0 ? ownSeq : s);
      idx.push(first + k);
      ingested.push(ing);
    }
  }
  if (seq.length !== ts.length) throw new ChunkFileError(`${what}: runs do not cover its events`);
  return { ts: ts as number[], seq, idx, ingested, messages: msg as string[] };
}

/** Remove a chunk file now (its key is gone and no reader can reach it). */
export async function removeChunkFile(dir: string, streamId: string, file: string): Promise<void> {
  await rm(chunkPath(dir, streamId, file), { force: true });
}

/**
 * A file whose key was just replaced or removed: readers that loaded the index a moment ago may still open
 * it, so it is not removed now; its time is set to now, and the orphan sweep removes it after the grace period.
 */
export async function retireChunkFile(dir: string, streamId: string, file: string, nowMs: number): Promise<void> {
  const t = new Date(nowMs);
  await utimes(chunkPath(dir, streamId, file), t, t).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

/** Stream ids that have a directory under `<dir>/logs`. */
export async function streamDirs(dir: string): Promise<string[]> {
  return (await readdirOrEmpty(join(dir, 'logs'))).filter((n) => /^\d+$/.test(n));
}

/** The files in a stream's directory (chunks and temporaries) with their modification times. */
export async function filesOf(dir: string, streamId: string): Promise<{ name: string; mtimeMs: number }[]> {
  const out: { name: string; mtimeMs: number }[] = [];
  for (const name of await readdirOrEmpty(streamDir(dir, streamId))) {
    try {
      out.push({ name, mtimeMs: (await stat(chunkPath(dir, streamId, name))).mtimeMs });
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

/** Remove a stream's directory with whatever is left in it. */
export async function removeStreamDir(dir: string, streamId: string): Promise<void> {
  await rm(streamDir(dir, streamId), { recursive: true, force: true });
}
