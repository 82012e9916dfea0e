import type { MetricStore, Sample } from '../metrics/metric-store.js';
import type { QueueHost } from './queue-host.js';
import { countSamples, queueSamples, queueSeries } from './queue-metrics.js';
import type { MinuteCounts } from './records.js';

/**
 * The owner's AWS/SQS publication, once a minute (a second at a test's time scale), with counts that survive a
 * restart or a failover, neither lost nor counted twice:
 *
 *   counting (in memory, and in the log: a replay counts the records it applies)
 *     ──pass──▶ minute record {at, counts} in the log, synced (the counting starts again from zero)
 *     ──▶ the minute's datapoints put to the metric store (one transaction) ──▶ published record
 *
 * A crash (or a lost term) anywhere leaves either the counts in the log still to be recorded, or a minute record
 * without its published record: the next pass, in whichever process holds the queues then, looks for the minute's
 * NumberOfMessagesSent in the store and puts its counts only if they are not there. Minutes are stamped at the
 * start of their period, one period after the last at least, so a period holds at most one publication and that
 * look-up is exact. A minute recovered this way has its counts, not its gauges (those are read from the state,
 * which has moved on).
 */
export interface MinutePublication {
  readonly host: QueueHost;
  readonly metrics: MetricStore;
  /** A period under a minute: per-second datapoints, stamped at seconds. */
  readonly highRes: boolean;
}

export async function publishMinute({ host, metrics, highRes }: MinutePublication): Promise<void> {
  const { engine } = host;
  const step = highRes ? 1_000 : 60_000;
  for (const [at, counts] of [...engine.unpublished]) {
    if (!stored(metrics, at, counts, step)) {
      const samples: Sample[] = [];
      for (const [name, c] of Object.entries(counts)) samples.push(...countSamples(name, c, at, highRes));
      await metrics.put(samples);
    }
    engine.commit({ t: 'published', at });
  }
  if (engine.queues.size === 0) return;
  const now = host.now();
  const at = Math.max(Math.floor(now / step) * step, engine.lastMinuteAt + step);
  const counts: Record<string, MinuteCounts> = {};
  const samples: Sample[] = [];
  for (const [name, queue] of engine.queues) {
    const a = engine.activity.get(name);
    const c: MinuteCounts = a ? [a.sent, a.received, a.deleted] : [0, 0, 0];
    counts[name] = c;
    samples.push(...queueSamples(name, queue.counts(now), c, at, now, highRes));
  }
  engine.commit({ t: 'minute', at, counts });
  await host.durable();
  await metrics.put(samples);
  engine.commit({ t: 'published', at });
}

/** Whether the minute `at` is in the store: its puts are one transaction, so one of its datapoints tells. */
function stored(metrics: MetricStore, at: number, counts: Readonly<Record<string, MinuteCounts>>, step: number): boolean {
  const name = Object.keys(counts)[0];
  if (name === undefined) return true;
  const start = at / 1000;
  return metrics.query({ series: queueSeries(name, 'NumberOfMessagesSent'), start, end: start + step / 1000, period: step / 1000 }).some((p) => p.count > 0);
}
