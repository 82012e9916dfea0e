import type { Logger } from 'pino';
import { startPeriodic } from '../process/periodic.js';
import type { TaskRecord } from '../state/records/tasks.js';
import type { Informer } from '../store/informer.js';
import type { Store } from '../store/store.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import { keys } from '../state/keys.js';
import { parseRunTaskTokenRecord } from '../state/records/run-task-tokens.js';

export interface StoppedTaskReaperOptions {
  readonly store: Store;
  /** The process's tasks informer (ClusterCache.tasks): candidates come from it, not from a scan of the store. */
  readonly tasks: Informer<TaskRecord>;
  readonly log: Logger;
  /** How long a STOPPED task stays describable (ECS: at least an hour). */
  readonly retentionMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/**
 * Forgets STOPPED tasks once they have been stopped for longer than the retention, and RunTask client tokens
 * older than a day. Candidates come from the
 * tasks informer; each deletion re-reads the task in its transaction, so a stale cache never deletes a task
 * that is not STOPPED.
 */
export function startStoppedTaskReaper(options: StoppedTaskReaperOptions): { stop(): Promise<void>; sweep(): Promise<number> } {
  const retentionMs = options.retentionMs ?? 60 * 60_000;
  const now = options.now ?? Date.now;
  const sweep = async () => {
    const due: string[] = [];
    for (const [key, { value: r }] of options.tasks.cache) {
      const stoppedAt = r.task.stoppedAt;
      if (r.task.lastStatus === 'STOPPED' && stoppedAt !== undefined && now() - stoppedAt * 1000 >= retentionMs) due.push(key);
    }
    let removed = 0;
    for (const key of due) {
      const deleted = await transact(options.store, async (tx) => {
        const current = await tx.getRecord(parseTaskRecord, key);
        if (current?.task.lastStatus !== 'STOPPED') return false;
        tx.delete(key);
        return true;
      });
      if (deleted) removed++;
    }
    if (removed) options.log.info({ removed }, 'forgot stopped tasks past their retention');
    await forgetExpiredTokens();
    return removed;
  };
  /** RunTask client tokens are remembered for a day (ECS's idempotency window), then forgotten here. */
  const forgetExpiredTokens = async () => {
    for await (const page of rangePages(options.store, keys.runTaskTokens(), 500)) {
      for (const e of page) {
        if (parseRunTaskTokenRecord(e.value, e.key).expiresAt > now()) continue;
        await options.store.txn([{ key: e.key, modRevision: e.modRevision }], [{ type: 'delete', key: e.key }]);
      }
    }
  };
  const periodic = startPeriodic({ log: options.log, what: 'stopped-task sweep', intervalMs: options.intervalMs ?? 5 * 60_000, run: sweep });
  return { stop: () => periodic.stop(), sweep };
}
