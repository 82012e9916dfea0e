/**
 * What the queue log holds: every change to queues and messages as one record, applied in order. The engine changes
 * its state only by applying records (queues/engine.ts), so replaying the log after a restart rebuilds exactly the
 * state that was acknowledged. Times are epoch milliseconds; binary attribute values are base64.
 */
export interface StoredAttribute {
  readonly DataType: string;
  readonly StringValue?: string;
  /** base64 */
  readonly BinaryValue?: string;
}

/** A message as the log and the engine keep it. */
export interface MessageData {
  readonly id: string;
  readonly body: string;
  readonly md5Body: string;
  readonly attributes?: Readonly<Record<string, StoredAttribute>>;
  /** MessageSystemAttributes given by the sender (AWSTraceHeader). */
  readonly traceHeader?: string;
  readonly sentAt: number;
  readonly senderId: string;
  readonly groupId?: string;
  readonly dedupId?: string;
  /** FIFO: the queue's 20-digit sequence number. */
  readonly seq?: string;
  /** Set when redrive moved the message into a dead-letter queue. */
  readonly deadLetterSourceArn?: string;
}

export interface QueueData {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly modifiedAt: number;
  /** When PurgeQueue last ran (its 60-second rule). */
  readonly purgedAt?: number;
}

/** NumberOfMessagesSent, NumberOfMessagesReceived, NumberOfMessagesDeleted. */
export type MinuteCounts = readonly [sent: number, received: number, deleted: number];

export type QueueRecord =
  | { readonly t: 'queue'; readonly queue: QueueData }
  /** A queue deleted at `at` (its name is refused for 60 s; absent in logs written before that rule). */
  | { readonly t: 'drop'; readonly q: string; readonly at?: number }
  | { readonly t: 'send'; readonly q: string; readonly m: MessageData; readonly visibleAt: number }
  /** A whole message as a compaction writes it (with its receive history). */
  | { readonly t: 'msg'; readonly q: string; readonly m: MessageData; readonly visibleAt: number; readonly receives: number; readonly firstReceiveAt?: number; readonly receipt?: string }
  | { readonly t: 'recv'; readonly q: string; readonly id: string; readonly receipt: string; readonly visibleAt: number; readonly at: number }
  | { readonly t: 'vis'; readonly q: string; readonly id: string; readonly visibleAt: number }
  | { readonly t: 'del'; readonly q: string; readonly id: string }
  | { readonly t: 'move'; readonly q: string; readonly id: string; readonly to: string; readonly at: number; readonly seq?: string }
  | { readonly t: 'purge'; readonly q: string; readonly at: number }
  /** A FIFO receive's ReceiveRequestAttemptId and what it returned (a retry within 5 minutes gets the same). */
  | { readonly t: 'attempt'; readonly q: string; readonly attempt: string; readonly ids: readonly string[]; readonly receipts: readonly string[]; readonly at: number }
  /**
   * The AWS/SQS counts since the last such record (per queue: NumberOfMessagesSent, Received, Deleted), to be
   * published to the metric store with timestamp `at`; the counting starts again from zero (queue-minutes.ts).
   */
  | { readonly t: 'minute'; readonly at: number; readonly counts: Readonly<Record<string, MinuteCounts>> }
  /** The counts of the minute `at` are in the metric store. */
  | { readonly t: 'published'; readonly at: number }
  /**
   * The counts since the last minute record (a compaction writes them; an owner opening a log without them writes
   * empty ones): from this record on, a replay counts the records it applies. `last`: the last minute's time.
   */
  | { readonly t: 'counts'; readonly counts: Readonly<Record<string, MinuteCounts>>; readonly last?: number }
  /** A FIFO deduplication entry still in its window, as a compaction writes it. */
  | { readonly t: 'dedup'; readonly q: string; readonly key: string; readonly id: string; readonly seq?: string; readonly at: number };
