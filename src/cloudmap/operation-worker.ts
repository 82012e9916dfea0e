/**
 * The leader's Cloud Map operations worker (a leader duty: one replica at a time, writing through the term's fenced
 * store). Each pass takes every submitted namespace operation SUBMITTED → PENDING → SUCCESS/FAIL (operations.ts);
 * another pass, less often, forgets finished operations past their retention.
 *
 *   every intervalMs ── cloudmap/pending-operations/ ──▶ each: markPending, runOperation
 *   every pruneEveryMs ── cloudmap/operations/ ──▶ finished and older than retentionMs: deleted
 *
 * Any replica may also run an operation itself (ECS does for the namespaces it makes): each step is a
 * compare-and-swap on the operation's record, so the work is done once whoever comes first.
 */
import type { Logger } from 'pino';
import { startPeriodic } from '../process/periodic.js';
import type { Store } from '../store/store.js';
import { markPending, OPERATION_RETENTION_MS, pendingOperationIds, pruneOperations, runOperation } from './operations.js';

export interface OperationWorkerOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** Between passes over the submitted operations (default 200 ms: the namespace appears within it). */
  readonly intervalMs?: number;
  readonly pruneEveryMs?: number;
  readonly retentionMs?: number;
}

/** One pass over the submitted operations; how many finished. */
export async function runSubmittedOperations(store: Store, now: () => number): Promise<number> {
  let finished = 0;
  for (const id of await pendingOperationIds(store)) {
    await markPending(store, now, id);
    if (await runOperation(store, now, id)) finished++;
  }
  return finished;
}

export function startOperationWorker(options: OperationWorkerOptions): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  const runs = startPeriodic({ log: options.log, what: 'cloud map operations', intervalMs: options.intervalMs ?? 200, run: () => runSubmittedOperations(options.store, now) });
  const prunes = startPeriodic({
    log: options.log,
    what: 'cloud map operation pruning',
    intervalMs: options.pruneEveryMs ?? 10 * 60_000,
    run: async () => {
      const removed = await pruneOperations(options.store, now, options.retentionMs ?? OPERATION_RETENTION_MS);
      if (removed) options.log.info({ removed }, 'forgot Cloud Map operations past their retention');
    },
  });
  return {
    async stop() {
      await Promise.all([runs.stop(), prunes.stop()]);
    },
  };
}
