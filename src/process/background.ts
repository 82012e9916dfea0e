/**
 * Fire-and-forget work, the one sanctioned way. A promise nobody awaits must never reject unobserved: under
 * the process policy (`policy.ts`) an unhandled rejection ends the process on purpose, so work started
 * "in the background" (record a session's health, push tasks to an agent, a periodic sweep) goes through
 * here, where a failure is logged with what was being done and where, and goes no further.
 */

/** The logger the helper needs (a pino Logger is one). */
export interface BackgroundLog {
  error(context: object, message: string): void;
}

/**
 * Run `work` without waiting for it. A failure (a rejection, or a synchronous throw) is logged as
 * `<what> failed` with `context` and the error; the returned promise always fulfils, so a caller that does
 * want to wait (a `stop()` draining work in flight) can await it without a try.
 */
export function background(log: BackgroundLog, what: string, work: () => Promise<unknown>, context: object = {}): Promise<void> {
  let running: Promise<unknown>;
  try {
    running = work();
  } catch (err) {
    running = Promise.reject(err);
  }
  return running.then(
    () => undefined,
    (err: unknown) => {
      try {
        log.error({ ...context, err }, `${what} failed`);
      } catch {
        // A logger that throws must not turn a logged failure into an unhandled rejection.
      }
    },
  );
}
