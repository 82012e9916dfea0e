import { MinHeap } from './min-heap.js';
import type { MessageData, QueueData } from './records.js';

/**
 * One queue's messages and the order they become receivable in. Pure: times are passed in.
 *
 * A message's life (visibleAt decides; a standard queue's messages are independent, a FIFO queue's are held back
 * while an earlier message of their group is not visible):
 *
 *   sent ──(visibleAt > now: delayed)──▶ visible ──receive──▶ in flight (visibleAt = now + timeout)
 *                                          ▲                        │
 *                                          └── timeout passes, or ──┤──delete──▶ gone
 *                                              visibility set to 0  └──receives > maxReceiveCount at a receive──▶ dead-letter queue
 */
export interface Message {
  readonly data: MessageData;
  visibleAt: number;
  receives: number;
  firstReceiveAt?: number;
  /** The latest receive's handle part: only it deletes or changes the message's visibility. */
  receipt?: string;
}

export class Queue {
  readonly messages = new Map<string, Message>();
  /** Standard queues: messages by visibleAt; an entry whose visibleAt is no longer the message's is stale and skipped. */
  private readonly byTime = new MinHeap<{ message: Message; visibleAt: number }>();
  /** FIFO queues: each group's messages in send order. */
  private readonly groups = new Map<string, Message[]>();
  /** FIFO deduplication: key → the message it first admitted, kept 5 minutes. */
  readonly dedup = new Map<string, { id: string; seq?: string; at: number }>();
  nextSeq = 1n;
  data: QueueData;
  readonly fifo: boolean;

  constructor(data: QueueData) {
    this.data = data;
    this.fifo = data.attributes.FifoQueue === 'true';
  }

  add(message: Message): void {
    this.messages.set(message.data.id, message);
    if (message.data.seq !== undefined && BigInt(message.data.seq) >= this.nextSeq) this.nextSeq = BigInt(message.data.seq) + 1n;
    if (this.fifo) {
      const group = message.data.groupId ?? '';
      const list = this.groups.get(group);
      if (list) list.push(message);
      else this.groups.set(group, [message]);
    } else {
      this.byTime.push(message.visibleAt, { message, visibleAt: message.visibleAt });
    }
  }

  remove(id: string): Message | undefined {
    const message = this.messages.get(id);
    if (!message) return undefined;
    this.messages.delete(id);
    if (this.fifo) {
      const group = message.data.groupId ?? '';
      const list = this.groups.get(group);
      if (list) {
        const i = list.indexOf(message);
        if (i !== -1) list.splice(i, 1);
        if (list.length === 0) this.groups.delete(group);
      }
    }
    // Standard queues: the heap entry goes stale (the message is no longer in `messages`).
    return message;
  }

  setVisibleAt(message: Message, visibleAt: number): void {
    message.visibleAt = visibleAt;
    if (!this.fifo) this.byTime.push(visibleAt, { message, visibleAt });
  }

  /**
   * Up to `max` messages receivable at `now`, in the order they would be received: standard queues by the time
   * they became visible, FIFO queues group by group, each group from its head while its messages are visible.
   */
  receivable(now: number, max: number): Message[] {
    const out: Message[] = [];
    if (this.fifo) {
      for (const list of this.groups.values()) {
        for (const m of list) {
          if (m.visibleAt > now || out.length >= max) break;
          out.push(m);
        }
        if (out.length >= max) break;
      }
      return out;
    }
    const taken: { message: Message; visibleAt: number }[] = [];
    while (out.length < max) {
      const key = this.byTime.peekKey();
      if (key === undefined || key > now) break;
      const entry = this.byTime.pop()!;
      if (this.messages.get(entry.message.data.id) !== entry.message || entry.message.visibleAt !== entry.visibleAt) continue;
      out.push(entry.message);
      taken.push(entry);
    }
    // Not received after all (the caller decides): their entries return; a receive pushes new ones.
    for (const entry of taken) this.byTime.push(entry.visibleAt, entry);
    return out;
  }

  /** When the next message that is not receivable now may become so (a long poll's wake-up), if any. */
  nextVisibleAt(now: number): number | undefined {
    let next: number | undefined;
    if (this.fifo) {
      for (const list of this.groups.values()) {
        const head = list.find((m) => m.visibleAt > now);
        if (head && (next === undefined || head.visibleAt < next)) next = head.visibleAt;
      }
      return next;
    }
    // Drop stale entries from the top so the answer is a real message's time.
    for (;;) {
      const entry = this.byTime.peek();
      if (!entry) return undefined;
      if (this.messages.get(entry.message.data.id) === entry.message && entry.message.visibleAt === entry.visibleAt) return entry.visibleAt;
      this.byTime.pop();
    }
  }

  /** Approximate counts as GetQueueAttributes and the metrics report them. */
  counts(now: number): { visible: number; inFlight: number; delayed: number; oldestSentAt?: number } {
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    let oldestSentAt: number | undefined;
    for (const m of this.messages.values()) {
      if (m.visibleAt <= now) visible++;
      else if (m.receives > 0) inFlight++;
      else delayed++;
      if (oldestSentAt === undefined || m.data.sentAt < oldestSentAt) oldestSentAt = m.data.sentAt;
    }
    return { visible, inFlight, delayed, ...(oldestSentAt !== undefined ? { oldestSentAt } : {}) };
  }

  clear(): void {
    for (const id of [...this.messages.keys()]) this.remove(id);
  }
}
