/**
 * What a berth process does when a promise rejects with nobody listening, or an exception escapes to the
 * event loop: it logs the error and exits with {@link CRASH_EXIT_CODE}, on purpose.
 *
 * Why not carry on: such an error left some piece of state half-changed (a session whose sends stopped, a
 * controller whose loop died) and nothing will notice. A process that ends is noticed: berth runs under a
 * supervisor (systemd's `Restart=on-failure`, a container's restart policy, Kubernetes) that starts a clean
 * one, which rebuilds everything from the store and the agents' own state — the path every restart already
 * takes. Work meant to run unobserved goes through `background()` (background.ts), which never rejects.
 *
 * Installed by `berth server`, `berth agent` and `berth up` before they start anything.
 */

/** EX_SOFTWARE (sysexits.h): "an internal software error has been detected". Distinct from 1 (bad start-up). */
export const CRASH_EXIT_CODE = 70;

/** The logger the policy needs (a pino Logger is one; its default destination writes synchronously). */
export interface PolicyLog {
  fatal(context: object, message: string): void;
}

export interface ProcessPolicyOptions {
  readonly log: PolicyLog;
  /** The process to watch (default: this one); tests pass a stand-in. */
  readonly process?: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
}

/**
 * Install the policy: on `unhandledRejection` or `uncaughtException`, log at fatal level with the error
 * and exit with CRASH_EXIT_CODE. Returns a function that removes it (for tests).
 */
export function installProcessPolicy(options: ProcessPolicyOptions): () => void {
  const proc = options.process ?? process;
  let exiting = false;
  const die = (kind: string, err: unknown) => {
    if (exiting) return;
    exiting = true;
    try {
      options.log.fatal({ err, kind }, `${kind}: exiting with ${CRASH_EXIT_CODE} so that the supervisor restarts a clean process`);
    } finally {
      proc.exit(CRASH_EXIT_CODE);
    }
  };
  const onRejection = (reason: unknown) => die('unhandled promise rejection', reason);
  const onException = (error: Error) => die('uncaught exception', error);
  proc.on('unhandledRejection', onRejection);
  proc.on('uncaughtException', onException);
  return () => {
    proc.off('unhandledRejection', onRejection);
    proc.off('uncaughtException', onException);
  };
}
