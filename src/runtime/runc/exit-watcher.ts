import { watch, type FSWatcher } from 'node:fs';

interface Waiter {
  readonly check: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  running: boolean;
  again: boolean;
}

/**
 * Waits for files named after containers to appear in one directory (conmon's --exit-dir). Each waiter's
 * check runs at once, on every inotify event naming its id, and every `recheckMs` besides: inotify can
 * drop events (queue overflow, a watch set up just after the file appeared), the periodic check cannot.
 * The watch and the timer exist only while someone waits, so an idle runtime keeps no handle open.
 */
export class ExitWatcher {
  private readonly waiters = new Map<string, Waiter>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string,
    private readonly recheckMs = 500,
  ) {}

  /** Resolves with the first defined result of `check` for `id`; rejects if `check` throws. */
  when<T>(id: string, check: () => Promise<T | undefined>): Promise<T> {
    if (this.waiters.has(id)) throw new Error(`already waiting for ${id}`);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = { check, resolve: resolve as (v: unknown) => void, reject, running: false, again: false };
      this.waiters.set(id, waiter);
      this.start();
      this.run(id, waiter);
    });
  }

  /** Stop watching; pending waits stay pending. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (!this.watcher) {
      try {
        this.watcher = watch(this.dir, (_event, name) => {
          const waiter = name ? this.waiters.get(name.toString()) : undefined;
          if (waiter) this.run(name!.toString(), waiter);
        });
        // Losing the watch (the directory removed, too many watches) leaves the periodic check.
        this.watcher.on('error', () => {
          this.watcher?.close();
          this.watcher = undefined;
        });
      } catch {
        this.watcher = undefined;
      }
    }
    this.timer ??= setInterval(() => {
      for (const [id, waiter] of this.waiters) this.run(id, waiter);
    }, this.recheckMs);
  }

  private run(id: string, waiter: Waiter): void {
    if (waiter.running) {
      waiter.again = true;
      return;
    }
    waiter.running = true;
    waiter.again = false;
    waiter.check().then(
      (result) => {
        waiter.running = false;
        if (result !== undefined) this.settle(id, () => waiter.resolve(result));
        else if (waiter.again) this.run(id, waiter);
      },
      (error: unknown) => {
        waiter.running = false;
        this.settle(id, () => waiter.reject(error));
      },
    );
  }

  private settle(id: string, done: () => void): void {
    this.waiters.delete(id);
    if (this.waiters.size === 0) this.close();
    done();
  }
}
