/**
 * Group commit with the fsync off the event loop: callers that arrive while a commit's sync is in flight wait, and
 * what they added is written in the next transaction with everything else that arrived meanwhile; each caller is
 * answered once a sync that *started after its commit* has finished, so what it added is on disk when it hears so.
 *
 *   idle ──add──▶ scheduled ──next turn: commit()──▶ syncing ──sync done──▶ between ──ready──▶ idle, or scheduled if callers wait
 *                     ▲                                                                                  │
 *                     └──────────────────────────── callers added meanwhile only wait ◀──────────────────┘
 *
 * The caller has already put its data where `commit` writes it from (the metric store folds a request into its
 * rows in memory before it waits here), so the waiting list holds no data, only who to answer: what a request
 * brought dies young instead of surviving, and being copied by, every garbage collection until its commit.
 *
 * Why: SQLite's own fsync (synchronous=FULL) blocks the event loop for the whole flush of the write-ahead log,
 * and a transaction per event-loop turn rewrites the same rows once per turn; here the commit is written without
 * its fsync, the fsync runs on libuv's thread pool while requests keep being decoded and folded, and the next
 * transaction writes every row they touched once.
 */
export interface GroupCommitOptions {
  /** Writes what the `waiting` callers added, in one transaction, synchronously; throwing refuses them all. */
  readonly commit: (waiting: number) => void;
  /** Makes what `commit` wrote durable and calls back; absent when a commit is durable by itself. */
  readonly sync?: (done: (error: Error | null) => void) => void;
  /**
   * Upkeep between two commits, after the callers of the last are answered (the store's WAL checkpoint): the next
   * commit starts once it calls `ready`. What callers add meanwhile is folded and waits, as during a sync.
   */
  readonly between?: (ready: () => void) => void;
}

interface Waiting {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit {
  private waiting: Waiting[] = [];
  private state: 'idle' | 'scheduled' | 'syncing' | 'between' = 'idle';

  constructor(private readonly options: GroupCommitOptions) {}

  /** Resolves once what the caller added is committed and durable (with whatever else was added meanwhile). */
  add(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.schedule();
    });
  }

  /** Refuses every caller not committed yet (what they added was lost before its commit). */
  abandon(error: unknown): void {
    const lost = this.waiting;
    this.waiting = [];
    for (const w of lost) w.reject(error);
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
    if (batch.length === 0) {
      this.state = 'idle';
      return;
    }
    try {
      this.options.commit(batch.length);
    } catch (error) {
      for (const w of batch) w.reject(error);
      this.state = 'idle';
      this.schedule();
      return;
    }
    const { sync } = this.options;
    if (!sync) {
      for (const w of batch) w.resolve();
      this.next();
      return;
    }
    this.state = 'syncing';
    sync((error) => {
      for (const w of batch) {
        if (error) w.reject(error);
        else w.resolve();
      }
      this.next();
    });
  }

  /** After a commit: the upkeep, if any, then the next commit. */
  private next(): void {
    const { between } = this.options;
    if (!between) {
      this.state = 'idle';
      this.schedule();
      return;
    }
    this.state = 'between';
    let called = false;
    between(() => {
      if (called) return;
      called = true;
      this.state = 'idle';
      this.schedule();
    });
  }
}
