import type { BackgroundLog } from '../process/background.js';
import { startPeriodic } from '../process/periodic.js';
import type { MetricStore } from './metric-store.js';

export interface MetricSweepOptions {
  readonly store: MetricStore;
  readonly log: BackgroundLog & { debug?: (obj: object, msg: string) => void };
  /** Between sweeps (default 10 minutes: the finest level keeps 3 hours, so minutes late is nothing). */
  readonly intervalMs?: number;
}

/** The leader's retention sweep of the metric store (one replica deletes; every replica reads the same file). */
export function startMetricSweep(options: MetricSweepOptions): { stop(): Promise<void> } {
  return startPeriodic({
    log: options.log,
    what: 'metric retention sweep',
    intervalMs: options.intervalMs ?? 600_000,
    run: async () => {
      const swept = options.store.sweep();
      if (swept.rows > 0 || swept.series > 0) options.log.debug?.(swept, 'metric retention sweep');
    },
  });
}
