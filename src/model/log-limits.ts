/**
 * CloudWatch Logs' PutLogEvents quotas, shared by the log service (which enforces them) and the agent's
 * shipper (which packs batches to fit them). Sizes are UTF-8 bytes.
 */
export const logLimits = {
  /** Events in one PutLogEvents call. */
  maxBatchEvents: 10_000,
  /** One call's size: the sum of every message's bytes plus the per-event overhead. */
  maxBatchBytes: 1_048_576,
  /** What CloudWatch Logs counts for each event besides its message. */
  eventOverheadBytes: 26,
  /** One event, overhead included (256 KiB); the awslogs driver splits longer lines. */
  maxEventBytes: 262_144,
  /** The timestamps of one batch may span at most this long. */
  maxBatchSpanMs: 24 * 3_600_000,
  /** Events older than this are refused (reported in rejectedLogEventsInfo). */
  maxAgeMs: 14 * 24 * 3_600_000,
  /** Events further ahead of the server's clock than this are refused. */
  maxAheadMs: 2 * 3_600_000,
} as const;

/** The longest message one event may carry. */
export const maxMessageBytes = logLimits.maxEventBytes - logLimits.eventOverheadBytes;
