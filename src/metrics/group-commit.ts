/**
 * Group commit with the fsync off the event loop: what is added while a commit's sync is in flight waits, and is
 * written in the next transaction with everything else that arrived meanwhile; each caller is answered once a
 * sync that *started after its commit* has finished, so an acknowledged item is on disk.
 *
 *   idle ──add──▶ scheduled ──next turn: commit(all waiting)──▶ syncing ──sync done──▶ idle, or scheduled if more waits
 *                     ▲                                                                      │
 *                     └──────────────────────── items added meanwhile only wait ◀────────────┘
 *
 * Why: SQLite's own fsync (synchronous=FULL) blocks the event loop for the whole flush of the write-ahead log,
 * and a transaction per event-loop turn rewrites the same rows once per turn; here the commit is written without
 * its fsync, the fsync runs on libuv's thread pool while requests keep being decoded and checked, and the next
 * transaction folds every request that arrived during it (rows touched by several requests are written once).
 */
export interface GroupCommitOptions<T> {
  /** Writes the items in one transaction, synchronously; throwing refuses them all. */
  readonly commit: (items: readonly T[]) => void;
  /** Makes what `commit` wrote durable and calls back; absent when a commit is durable by itself. */
  readonly sync?: (done: (error: Error | null) => void) => void;
}

interface Waiting<T> {
  readonly item: T;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<T> {
  private waiting: Waiting<T>[] = [];
  private state: 'idle' | 'scheduled' | 'syncing' = 'idle';

  constructor(private readonly options: GroupCommitOptions<T>) {}

  /** Resolves once `item` is committed and durable (with whatever else was waiting). */
  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.state !== 'idle' || this.waiting.length === 0) return;
    this.state = 'scheduled';
    // The next turn: requests decoded in this one join the transaction.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    try {
      this.options.commit(batch.map((w) => w.item));
    } catch (error) {
      for (const w of batch) w.reject(error);
      this.state = 'idle';
      this.schedule();
      return;
    }
    const { sync } = this.options;
    if (!sync) {
      for (const w of batch) w.resolve();
      this.state = 'idle';
      this.schedule();
      return;
    }
    this.state = 'syncing';
    sync((error) => {
      for (const w of batch) {
        if (error) w.reject(error);
        else w.resolve();
      }
      this.state = 'idle';
      this.schedule();
    });
  }
}
