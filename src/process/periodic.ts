import { background, type BackgroundLog } from './background.js';

export interface PeriodicOptions {
  readonly log: BackgroundLog;
  /** What the pass does, for the failure log (`<what> failed`). */
  readonly what: string;
  readonly intervalMs: number;
  readonly run: () => Promise<unknown>;
  /** Node's timers unless a test drives time by hand. */
  readonly setInterval?: typeof setInterval;
  readonly clearInterval?: typeof clearInterval;
}

/**
 * A background pass every `intervalMs` (a leader's sweep, a purge): never two at once (a tick while one runs
 * is skipped), a failure logged through `background`, the timer not keeping the process alive. `stop()` ends
 * the ticks and waits for the pass in flight.
 */
export function startPeriodic(options: PeriodicOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = (options.setInterval ?? setInterval)(() => {
    running ??= background(options.log, options.what, options.run).finally(() => (running = undefined));
  }, options.intervalMs);
  timer.unref?.();
  return {
    async stop() {
      (options.clearInterval ?? clearInterval)(timer);
      await running;
    },
  };
}
