import type { ChunkEvents } from './chunk-file.js';
import type { ChunkRecord } from './records.js';

/**
 * Events are ordered by (timestamp, stream id, chunk seq, index in chunk): time first, then arrival within a
 * stream; the stream id only breaks ties between streams (FilterLogEvents interleaves a group's streams).
 * Queries start strictly after (forward) or before (backward) a position.
 */
export interface EventPosition {
  readonly ts: number;
  readonly streamId: string;
  readonly seq: number;
  readonly idx: number;
}

export interface EventRow extends EventPosition {
  readonly ingested: number;
  readonly message: string;
}

/** A chunk that may hold events of a read: its stream, its seq (from its key) and its record. */
export interface ChunkRef {
  readonly streamId: string;
  readonly seq: number;
  readonly record: ChunkRecord;
}

export type Direction = 'forward' | 'backward';

/** Compare positions in event order. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.streamId !== b.streamId) return a.streamId < b.streamId ? -1 : 1;
  if (a.seq !== b.seq) return a.seq - b.seq;
  return a.idx - b.idx;
}

/** The bounds of a read: strictly past `from` (in the direction), and timestamps in [sinceTs, beforeTs). */
export interface MergeBounds {
  readonly from: EventPosition;
  readonly sinceTs: number;
  readonly beforeTs: number;
}

interface Pending {
  readonly kind: 'pending';
  readonly ref: ChunkRef;
  /** Sorts before (forward) / after (backward) every event of the chunk. */
  readonly key: EventPosition;
}

interface Open {
  readonly kind: 'open';
  readonly ref: ChunkRef;
  readonly events: ChunkEvents;
  i: number;
  key: EventPosition;
}

type Entry = Pending | Open;

/**
 * Merges the events of several chunks (of one stream or many) in event order, forward or backward, loading a
 * chunk only when the merge reaches its first (or last) timestamp: chunks of a stream written in time order do
 * not overlap, so a page reads one or two of them whatever the stream's length.
 *
 * `next()` answers an event, `undefined` at the end, or a promise while a chunk loads (await it, call again):
 * the loop stays synchronous between loads, which keeps scanning 100,000 events cheap.
 */
export class EventMerge {
  private readonly heap: Entry[] = [];
  private readonly sign: 1 | -1;

  constructor(
    refs: readonly ChunkRef[],
    private readonly direction: Direction,
    private readonly bounds: MergeBounds,
    private readonly load: (ref: ChunkRef) => Promise<ChunkEvents>,
  ) {
    this.sign = direction === 'forward' ? 1 : -1;
    const { from, sinceTs, beforeTs } = bounds;
    for (const ref of refs) {
      const { minTs, maxTs } = ref.record;
      if (maxTs < sinceTs || minTs >= beforeTs) continue;
      if (direction === 'forward' ? maxTs < from.ts : minTs > from.ts) continue;
      const key =
        direction === 'forward'
          ? { ts: Math.max(minTs, sinceTs, from.ts), streamId: '', seq: -1, idx: -1 }
          : { ts: Math.min(maxTs, beforeTs - 1, from.ts), streamId: '\u{10FFFF}', seq: Number.MAX_SAFE_INTEGER, idx: Number.MAX_SAFE_INTEGER };
      this.push({ kind: 'pending', ref, key });
    }
  }

  next(): EventRow | undefined | Promise<void> {
    const top = this.heap[0];
    if (!top) return undefined;
    if (top.kind === 'pending') {
      this.pop();
      return this.load(top.ref).then((events) => this.open(top.ref, events));
    }
    const { events, i } = top;
    const row: EventRow = {
      ts: events.ts[i]!,
      streamId: top.ref.streamId,
      seq: events.seq[i]!,
      idx: events.idx[i]!,
      ingested: events.ingested[i]!,
      message: events.messages[i]!,
    };
    this.pop();
    top.i += this.sign;
    if (this.inBounds(events, top.i)) {
      top.key = positionAt(top.ref.streamId, events, top.i);
      this.push(top);
    }
    return row;
  }

  private open(ref: ChunkRef, events: ChunkEvents): void {
    const { from } = this.bounds;
    const n = events.ts.length;
    // First index past `from` in the direction of the read (events in a chunk are in event order).
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = comparePositions(positionAt(ref.streamId, events, mid), from);
      if (this.direction === 'forward' ? c <= 0 : c < 0) lo = mid + 1;
      else hi = mid;
    }
    let i = this.direction === 'forward' ? lo : lo - 1;
    // Then skip to the time window.
    if (this.direction === 'forward') while (i < n && events.ts[i]! < this.bounds.sinceTs) i++;
    else while (i >= 0 && events.ts[i]! >= this.bounds.beforeTs) i--;
    if (this.inBounds(events, i)) this.push({ kind: 'open', ref, events, i, key: positionAt(ref.streamId, events, i) });
  }

  private inBounds(events: ChunkEvents, i: number): boolean {
    if (i < 0 || i >= events.ts.length) return false;
    const ts = events.ts[i]!;
    return ts >= this.bounds.sinceTs && ts < this.bounds.beforeTs;
  }

  private before(a: Entry, b: Entry): boolean {
    return this.sign * comparePositions(a.key, b.key) < 0;
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function positionAt(streamId: string, events: ChunkEvents, i: number): EventPosition {
  return { ts: events.ts[i]!, streamId, seq: events.seq[i]!, idx: events.idx[i]! };
}

/** Read up to `limit` events with a merge. */
export async function collect(merge: EventMerge, limit: number): Promise<EventRow[]> {
  const out: EventRow[] = [];
  while (out.length < limit) {
    const r = merge.next();
    if (r instanceof Promise) await r;
    else if (r === undefined) break;
    else out.push(r);
  }
  return out;
}
