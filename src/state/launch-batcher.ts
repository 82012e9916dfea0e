import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { launchTasksInTx, type LaunchResult, type LaunchSpec, type TaskWriteContext } from './task-launch.js';

interface Pending {
  readonly spec: LaunchSpec;
  readonly instanceIds: readonly string[];
  readonly resolve: (result: LaunchResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for launches (RunTask, StartTask): launches that arrive while a commit is under way wait for
 * it, then all go in the next transaction together — one commit, one fsync, one etcd round trip, for the
 * lot. An idle batcher commits on the next turn of the event loop, so a lone request waits for no timer.
 *
 * Why it is safe: each launch runs `launchTasksInTx` in the shared transaction in turn, and a transaction
 * reads its own pending writes, so the second launch sees the reservations the first added to an instance —
 * the same re-check as in separate transactions. The batch commits or retries as a whole (`transact`), and
 * every caller hears back only after the commit: each answer is as durable as before.
 *
 * Why it is needed: SQLite's fsync per commit runs on the event loop (better-sqlite3 is synchronous) and
 * costs milliseconds; with one transaction per RunTask it capped throughput at a few hundred tasks/s.
 */
export class LaunchBatcher {
  private readonly queue: Pending[] = [];
  private committing = false;

  constructor(
    private readonly store: Store,
    private readonly ctx: TaskWriteContext,
    /** Launches per transaction at most (each up to 10 tasks), so one transaction stays modest. */
    private readonly maxBatch = 32,
  ) {}

  /** Reserve and create the tasks on the chosen instances (repeats place several on one); resolves after the commit. */
  launch(spec: LaunchSpec, instanceIds: readonly string[]): Promise<LaunchResult> {
    return new Promise<LaunchResult>((resolve, reject) => {
      this.queue.push({ spec, instanceIds, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.committing || this.queue.length === 0) return;
    this.committing = true;
    // Start on the next turn of the event loop, not now: requests that arrived together (read in the same
    // I/O phase, e.g. while the last commit's fsync held the loop) reach launch() first and share the commit.
    setImmediate(() => {
      const batch = this.queue.splice(0, this.maxBatch);
      // commit() settles every launch of the batch itself and never rejects.
      void this.commit(batch).then(() => {
        this.committing = false;
        this.next();
      });
    });
  }

  private async commit(batch: readonly Pending[]): Promise<void> {
    try {
      const results = await transact(this.store, async (tx) => {
        const out: LaunchResult[] = [];
        for (const p of batch) out.push(await launchTasksInTx(this.ctx, tx, p.spec, p.instanceIds));
        return out;
      });
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One launch's failure (a corrupt record, a store error) must not fail the others: each on its own.
      await Promise.all(
        batch.map((p) =>
          transact(this.store, (tx) => launchTasksInTx(this.ctx, tx, p.spec, p.instanceIds)).then(p.resolve, p.reject),
        ),
      );
    }
  }
}
