import type Database from 'better-sqlite3';

/** A stored event. `id` orders events of equal timestamp by arrival. */
export interface EventRow {
  readonly id: number;
  readonly streamId: number;
  readonly ts: number;
  readonly ingested: number;
  readonly message: string;
}

/** A place in (timestamp, id) order; queries start strictly after or before it. */
export interface Position {
  readonly ts: number;
  readonly id: number;
}

/** Before every event (ids start at 1). */
export const START: Position = { ts: 0, id: 0 };
/** After every event. */
export const END: Position = { ts: Number.MAX_SAFE_INTEGER, id: Number.MAX_SAFE_INTEGER };

interface RawEvent {
  id: number;
  stream_id: number;
  ts: number;
  ingested: number;
  message: string;
}

const toEvent = (r: RawEvent): EventRow => ({ id: r.id, streamId: r.stream_id, ts: r.ts, ingested: r.ingested, message: r.message });

type Range = { key: number; ts: number; id: number; bound: number; limit: number };

/**
 * Events, read as keysets over (timestamp, id) on the stream and group indexes: every page is one index
 * range scan whatever the stream's size, which keeps GetLogEvents and FilterLogEvents flat as streams grow.
 */
export class EventTable {
  private readonly stmt;

  constructor(db: Database.Database) {
    const cols = 'id, stream_id, ts, ingested, message';
    this.stmt = {
      insert: db.prepare<[number, number, number, number, string]>(
        'INSERT INTO log_events (group_id, stream_id, ts, ingested, message) VALUES (?, ?, ?, ?, ?)',
      ),
      forward: db.prepare<Range, RawEvent>(
        `SELECT ${cols} FROM log_events WHERE stream_id = @key AND (ts, id) > (@ts, @id) AND ts < @bound ORDER BY ts, id LIMIT @limit`,
      ),
      backward: db.prepare<Range, RawEvent>(
        `SELECT ${cols} FROM log_events WHERE stream_id = @key AND (ts, id) < (@ts, @id) AND ts >= @bound ORDER BY ts DESC, id DESC LIMIT @limit`,
      ),
      groupForward: db.prepare<Range, RawEvent>(
        `SELECT ${cols} FROM log_events WHERE group_id = @key AND (ts, id) > (@ts, @id) AND ts < @bound ORDER BY ts, id LIMIT @limit`,
      ),
      expire: db.prepare<[number, number, number], { bytes: number }>(
        `DELETE FROM log_events WHERE id IN (SELECT id FROM log_events WHERE stream_id = ? AND ts < ? ORDER BY ts LIMIT ?)
         RETURNING length(CAST(message AS BLOB)) AS bytes`,
      ),
      doomed: db.prepare<[], { stream_id: number }>('SELECT stream_id FROM doomed_streams LIMIT 1'),
      purge: db.prepare<[number, number]>(
        'DELETE FROM log_events WHERE id IN (SELECT id FROM log_events WHERE stream_id = ? LIMIT ?)',
      ),
      forgetDoomed: db.prepare<[number]>('DELETE FROM doomed_streams WHERE stream_id = ?'),
    };
  }

  /** Append events to a stream (the caller holds the transaction). */
  insert(groupId: number, streamId: number, events: readonly { timestamp: number; message: string }[], ingested: number): void {
    for (const e of events) this.stmt.insert.run(groupId, streamId, e.timestamp, ingested, e.message);
  }

  /** A stream's events after `from`, with timestamps below `beforeTs`, oldest first. */
  forward(streamId: number, from: Position, beforeTs: number, limit: number): EventRow[] {
    return this.stmt.forward.all({ key: streamId, ...at(from), bound: beforeTs, limit }).map(toEvent);
  }

  /** A stream's events before `from`, with timestamps at or above `sinceTs`, newest first. */
  backward(streamId: number, from: Position, sinceTs: number, limit: number): EventRow[] {
    return this.stmt.backward.all({ key: streamId, ...at(from), bound: sinceTs, limit }).map(toEvent);
  }

  /** A group's events (all streams interleaved) after `from`, with timestamps below `beforeTs`, oldest first. */
  groupForward(groupId: number, from: Position, beforeTs: number, limit: number): EventRow[] {
    return this.stmt.groupForward.all({ key: groupId, ...at(from), bound: beforeTs, limit }).map(toEvent);
  }

  /** Delete up to `limit` of a stream's events older than `cutoffTs`; returns how many and their bytes. */
  expire(streamId: number, cutoffTs: number, limit: number): { rows: number; bytes: number } {
    const deleted = this.stmt.expire.all(streamId, cutoffTs, limit);
    return { rows: deleted.length, bytes: deleted.reduce((sum, r) => sum + r.bytes, 0) };
  }

  /** Delete up to `limit` events of one deleted stream; 0 when no deleted stream is left to purge, else at least 1. */
  purgeDoomed(limit: number): number {
    const doomed = this.stmt.doomed.get();
    if (!doomed) return 0;
    const rows = this.stmt.purge.run(doomed.stream_id, limit).changes;
    if (rows < limit) this.stmt.forgetDoomed.run(doomed.stream_id);
    return Math.max(rows, 1);
  }
}

const at = (p: Position) => ({ ts: p.ts, id: p.id });
