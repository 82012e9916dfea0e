/**
 * Concurrency helpers for the image store: one download per blob or layer however many pulls want it,
 * and a gate that lets pulls and mounts run together but keeps garbage collection to itself.
 */

interface Flight<T> {
  readonly promise: Promise<T>;
  readonly controller: AbortController;
  waiters: number;
}

/**
 * Runs at most one `work` per key at a time; callers arriving meanwhile share its result. A caller's
 * signal abandons only that caller's wait; the work itself is aborted when every caller has abandoned it,
 * and the last caller's rejection waits for the work to finish.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Flight<T>>();

  run(key: string, work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    let flight = this.flights.get(key);
    if (!flight) {
      const controller = new AbortController();
      const started: Flight<T> = {
        promise: work(controller.signal).finally(() => {
          if (this.flights.get(key) === started) this.flights.delete(key);
        }),
        controller,
        waiters: 0,
      };
      flight = started;
      this.flights.set(key, flight);
    }
    return this.wait(flight, signal);
  }

  private wait(flight: Flight<T>, signal: AbortSignal | undefined): Promise<T> {
    flight.waiters++;
    if (!signal) return flight.promise;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (--flight.waiters > 0) return reject(signal.reason);
        // The last waiter stops the work, and hears back only once it has wound down (temp files gone).
        flight.controller.abort(signal.reason);
        flight.promise.then(
          () => reject(signal.reason),
          () => reject(signal.reason),
        );
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }
}

/**
 * A readers-writer gate: any number of shared sections (pulls, mounts) at once, or one exclusive section
 * (pruning) alone. A waiting exclusive section holds back new shared ones, so pruning cannot starve.
 */
export class Gate {
  private shared = 0;
  private exclusive: Promise<void> | undefined;
  private drained: (() => void)[] = [];

  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    this.shared++;
    try {
      return await fn();
    } finally {
      if (--this.shared === 0) for (const wake of this.drained.splice(0)) wake();
    }
  }

  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.exclusive) await this.exclusive;
    let release!: () => void;
    this.exclusive = new Promise<void>((r) => (release = r));
    try {
      while (this.shared > 0) await new Promise<void>((r) => this.drained.push(r));
      return await fn();
    } finally {
      this.exclusive = undefined;
      release();
    }
  }
}
