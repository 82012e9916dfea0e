import { logLimits } from '../model/log-limits.js';

/**
 * How many events from the head of `events` one PutLogEvents call can carry: at most 10,000 events and
 * 1,048,576 bytes counting 26 bytes per event. Each event is already at most 256 KiB (the CRI assembler
 * splits longer lines), so a non-empty queue always yields at least one.
 */
export function batchSize(events: readonly { readonly message: string }[]): number {
  let bytes = 0;
  let n = 0;
  for (const e of events) {
    if (n === logLimits.maxBatchEvents) break;
    const size = Buffer.byteLength(e.message, 'utf8') + logLimits.eventOverheadBytes;
    if (bytes + size > logLimits.maxBatchBytes && n > 0) break;
    bytes += size;
    n++;
  }
  return n;
}

/**
 * Timestamps made non-decreasing, so a batch is in the chronological order PutLogEvents requires and a
 * reader following the stream by time never misses a line. Only a clock stepping back (or stdout and
 * stderr stamped out of order) moves a timestamp, and only up to the one before it.
 */
export function monotonic<T extends { readonly timestamp: number }>(events: readonly T[], floor: number): { events: T[]; last: number } {
  let last = floor;
  const out = events.map((e) => {
    last = Math.max(last, e.timestamp);
    return last === e.timestamp ? e : { ...e, timestamp: last };
  });
  return { events: out, last };
}
