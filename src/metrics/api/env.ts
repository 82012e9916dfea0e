import type { MetricStore } from '../metric-store.js';

/** What the CloudWatch metrics operations need. */
export interface MetricsEnv {
  readonly store: MetricStore;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}
