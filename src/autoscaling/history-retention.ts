import type { BackgroundLog } from '../process/background.js';
import { startPeriodic } from '../process/periodic.js';
import { pruneHistories } from '../state/history-retention.js';
import type { Store } from '../store/store.js';

export interface HistoryRetentionOptions {
  /** The leader's (fenced) store: a deposed leader's pass writes nothing. */
  readonly store: Store;
  readonly now: () => number;
  readonly log: BackgroundLog & { debug?: (obj: object, msg: string) => void };
  /** Between passes (default an hour: the retentions are weeks, an hour late is nothing). */
  readonly intervalMs?: number;
  /** Node's timers unless a test drives them. */
  readonly setInterval?: typeof setInterval;
  readonly clearInterval?: typeof clearInterval;
}

/** The leader's pass over alarm history and scaling activities (items are written on any replica; one deletes). */
export function startHistoryRetention(options: HistoryRetentionOptions): { stop(): Promise<void> } {
  return startPeriodic({
    log: options.log,
    what: 'history retention',
    intervalMs: options.intervalMs ?? 3_600_000,
    ...(options.setInterval ? { setInterval: options.setInterval } : {}),
    ...(options.clearInterval ? { clearInterval: options.clearInterval } : {}),
    run: async () => {
      const pruned = await pruneHistories(options.store, options.now());
      if (pruned.alarmHistory > 0 || pruned.scalingActivities > 0) options.log.debug?.(pruned, 'history retention');
    },
  });
}
