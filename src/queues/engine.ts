import { parseRedrivePolicy } from './queue-attributes.js';
import { Queue, type Message } from './queue.js';
import type { MessageData, MinuteCounts, QueueData, QueueRecord } from './records.js';

/**
 * Every queue of the account and its messages, changed only by applying records (queues/records.ts): an operation
 * decides, builds its records, applies them and hands them to `sink` (the log), so a replay of the log rebuilds the
 * same state. Pure: the clock and ids are injected; no I/O.
 */
export interface EngineOptions {
  /** Receives every record applied by an operation (not those replayed). */
  readonly sink: (record: QueueRecord) => void;
  /** A queue's ARN by its name. */
  readonly arnOf: (name: string) => string;
}

/** A deleted queue's name cannot be used again for this long (SQS's QueueDeletedRecently). */
export const NAME_REUSE_MS = 60_000;

/** FIFO deduplication window (SQS's five minutes). */
export const DEDUP_WINDOW_MS = 5 * 60_000;

/** How long a FIFO ReceiveRequestAttemptId is remembered (SQS's five minutes). */
export const ATTEMPT_WINDOW_MS = 5 * 60_000;

/** What a FIFO receive with a ReceiveRequestAttemptId returned. */
export interface Attempt {
  readonly ids: readonly string[];
  readonly receipts: readonly string[];
  readonly at: number;
}

/** Per-queue counters since the metrics last read them (NumberOfMessagesSent/Received/Deleted). */
export interface Activity {
  sent: number;
  received: number;
  deleted: number;
}

export class QueueEngine {
  readonly queues = new Map<string, Queue>();
  readonly activity = new Map<string, Activity>();
  /** Queues deleted in the last {@link NAME_REUSE_MS}: name → when. */
  readonly dropped = new Map<string, number>();
  /** FIFO receives' attempts by `<queue>\n<ReceiveRequestAttemptId>`. */
  readonly attempts = new Map<string, Attempt>();
  /** Minutes whose counts the log holds and the metric store may not (by their time). */
  readonly unpublished = new Map<number, Readonly<Record<string, MinuteCounts>>>();
  /** The time of the last minute recorded. */
  lastMinuteAt = 0;
  /**
   * Whether the log keeps the counts (a minute or counts record was applied): then a replay counts what it applies,
   * as the operations did. A log written before counts were kept is not counted again at its replay.
   */
  countsInLog = false;

  constructor(private readonly options: EngineOptions) {}

  /** Applies a record read back from the log. */
  replay(record: QueueRecord): void {
    this.apply(record, false);
  }

  /** Applies a record of an operation and writes it to the log. */
  commit(record: QueueRecord): void {
    this.apply(record, true);
    this.options.sink(record);
  }

  private apply(record: QueueRecord, live: boolean): void {
    switch (record.t) {
      case 'queue': {
        const existing = this.queues.get(record.queue.name);
        if (existing) existing.data = record.queue;
        else this.queues.set(record.queue.name, new Queue(record.queue));
        this.dropped.delete(record.queue.name);
        return;
      }
      case 'drop':
        this.queues.delete(record.q);
        this.activity.delete(record.q);
        if (record.at !== undefined) this.dropped.set(record.q, record.at);
        return;
      case 'send': {
        const q = this.queues.get(record.q);
        if (!q) return;
        q.add({ data: record.m, visibleAt: record.visibleAt, receives: 0 });
        if (q.fifo && record.m.dedupId !== undefined) {
          q.dedup.set(dedupKey(q, record.m.groupId, record.m.dedupId), { id: record.m.id, ...(record.m.seq !== undefined ? { seq: record.m.seq } : {}), at: record.m.sentAt });
        }
        if (live || this.countsInLog) this.count(record.q).sent++;
        return;
      }
      case 'msg': {
        const q = this.queues.get(record.q);
        if (!q) return;
        q.add({
          data: record.m,
          visibleAt: record.visibleAt,
          receives: record.receives,
          ...(record.firstReceiveAt !== undefined ? { firstReceiveAt: record.firstReceiveAt } : {}),
          ...(record.receipt !== undefined ? { receipt: record.receipt } : {}),
        });
        return;
      }
      case 'recv': {
        const q = this.queues.get(record.q);
        const m = q?.messages.get(record.id);
        if (!q || !m) return;
        m.receives++;
        m.firstReceiveAt ??= record.at;
        m.receipt = record.receipt;
        q.setVisibleAt(m, record.visibleAt);
        if (live || this.countsInLog) this.count(record.q).received++;
        return;
      }
      case 'vis': {
        const q = this.queues.get(record.q);
        const m = q?.messages.get(record.id);
        if (q && m) q.setVisibleAt(m, record.visibleAt);
        return;
      }
      case 'del':
        if (this.queues.get(record.q)?.remove(record.id) && (live || this.countsInLog)) this.count(record.q).deleted++;
        return;
      case 'move': {
        const from = this.queues.get(record.q);
        const to = this.queues.get(record.to);
        const m = from?.remove(record.id);
        if (!m || !to) return;
        const data: MessageData = { ...m.data, deadLetterSourceArn: this.options.arnOf(record.q) };
        const moved = record.seq !== undefined ? { ...data, seq: record.seq } : data;
        to.add({ data: moved, visibleAt: record.at, receives: 0 });
        if (live || this.countsInLog) this.count(record.to).sent++;
        return;
      }
      case 'purge': {
        const q = this.queues.get(record.q);
        if (!q) return;
        q.clear();
        q.data = { ...q.data, purgedAt: record.at };
        return;
      }
      case 'attempt':
        this.attempts.set(`${record.q}\n${record.attempt}`, { ids: record.ids, receipts: record.receipts, at: record.at });
        return;
      case 'minute':
        this.activity.clear();
        this.countsInLog = true;
        this.lastMinuteAt = Math.max(this.lastMinuteAt, record.at);
        if (Object.keys(record.counts).length > 0) this.unpublished.set(record.at, record.counts);
        return;
      case 'published':
        this.unpublished.delete(record.at);
        return;
      case 'counts':
        this.activity.clear();
        for (const [name, [sent, received, deleted]] of Object.entries(record.counts)) this.activity.set(name, { sent, received, deleted });
        this.countsInLog = true;
        if (record.last !== undefined) this.lastMinuteAt = Math.max(this.lastMinuteAt, record.last);
        return;
      case 'dedup': {
        const q = this.queues.get(record.q);
        q?.dedup.set(record.key, { id: record.id, ...(record.seq !== undefined ? { seq: record.seq } : {}), at: record.at });
        return;
      }
    }
  }

  count(name: string): Activity {
    let a = this.activity.get(name);
    if (!a) this.activity.set(name, (a = { sent: 0, received: 0, deleted: 0 }));
    return a;
  }

  /** The queue whose ARN this is (redrive targets, ListDeadLetterSourceQueues). */
  byArn(arn: string): Queue | undefined {
    const name = arn.slice(arn.lastIndexOf(':') + 1);
    const q = this.queues.get(name);
    return q && this.options.arnOf(name) === arn ? q : undefined;
  }

  /**
   * Receives up to `max` messages at `now`: expired messages are deleted and messages past their queue's
   * maxReceiveCount are moved to its dead-letter queue on the way, as SQS does at receive time.
   */
  receive(q: Queue, now: number, max: number, visibilityMs: number, receipt: () => string): Message[] {
    const retentionMs = Number(q.data.attributes.MessageRetentionPeriod ?? 345_600) * 1000;
    const redrive = parseRedrivePolicy(q.data.attributes.RedrivePolicy);
    const dlq = redrive ? this.byArn(redrive.deadLetterTargetArn) : undefined;
    const out: Message[] = [];
    // A few rounds: messages expired or moved away make room for others.
    for (let round = 0; round < 10 && out.length < max; round++) {
      const candidates = q.receivable(now, max - out.length);
      if (candidates.length === 0) break;
      let skipped = 0;
      for (const m of candidates) {
        if (m.data.sentAt + retentionMs <= now) {
          this.commit({ t: 'del', q: q.data.name, id: m.data.id });
          skipped++;
        } else if (redrive && dlq && m.receives >= redrive.maxReceiveCount) {
          const seq = dlq.fifo ? String(dlq.nextSeq).padStart(20, '0') : undefined;
          this.commit({ t: 'move', q: q.data.name, id: m.data.id, to: dlq.data.name, at: now, ...(seq !== undefined ? { seq } : {}) });
          skipped++;
        } else {
          this.commit({ t: 'recv', q: q.data.name, id: m.data.id, receipt: receipt(), visibleAt: now + visibilityMs, at: now });
          out.push(m);
        }
      }
      if (skipped === 0) break;
    }
    return out;
  }

  /** A FIFO queue's earlier message for this deduplication id, within the window. */
  duplicateOf(q: Queue, groupId: string | undefined, dedupId: string, now: number): { id: string; seq?: string } | undefined {
    const key = dedupKey(q, groupId, dedupId);
    const hit = q.dedup.get(key);
    if (!hit) return undefined;
    if (hit.at + DEDUP_WINDOW_MS <= now) {
      q.dedup.delete(key);
      return undefined;
    }
    return hit;
  }

  /** Whether `name` belongs to a queue deleted less than {@link NAME_REUSE_MS} ago. */
  deletedRecently(name: string, now: number): boolean {
    const at = this.dropped.get(name);
    return at !== undefined && at + NAME_REUSE_MS > now;
  }

  /** Forgets deduplication entries past the window and deleted names past theirs (a periodic pass). */
  pruneDedup(now: number): void {
    for (const [name, at] of this.dropped) if (at + NAME_REUSE_MS <= now) this.dropped.delete(name);
    for (const [key, a] of this.attempts) if (a.at + ATTEMPT_WINDOW_MS <= now) this.attempts.delete(key);
    for (const q of this.queues.values()) {
      for (const [key, entry] of q.dedup) if (entry.at + DEDUP_WINDOW_MS <= now) q.dedup.delete(key);
    }
  }

  /**
   * Records that rebuild the current state: what a compaction writes instead of the whole history. The state is
   * captured at the call, cheaply (a compaction does it on the event loop): the live messages as columns, no record
   * per message; the records are built as they are iterated, which may be later (a message's data is immutable).
   */
  snapshot(now: number): Iterable<QueueRecord> {
    const head: QueueRecord[] = [];
    for (const [q, at] of this.dropped) if (at + NAME_REUSE_MS > now) head.push({ t: 'drop', q, at });
    const queues = [...this.queues.values()].map((q) => ({ queue: q.data, messages: captureMessages(q), dedup: dedupRecords(q, now) }));
    const tail: QueueRecord[] = [];
    for (const [key, a] of this.attempts) {
      const cut = key.indexOf('\n');
      if (a.at + ATTEMPT_WINDOW_MS > now) tail.push({ t: 'attempt', q: key.slice(0, cut), attempt: key.slice(cut + 1), ids: a.ids, receipts: a.receipts, at: a.at });
    }
    // The AWS/SQS counts: minutes not known to be published, then the counts since the last minute.
    for (const [at, counts] of this.unpublished) tail.push({ t: 'minute', at, counts });
    if (this.countsInLog) tail.push({ t: 'counts', counts: this.minuteCounts(), ...(this.lastMinuteAt > 0 ? { last: this.lastMinuteAt } : {}) });
    return (function* () {
      yield* head;
      for (const q of queues) {
        yield { t: 'queue', queue: q.queue };
        yield* q.messages();
        yield* q.dedup;
      }
      yield* tail;
    })();
  }

  /** The counts since the last minute, per queue with any. */
  minuteCounts(): Record<string, MinuteCounts> {
    const counts: Record<string, MinuteCounts> = {};
    for (const [name, a] of this.activity) counts[name] = [a.sent, a.received, a.deleted];
    return counts;
  }

  /** A queue record with `change` applied (attributes, tags), stamped. */
  static changed(q: QueueData, change: Partial<QueueData>, now: number): QueueData {
    return { ...q, ...change, modifiedAt: now };
  }
}

/** DeduplicationScope `messageGroup` keys by group as well. */
function dedupKey(q: Queue, groupId: string | undefined, dedupId: string): string {
  return q.data.attributes.DeduplicationScope === 'messageGroup' ? `${groupId ?? ''}\u0000${dedupId}` : dedupId;
}

/** A queue's live messages as columns (their data, visible time, receive count, first receive, receipt): 'msg' records on demand. */
function captureMessages(q: Queue): () => Generator<QueueRecord> {
  const n = q.messages.size;
  const data = new Array<MessageData>(n);
  const visibleAt = new Float64Array(n);
  const receives = new Float64Array(n);
  const firstReceiveAt = new Float64Array(n);
  const receipts = new Array<string | undefined>(n);
  let i = 0;
  for (const m of q.messages.values()) {
    data[i] = m.data;
    visibleAt[i] = m.visibleAt;
    receives[i] = m.receives;
    firstReceiveAt[i] = m.firstReceiveAt ?? Number.NaN;
    receipts[i++] = m.receipt;
  }
  const name = q.data.name;
  return function* () {
    for (let j = 0; j < n; j++) {
      const record: { t: 'msg'; q: string; m: MessageData; visibleAt: number; receives: number; firstReceiveAt?: number; receipt?: string } = { t: 'msg', q: name, m: data[j]!, visibleAt: visibleAt[j]!, receives: receives[j]! };
      if (!Number.isNaN(firstReceiveAt[j])) record.firstReceiveAt = firstReceiveAt[j]!;
      if (receipts[j] !== undefined) record.receipt = receipts[j]!;
      yield record;
    }
  };
}

/** A FIFO queue's deduplication entries still in their window at `now`. */
function dedupRecords(q: Queue, now: number): QueueRecord[] {
  const out: QueueRecord[] = [];
  for (const [key, entry] of q.dedup) {
    if (entry.at + DEDUP_WINDOW_MS > now) out.push({ t: 'dedup', q: q.data.name, key, id: entry.id, ...(entry.seq !== undefined ? { seq: entry.seq } : {}), at: entry.at });
  }
  return out;
}
