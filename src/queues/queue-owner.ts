import type { Logger } from 'pino';
import type { MetricStore } from '../metrics/metric-store.js';
import { ServiceError } from '../model/errors.js';
import { startPeriodic } from '../process/periodic.js';
import { QueueHost, type QueueHostOptions } from './queue-host.js';
import type { QueueLogTerm } from './queue-log.js';
import { publishMinute } from './queue-minutes.js';

/**
 * Which process holds the queues: the log is written by one process at a time, so the queues are open in the only
 * replica (sqlite or memory store) for its whole life, and with etcd in the leader for its term (docs/queues.md).
 * Replicas that do not hold them pass SQS requests on to the one that does (queues/forward.ts).
 * While open, the owner publishes the AWS/SQS metrics each minute (queue-minutes.ts) and prunes FIFO deduplication
 * entries.
 *
 *   closed ──open (start, or a term begins)──▶ open ──close (stop, or the term ends)──▶ closed
 */
export interface QueueOwnerOptions extends QueueHostOptions {
  readonly log: Logger;
  readonly metrics?: MetricStore;
  /** Between AWS/SQS publications (default 60 s). */
  readonly metricsPeriodMs?: number;
}

export class QueueOwner {
  private host: QueueHost | undefined;
  private periodic: { stop(): Promise<void> } | undefined;

  constructor(private readonly options: QueueOwnerOptions) {}

  /** The open queues, or the error a request answers while this process does not hold them. */
  current(): QueueHost {
    if (!this.host) throw new ServiceError('ServiceUnavailable', 'The queues are served by the leader replica; retry the request.');
    return this.host;
  }

  /** Whether this process holds the queues now. */
  held(): boolean {
    return this.host !== undefined;
  }

  /** Opens the queues: for good (the only replica), or for a leader's `term`, which fences the log (queue-log.ts). */
  open(term?: QueueLogTerm): void {
    if (this.host) return;
    const started = Date.now();
    const host = (this.host = new QueueHost({ ...this.options, ...(term ? { term } : {}) }));
    this.options.log.info({ queues: host.engine.queues.size, ms: Date.now() - started }, 'queues opened');
    // From here on the log keeps the AWS/SQS counts (a log written before they were kept starts counting now).
    if (!host.engine.countsInLog) host.engine.commit({ t: 'counts', counts: {} });
    const { metrics } = this.options;
    const highRes = (this.options.metricsPeriodMs ?? 60_000) < 60_000;
    this.periodic = startPeriodic({
      log: this.options.log,
      what: 'publishing AWS/SQS metrics',
      intervalMs: this.options.metricsPeriodMs ?? 60_000,
      run: async () => {
        host.engine.pruneDedup(host.now());
        if (metrics) await publishMinute({ host, metrics, highRes });
      },
    });
  }

  async close(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    await this.periodic?.stop();
    this.periodic = undefined;
    host?.close();
  }
}
