import type Database from 'better-sqlite3';
import { TOP } from './groups.js';

/** A log stream as stored. `lastEventMs` is 0 until the stream has events. */
export interface StreamRow {
  readonly id: number;
  readonly groupId: number;
  readonly name: string;
  readonly createdMs: number;
  readonly firstEventMs: number | null;
  readonly lastEventMs: number;
  readonly lastIngestionMs: number | null;
  readonly storedBytes: number;
  /** PutLogEvents calls accepted so far: the basis of the (ignored) sequence tokens. */
  readonly uploads: number;
}

interface RawStream {
  id: number;
  group_id: number;
  name: string;
  created_ms: number;
  first_event_ms: number | null;
  last_event_ms: number;
  last_ingestion_ms: number | null;
  stored_bytes: number;
  uploads: number;
}

const toStream = (r: RawStream): StreamRow => ({
  id: r.id,
  groupId: r.group_id,
  name: r.name,
  createdMs: r.created_ms,
  firstEventMs: r.first_event_ms,
  lastEventMs: r.last_event_ms,
  lastIngestionMs: r.last_ingestion_ms,
  storedBytes: r.stored_bytes,
  uploads: r.uploads,
});

export const streamOrders = ['LogStreamName', 'LastEventTime'] as const;
export type StreamOrder = (typeof streamOrders)[number];

/** Where a listing continues: after (or, descending, before) this stream. */
export interface StreamCursor {
  readonly name: string;
  readonly lastEventMs: number;
}

export interface StreamListing {
  readonly groupId: number;
  readonly orderBy: StreamOrder;
  readonly descending: boolean;
  /** Only with orderBy LogStreamName (as CloudWatch Logs). */
  readonly prefix?: string | undefined;
  readonly after?: StreamCursor | undefined;
  readonly limit: number;
}

type ListParams = { g: number; lo: string; hi: string; n: string; t: number; limit: number };

export class StreamTable {
  private readonly stmt;

  constructor(db: Database.Database) {
    const list = (where: string, order: string) =>
      db.prepare<ListParams, RawStream>(`SELECT * FROM log_streams WHERE group_id = @g AND ${where} ORDER BY ${order} LIMIT @limit`);
    this.stmt = {
      insert: db.prepare<[number, string, number]>(
        'INSERT INTO log_streams (group_id, name, created_ms) VALUES (?, ?, ?) ON CONFLICT (group_id, name) DO NOTHING',
      ),
      byName: db.prepare<[number, string], RawStream>('SELECT * FROM log_streams WHERE group_id = ? AND name = ?'),
      namesOf: db.prepare<[number], { id: number; name: string }>('SELECT id, name FROM log_streams WHERE group_id = ?'),
      byNameAsc: list('name >= @lo AND name < @hi AND name > @n', 'name'),
      byNameDesc: list('name >= @lo AND name < @hi AND name < @n', 'name DESC'),
      byTimeAsc: list('(last_event_ms, name) > (@t, @n)', 'last_event_ms, name'),
      byTimeDesc: list('(last_event_ms, name) < (@t, @n)', 'last_event_ms DESC, name DESC'),
      recordUpload: db.prepare<{ id: number; min: number; max: number; bytes: number; now: number }>(
        `UPDATE log_streams SET first_event_ms = min(coalesce(first_event_ms, @min), @min), last_event_ms = max(last_event_ms, @max),
           last_ingestion_ms = @now, stored_bytes = stored_bytes + @bytes, uploads = uploads + 1 WHERE id = @id`,
      ),
      recordUploadOfNothing: db.prepare<[number]>('UPDATE log_streams SET uploads = uploads + 1 WHERE id = ?'),
      subtractBytes: db.prepare<[number, number]>('UPDATE log_streams SET stored_bytes = max(0, stored_bytes - ?) WHERE id = ?'),
      doom: db.prepare<[number]>('INSERT OR IGNORE INTO doomed_streams (stream_id) VALUES (?)'),
      doomAllOf: db.prepare<[number]>('INSERT OR IGNORE INTO doomed_streams (stream_id) SELECT id FROM log_streams WHERE group_id = ?'),
      delete: db.prepare<[number]>('DELETE FROM log_streams WHERE id = ?'),
      deleteAllOf: db.prepare<[number]>('DELETE FROM log_streams WHERE group_id = ?'),
      ofGroup: db.prepare<[number], { id: number }>('SELECT id FROM log_streams WHERE group_id = ?'),
    };
  }

  /** Create a stream; false when the group already has one of that name. */
  create(groupId: number, name: string, createdMs: number): boolean {
    return this.stmt.insert.run(groupId, name, createdMs).changes === 1;
  }

  get(groupId: number, name: string): StreamRow | undefined {
    const row = this.stmt.byName.get(groupId, name);
    return row && toStream(row);
  }

  /** Every stream of a group, id → name (for FilterLogEvents, which reports names). */
  namesOf(groupId: number): Map<number, string> {
    return new Map(this.stmt.namesOf.all(groupId).map((r) => [r.id, r.name]));
  }

  idsOf(groupId: number): number[] {
    return this.stmt.ofGroup.all(groupId).map((r) => r.id);
  }

  list(listing: StreamListing): StreamRow[] {
    const { orderBy, descending, after } = listing;
    const lo = listing.prefix ?? '';
    const params: ListParams = { g: listing.groupId, lo, hi: lo + TOP, n: '', t: -1, limit: listing.limit };
    let stmt;
    if (orderBy === 'LogStreamName') {
      stmt = descending ? this.stmt.byNameDesc : this.stmt.byNameAsc;
      params.n = after?.name ?? (descending ? params.hi : '');
    } else {
      stmt = descending ? this.stmt.byTimeDesc : this.stmt.byTimeAsc;
      params.t = after?.lastEventMs ?? (descending ? Number.MAX_SAFE_INTEGER : -1);
      params.n = after?.name ?? '';
    }
    return stmt.all(params).map(toStream);
  }

  /** Account for accepted events: first/last timestamps, ingestion time, bytes. */
  recordUpload(id: number, upload: { minTs: number; maxTs: number; bytes: number; now: number } | undefined): void {
    if (upload) this.stmt.recordUpload.run({ id, min: upload.minTs, max: upload.maxTs, bytes: upload.bytes, now: upload.now });
    else this.stmt.recordUploadOfNothing.run(id);
  }

  subtractBytes(id: number, bytes: number): void {
    this.stmt.subtractBytes.run(bytes, id);
  }

  /** Delete a stream now; its events are purged by the sweep (they are unreachable at once). */
  delete(id: number): void {
    this.stmt.doom.run(id);
    this.stmt.delete.run(id);
  }

  /** Delete every stream of a group (DeleteLogGroup). */
  deleteAllOf(groupId: number): void {
    this.stmt.doomAllOf.run(groupId);
    this.stmt.deleteAllOf.run(groupId);
  }
}
