import { singleValueSample, type Sample } from '../metrics/metric-store.js';
import { seriesRef } from '../metrics/series.js';
import type { Activity } from './engine.js';

/** One queue's figures at a minute's publication. */
export interface QueueFigures {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /** Epoch ms of the oldest message's send, when there is one. */
  readonly oldestSentAt?: number;
}

/**
 * The `AWS/SQS` datapoints of one queue for one minute, as SQS publishes them (dimension QueueName): the gauges
 * ApproximateNumberOfMessagesVisible / NotVisible / Delayed and ApproximateAgeOfOldestMessage (seconds), and the
 * minute's NumberOfMessagesSent / Received / Deleted. Pure. `highRes` for a period under a minute (a test's time
 * scale), so queries at that period find the datapoints.
 */
export function queueSamples(name: string, figures: QueueFigures, activity: Activity, atMs: number, highRes = false): Sample[] {
  const sample = (metric: string, unit: string, value: number): Sample =>
    singleValueSample(seriesRef('AWS/SQS', metric, [{ Name: 'QueueName', Value: name }]), unit, atMs, value, highRes);
  return [
    sample('ApproximateNumberOfMessagesVisible', 'Count', figures.visible),
    sample('ApproximateNumberOfMessagesNotVisible', 'Count', figures.inFlight),
    sample('ApproximateNumberOfMessagesDelayed', 'Count', figures.delayed),
    sample('ApproximateAgeOfOldestMessage', 'Seconds', figures.oldestSentAt === undefined ? 0 : Math.max(0, Math.floor((atMs - figures.oldestSentAt) / 1000))),
    sample('NumberOfMessagesSent', 'Count', activity.sent),
    sample('NumberOfMessagesReceived', 'Count', activity.received),
    sample('NumberOfMessagesDeleted', 'Count', activity.deleted),
  ];
}
