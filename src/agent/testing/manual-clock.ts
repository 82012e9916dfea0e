import type { TimerHandle, Timers } from '../task-engine/timers.js';

/**
 * Time that moves only when a test says: `now()` for the engine's clock and {@link Timers} for its deadlines.
 * `advance(ms)` fires every timer that falls due, in order, with `now()` at each one's moment.
 */
export class ManualClock implements Timers {
  private current: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  readonly now = (): number => this.current;

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { at: this.current + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) this.pending.delete((handle as { id: number }).id);
  }

  /** Moments of the timers armed now, soonest first (ms from now). */
  armed(): number[] {
    return [...this.pending.values()].map((t) => t.at - this.current).sort((a, b) => a - b);
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      const next = [...this.pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!next) break;
      this.pending.delete(next[0]);
      this.current = Math.max(this.current, next[1].at);
      next[1].fn();
    }
    this.current = until;
  }
}
