import type { Logger } from 'pino';
import { background } from '../process/background.js';

export interface Schedule {
  /** Stop the schedule and wait for a run in progress to finish. */
  stop(): Promise<void>;
}

/** Run `fn` every `intervalMs` (the first time one interval from now), one run at a time, logging failures. */
export function every(intervalMs: number, fn: () => Promise<unknown>, log: Logger, what: string): Schedule {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    running = background(log, what, fn).finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
