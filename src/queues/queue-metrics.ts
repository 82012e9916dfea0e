import { singleValueSample, type Sample } from '../metrics/metric-store.js';
import { seriesRef, type SeriesRef } from '../metrics/series.js';
import type { MinuteCounts } from './records.js';

/** One queue's figures at a minute's publication. */
export interface QueueFigures {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Epoch ms of the oldest message's send, when there is one. */
  readonly oldestSentAt?: number;
}

/** An `AWS/SQS` series of one queue (dimension QueueName). */
export const queueSeries = (name: string, metric: string): SeriesRef => seriesRef('AWS/SQS', metric, [{ Name: 'QueueName', Value: name }]);

/**
 * The `AWS/SQS` datapoints of one queue for one minute, as SQS publishes them (dimension QueueName): the gauges
 * ApproximateNumberOfMessagesVisible / NotVisible / Delayed and ApproximateAgeOfOldestMessage (seconds, at
 * `nowMs`), and the minute's NumberOfMessagesSent / Received / Deleted ({@link countSamples}), all stamped `atMs`.
 * Pure. `highRes` for a period under a minute (a test's time scale), so queries at that period find the datapoints.
 */
export function queueSamples(name: string, figures: QueueFigures, counts: MinuteCounts, atMs: number, nowMs: number, highRes = false): Sample[] {
  const sample = (metric: string, unit: string, value: number): Sample => singleValueSample(queueSeries(name, metric), unit, atMs, value, highRes);
  return [
    sample('ApproximateNumberOfMessagesVisible', 'Count', figures.visible),
    sample('ApproximateNumberOfMessagesNotVisible', 'Count', figures.inFlight),
    sample('ApproximateNumberOfMessagesDelayed', 'Count', figures.delayed),
    sample('ApproximateAgeOfOldestMessage', 'Seconds', figures.oldestSentAt === undefined ? 0 : Math.max(0, Math.floor((nowMs - figures.oldestSentAt) / 1000))),
    ...countSamples(name, counts, atMs, highRes),
  ];
}

/** A minute's NumberOfMessagesSent / Received / Deleted of one queue, stamped `atMs`. Pure. */
export function countSamples(name: string, [sent, received, deleted]: MinuteCounts, atMs: number, highRes = false): Sample[] {
  const sample = (metric: string, value: number): Sample => singleValueSample(queueSeries(name, metric), 'Count', atMs, value, highRes);
  return [sample('NumberOfMessagesSent', sent), sample('NumberOfMessagesReceived', received), sample('NumberOfMessagesDeleted', deleted)];
}
