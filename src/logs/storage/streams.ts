import type { Store } from '../../store/store.js';
import { transact } from '../../store/transact.js';
import { logKeys, streamNameOfTimeKey } from './keys.js';
import { rangePages } from '../../store/range-pages.js';
import { newId, parseGroupRecord, parseStreamRecord, type GroupRecord, type StreamRecord } from './records.js';

export const streamOrders = ['LogStreamName', 'LastEventTime'] as const;
export type StreamOrder = (typeof streamOrders)[number];

/** Where a listing continues: after (or, descending, before) this stream. */
export interface StreamCursor {
  readonly name: string;
  readonly lastEventMs: number;
}

export interface StreamListing {
  readonly groupId: string;
  readonly orderBy: StreamOrder;
  readonly descending: boolean;
  /** Only with orderBy LogStreamName (as CloudWatch Logs). */
  readonly prefix?: string | undefined;
  readonly after?: StreamCursor | undefined;
  readonly limit: number;
}

const PAGE = 500;

/**
 * Log streams in the Store (`logs/streams/<groupId>:<name>`), with a second key per stream ordered by its last
 * event time (`logs/stream-times/`) for DescribeLogStreams orderBy LastEventTime, kept in step by every
 * transaction that changes a stream's last event time.
 */
export class LogStreams {
  constructor(private readonly store: Store) {}

  /** Create a stream; false when the group already has one of that name, undefined when the group is gone. */
  async create(group: GroupRecord, name: string, createdMs: number): Promise<boolean | undefined> {
    return transact(this.store, async (tx) => {
      const g = await tx.get(logKeys.group(group.name));
      if (!g || parseGroupRecord(g.value).id !== group.id) return undefined;
      if (await tx.get(logKeys.stream(group.id, name))) return false;
      const record: StreamRecord = {
        id: newId(),
        groupId: group.id,
        name,
        createdMs,
        firstEventMs: null,
        lastEventMs: 0,
        lastIngestionMs: null,
        storedBytes: 0,
        uploads: 0,
        nextSeq: 1,
        indexVersion: 0,
      };
      tx.putJson(logKeys.stream(group.id, name), record);
      tx.put(logKeys.streamTime(group.id, 0, name), name);
      return true;
    });
  }

  async get(groupId: string, name: string): Promise<StreamRecord | undefined> {
    const entry = await this.store.get(logKeys.stream(groupId, name));
    return entry && parseStreamRecord(entry.value);
  }

  /** Every stream of a group, in name order. */
  async all(groupId: string): Promise<StreamRecord[]> {
    const out: StreamRecord[] = [];
    for await (const page of rangePages(this.store, logKeys.streamsOf(groupId), PAGE)) for (const e of page) out.push(parseStreamRecord(e.value));
    return out;
  }

  async list(listing: StreamListing): Promise<StreamRecord[]> {
    const { groupId, descending, after, limit } = listing;
    if (listing.orderBy === 'LogStreamName') {
      const page = await this.store.range(logKeys.streamsOf(groupId) + (listing.prefix ?? ''), {
        limit,
        reverse: descending,
        ...(after ? { after: logKeys.stream(groupId, after.name) } : {}),
      });
      return page.entries.map((e) => parseStreamRecord(e.value));
    }
    const out: StreamRecord[] = [];
    let from = after ? logKeys.streamTime(groupId, after.lastEventMs, after.name) : undefined;
    while (out.length < limit) {
      const page = await this.store.range(logKeys.streamTimesOf(groupId), { limit: limit - out.length, reverse: descending, ...(from ? { after: from } : {}) });
      // A stream deleted (or written to) between the two reads is left out of this page, not shown stale.
      const streams = await Promise.all(page.entries.map((e) => this.get(groupId, streamNameOfTimeKey(e.key))));
      page.entries.forEach((e, i) => {
        const s = streams[i];
        if (s && logKeys.streamTime(groupId, s.lastEventMs, s.name) === e.key) out.push(s);
      });
      if (!page.more) break;
      from = page.entries.at(-1)!.key;
    }
    return out;
  }

  /** Delete a stream now (by id); the sweep purges its chunks, from the purge record written in the same transaction. */
  async delete(stream: StreamRecord, nowMs: number): Promise<boolean> {
    return transact(this.store, async (tx) => {
      const key = logKeys.stream(stream.groupId, stream.name);
      const entry = await tx.get(key);
      const current = entry && parseStreamRecord(entry.value);
      if (current?.id !== stream.id) return false;
      tx.delete(key);
      tx.delete(logKeys.streamTime(current.groupId, current.lastEventMs, current.name));
      tx.putJson(logKeys.streamPurge(current.id), { streamId: current.id, deletedMs: nowMs });
      return true;
    });
  }
}
