/**
 * Waiting for a refresh pass of the Service Connect proxy that began after the wait did: a task about to
 * start waits for one, so its service's configuration (read by that pass) is at least as new as the task.
 *
 *   wait() ──▶ waiter { needs pass N = started + 1 } ──▶ kick (a pass now, or right after the running one)
 *   pass N begins ─▶ … ─▶ succeeded(N) ──▶ waiters needing ≤ N resolve
 *                       └ failed: waiters keep waiting (the next pass may succeed) until their deadline
 */
import type { TimerHandle, Timers } from '../task-engine/timers.js';

interface Waiter {
  readonly pass: number;
  /** It asked for its pass to come at once. */
  readonly kicked: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: TimerHandle;
}

export class ProxyNotReadyError extends Error {
  override readonly name = 'ProxyNotReadyError';
}

export class PassGate {
  private started = 0;
  private waiters: Waiter[] = [];

  constructor(
    private readonly timers: Timers,
    /** Ask for a pass as soon as possible. */
    private readonly kick: () => void,
  ) {}

  /** A pass begins; its number. */
  begin(): number {
    return ++this.started;
  }

  /** Pass `n` read and applied everything. */
  succeeded(n: number): void {
    const done = this.waiters.filter((w) => w.pass <= n);
    this.waiters = this.waiters.filter((w) => w.pass > n);
    for (const w of done) {
      this.timers.clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** Whether someone asked for a pass (the proxy then runs the next one at once). */
  get waiting(): boolean {
    return this.waiters.some((w) => w.kicked);
  }

  /**
   * Resolves once a pass that begins after this call has succeeded; rejects after `timeoutMs`. With `kick`
   * (the default) that pass is asked for now; without, it is the proxy's next pass on its usual interval.
   */
  wait(timeoutMs: number, kick = true): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const pass = this.started + 1;
      const waiter: Waiter = {
        pass,
        kicked: kick,
        resolve,
        reject,
        timer: this.timers.setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new ProxyNotReadyError(`no Service Connect proxy refresh succeeded within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      if (kick) this.kick();
    });
  }

  /** Stopping: every waiter is told. */
  close(): void {
    for (const w of this.waiters) {
      this.timers.clearTimeout(w.timer);
      w.reject(new ProxyNotReadyError('the Service Connect proxy stopped'));
    }
    this.waiters = [];
  }
}
