import type { InputLogEvent, RejectedLogEventsInfo } from '@aws-sdk/client-cloudwatch-logs';
import { invalidParameter } from '../model/errors.js';
import { logLimits } from '../model/log-limits.js';
import { retentionCutoff } from './retention.js';

export interface CheckedBatch {
  /** The events to store: the batch less those rejected at either end. */
  readonly accepted: readonly { timestamp: number; message: string }[];
  readonly rejected?: RejectedLogEventsInfo;
  /** UTF-8 bytes of the accepted messages. */
  readonly bytes: number;
}

/**
 * PutLogEvents' rules for one batch. A batch out of chronological order, over 10,000 events, over
 * 1,048,576 bytes (messages plus 26 bytes each) or with an event over 256 KiB is refused whole
 * (InvalidParameterException). Events too far in the past (14 days, or the group's retention) or the
 * future (2 hours) are dropped and reported by index, as CloudWatch Logs does; the rest are kept.
 */
export function checkBatch(events: readonly InputLogEvent[], now: number, retentionDays: number | null): CheckedBatch {
  if (events.length > logLimits.maxBatchEvents) {
    throw invalidParameter(`A batch can hold at most ${logLimits.maxBatchEvents} log events.`);
  }
  let total = 0;
  const sizes = events.map((e, i) => {
    const bytes = Buffer.byteLength(e.message!, 'utf8');
    const size = bytes + logLimits.eventOverheadBytes;
    if (size > logLimits.maxEventBytes) {
      throw invalidParameter(`Log event too large: logEvents[${i}] is ${size} bytes, exceeding the limit of ${logLimits.maxEventBytes}.`);
    }
    if (i > 0 && e.timestamp! < events[i - 1]!.timestamp!) {
      throw invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
    }
    total += size;
    return bytes;
  });
  if (total > logLimits.maxBatchBytes) {
    throw invalidParameter(`Upload too large: ${total} bytes exceeds limit of ${logLimits.maxBatchBytes}.`);
  }

  // Chronological order makes each rejected group a run at one end of the batch.
  const lastIndexBelow = (cutoff: number) => {
    let i = -1;
    while (i + 1 < events.length && events[i + 1]!.timestamp! < cutoff) i++;
    return i;
  };
  const tooOld = lastIndexBelow(now - logLimits.maxAgeMs);
  const expired = lastIndexBelow(retentionCutoff(retentionDays, now));
  let tooNew = events.length;
  while (tooNew > 0 && events[tooNew - 1]!.timestamp! > now + logLimits.maxAheadMs) tooNew--;

  const first = Math.max(tooOld, expired) + 1;
  const accepted: { timestamp: number; message: string }[] = [];
  let bytes = 0;
  for (let i = first; i < tooNew; i++) {
    accepted.push({ timestamp: events[i]!.timestamp!, message: events[i]!.message! });
    bytes += sizes[i]!;
  }
  const rejected: RejectedLogEventsInfo = {
    ...(tooNew < events.length ? { tooNewLogEventStartIndex: tooNew } : {}),
    ...(tooOld >= 0 ? { tooOldLogEventEndIndex: tooOld } : {}),
    ...(expired >= 0 ? { expiredLogEventEndIndex: expired } : {}),
  };
  return { accepted, bytes, ...(Object.keys(rejected).length ? { rejected } : {}) };
}
