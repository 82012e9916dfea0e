import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { background } from '../process/background.js';
import { retentionCutoff } from './retention.js';
import type { LogDatabase } from './storage/database.js';

export interface LogSweepOptions {
  readonly db: LogDatabase;
  readonly now: () => number;
  readonly log: Logger;
  /** Between sweeps (default 5 minutes). */
  readonly intervalMs?: number;
  /** Rows deleted per statement: small enough that requests keep flowing between chunks. */
  readonly chunk?: number;
}

export interface SweepResult {
  /** Events deleted because their group's retention had passed. */
  readonly expired: number;
  /** Events deleted because their stream or group was deleted. */
  readonly purged: number;
}

export interface LogSweep {
  /** One sweep now (tests; the timer calls it too). Sweeps never overlap. */
  runOnce(): Promise<SweepResult>;
  stop(): Promise<void>;
}

/**
 * Deletes what the log database no longer needs, in small chunks with a turn of the event loop between
 * them: events past their group's retention (reads already hide them, so this only reclaims space) and
 * events of deleted streams and groups.
 */
export function startLogSweep(options: LogSweepOptions): LogSweep {
  const { db, log } = options;
  const chunk = options.chunk ?? 5_000;
  let stopped = false;
  let running: Promise<SweepResult> | undefined;

  async function sweep(): Promise<SweepResult> {
    let expired = 0;
    let purged = 0;
    const now = options.now();
    for (const { id, retentionDays } of db.groups.retentions()) {
      const cutoff = retentionCutoff(retentionDays, now);
      for (const streamId of db.streams.idsOf(id)) {
        for (;;) {
          if (stopped) return { expired, purged };
          const done = db.transaction(() => {
            const { rows, bytes } = db.events.expire(streamId, cutoff, chunk);
            if (bytes > 0) db.streams.subtractBytes(streamId, bytes);
            return rows;
          });
          expired += done;
          if (done < chunk) break;
          await yieldToEventLoop();
        }
      }
    }
    for (;;) {
      if (stopped) break;
      const done = db.transaction(() => db.events.purgeDoomed(chunk));
      if (done === 0) break;
      purged += done;
      await yieldToEventLoop();
    }
    if (expired || purged) log.info({ expired, purged }, 'log sweep deleted events');
    return { expired, purged };
  }

  const runOnce = (): Promise<SweepResult> => {
    running ??= sweep()
      .catch((err: unknown) => {
        log.error({ err }, 'log sweep failed');
        return { expired: 0, purged: 0 };
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void background(log, 'log sweep', runOnce), options.intervalMs ?? 300_000);
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
