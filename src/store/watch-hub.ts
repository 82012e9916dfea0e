import { CompactedError, type Watch, type WatchEvent, type WatchListener } from './store.js';

/** The changes of one committed transaction. */
export interface Batch {
  readonly revision: number;
  readonly events: readonly WatchEvent[];
}

/** Reads committed batches with `from ≤ revision ≤ to` from a backend's durable history. */
export type HistoryReader = (from: number, to: number) => Batch[];

interface Subscriber {
  readonly prefix: string;
  readonly listener: WatchListener;
  queue: WatchEvent[][];
  scheduled: boolean;
  closed: boolean;
}

/**
 * Fans committed changes out to watchers, shared by the in-process backends. Keeps the most recent
 * `historyLimit` batches in memory; a watch that starts further back reads the backend's durable history
 * through `readOlder`. A watch from a compacted revision fails with CompactedError.
 *
 * Delivery is asynchronous (a microtask per subscriber) so a listener never runs inside a commit, and in
 * revision order per subscriber.
 */
export class WatchHub {
  private readonly recent: Batch[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private lastRevision = 0;
  /** History at or below this revision is gone. */
  private compactedThrough = 0;

  constructor(
    private readonly historyLimit: number,
    private readonly readOlder?: HistoryReader,
  ) {}

  /** Record a commit and deliver it. Revisions must be published in increasing order. */
  publish(revision: number, events: readonly WatchEvent[]): void {
    this.lastRevision = revision;
    this.recent.push({ revision, events });
    if (this.recent.length > this.historyLimit) {
      const dropped = this.recent.splice(0, this.recent.length - this.historyLimit);
      // Without durable history, what falls out of memory is compacted.
      if (!this.readOlder) this.compactedThrough = dropped.at(-1)!.revision;
    }
    for (const sub of this.subscribers) this.enqueue(sub, events);
  }

  /** Tell the hub the store's revision when it opens with existing data. */
  resume(revision: number, compactedThrough: number): void {
    this.lastRevision = revision;
    this.compactedThrough = compactedThrough;
  }

  /** Forget history at or below `revision`. */
  compact(revision: number): void {
    this.compactedThrough = Math.max(this.compactedThrough, Math.min(revision, this.lastRevision));
    const keep = this.recent.findIndex((b) => b.revision > this.compactedThrough);
    this.recent.splice(0, keep === -1 ? this.recent.length : keep);
  }

  subscribe(prefix: string, fromRevision: number, listener: WatchListener): Watch {
    const sub: Subscriber = { prefix, listener, queue: [], scheduled: false, closed: false };
    let backlog: Batch[];
    try {
      backlog = this.history(Math.max(1, fromRevision));
    } catch (error) {
      queueMicrotask(() => listener.onError(error as Error));
      return { close: () => {} };
    }
    for (const batch of backlog) this.enqueue(sub, batch.events);
    this.subscribers.add(sub);
    return {
      close: () => {
        sub.closed = true;
        this.subscribers.delete(sub);
      },
    };
  }

  closeAll(): void {
    for (const sub of this.subscribers) {
      sub.closed = true;
      queueMicrotask(() => sub.listener.onError(new Error('store closed')));
    }
    this.subscribers.clear();
  }

  private history(from: number): Batch[] {
    if (from <= this.compactedThrough) throw new CompactedError(from, this.compactedThrough);
    if (from > this.lastRevision) return [];
    const firstRecent = this.recent[0]?.revision ?? this.lastRevision + 1;
    if (from >= firstRecent) return this.recent.filter((b) => b.revision >= from);
    if (!this.readOlder) throw new CompactedError(from, firstRecent - 1);
    return [...this.readOlder(from, firstRecent - 1), ...this.recent];
  }

  private enqueue(sub: Subscriber, events: readonly WatchEvent[]): void {
    const mine = events.filter((e) => (e.type === 'put' ? e.entry.key : e.key).startsWith(sub.prefix));
    if (mine.length === 0) return;
    sub.queue.push(mine);
    if (sub.scheduled) return;
    sub.scheduled = true;
    queueMicrotask(() => this.flush(sub));
  }

  private flush(sub: Subscriber): void {
    sub.scheduled = false;
    if (sub.closed) return;
    const events = sub.queue.flat();
    sub.queue = [];
    try {
      sub.listener.onEvents(events);
    } catch (error) {
      sub.closed = true;
      this.subscribers.delete(sub);
      sub.listener.onError(error as Error);
    }
  }
}
