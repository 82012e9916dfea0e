/**
 * Timers the task engine arms (SIGKILL due, startTimeout, cleanup, health checks), behind an interface so
 * the engine's tests drive time by hand (testing/manual-clock.ts) instead of waiting on the wall clock.
 */
export interface Timers {
  /** Call `fn` once, `ms` from now; the handle cancels it. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Opaque to callers: whatever the implementation returns. */
export type TimerHandle = { readonly __timer: true } | object;

/**
 * Node's timers. Unreferenced: a pending SIGKILL or cleanup never keeps a stopping process alive (the
 * agent stays up through its session; a restarted one re-arms every deadline from the saved times).
 */
export const systemTimers: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    if (handle) clearTimeout(handle as NodeJS.Timeout);
  },
};
