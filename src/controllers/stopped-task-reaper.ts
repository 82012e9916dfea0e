import type { Logger } from 'pino';
import { keys } from '../state/keys.js';
import type { TaskRecord } from '../state/records/tasks.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { parseTaskRecord } from '../state/records/tasks.js';

export interface StoppedTaskReaperOptions {
  readonly store: Store;
  readonly log: Logger;
  /** How long a STOPPED task stays describable (ECS: at least an hour). */
  readonly retentionMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** Forgets STOPPED tasks once they have been stopped for longer than the retention. */
export function startStoppedTaskReaper(options: StoppedTaskReaperOptions): { stop(): void; sweep(): Promise<number> } {
  const retentionMs = options.retentionMs ?? 60 * 60_000;
  const now = options.now ?? Date.now;
  const sweep = async () => {
    const { entries } = await options.store.range(keys.tasks());
    let removed = 0;
    for (const e of entries) {
      const r = parseTaskRecord(e.value, e.key);
      const stoppedAt = r.task.stoppedAt;
      if (r.task.lastStatus !== 'STOPPED' || stoppedAt === undefined || now() - stoppedAt * 1000 < retentionMs) continue;
      await transact(options.store, async (tx) => {
        const current = await tx.getRecord(parseTaskRecord, e.key);
        if (current?.task.lastStatus === 'STOPPED') tx.delete(e.key);
      });
      removed++;
    }
    if (removed) options.log.info({ removed }, 'forgot stopped tasks past their retention');
    return removed;
  };
  const timer = setInterval(() => {
    sweep().catch((err: unknown) => options.log.error({ err }, 'stopped-task sweep failed'));
  }, options.intervalMs ?? 5 * 60_000);
  timer.unref();
  return { stop: () => clearInterval(timer), sweep };
}
