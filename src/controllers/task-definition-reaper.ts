import type { Logger } from 'pino';
import { keys } from '../state/keys.js';
import { adjustFamily, type TaskDefinitionRecord } from '../state/records/task-definitions.js';
import type { TaskRecord } from '../state/records/tasks.js';
import type { Store } from '../store/store.js';
import { Informer } from '../store/informer.js';
import { transact } from '../store/transact.js';
import { background } from '../process/background.js';
import { recordParser } from '../state/records/codec.js';
import { parseServiceRecord } from '../state/records/services.js';
import { parseTaskDefinitionRecord } from '../state/records/task-definitions.js';

export interface ReaperOptions {
  readonly store: Store;
  /** The process's tasks informer (ClusterCache.tasks): which task definitions running tasks use. */
  readonly tasks: Informer<TaskRecord>;
  readonly log: Logger;
  /** How often to re-check revisions awaiting deletion (tasks that held one back may have stopped). */
  readonly resyncMs?: number;
}

/** The fields of service records that show a task definition is still in use (services come later). */
interface ServiceFields {
  readonly taskDefinition?: string;
  readonly status?: string;
  readonly deployments?: readonly { readonly taskDefinition?: string }[];
  /** Task sets (EXTERNAL and CODE_DEPLOY controllers). */
  readonly taskSets?: readonly { readonly taskDefinition?: string }[];
  /** The deployment a circuit breaker would roll back to, kept after it drained. */
  readonly berth?: { readonly lastCompleted?: { readonly taskDefinition?: string } };
}

interface Deletion {
  readonly family: string;
  readonly revision: number;
}

const parseDeletion = recordParser<Deletion>('task definition deletion', { family: 'string', revision: 'number' });

/**
 * Finishes DeleteTaskDefinitions: a revision marked DELETE_IN_PROGRESS (and listed under
 * `taskdef-deletions/`) is removed for good once no running task and no live service uses it.
 * Level-triggered: any change to the deletion list, or a periodic resync, re-checks the whole list.
 */
export function startTaskDefinitionReaper(options: ReaperOptions): { stop(): Promise<void> } {
  const { store, tasks, log } = options;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const pass = async () => {
    const entries = [...deletions.cache];
    if (entries.length === 0) return;
    // Every task committed before the pass counts (tasks come from the cache, services from the store).
    await tasks.waitFor(await store.revision(), { timeoutMs: 10_000 });
    const inUse = await arnsInUse(store, tasks);
    for (const [deletionKey, { value: deletion }] of entries) {
      const { family, revision } = deletion;
      const key = keys.taskDefinition(family, revision);
      const deleted = await transact(store, async (tx) => {
        const current = await tx.getRecord(parseTaskDefinitionRecord, key);
        if (current && inUse.has(current.taskDefinition.taskDefinitionArn!)) return false;
        tx.delete(deletionKey);
        if (current?.taskDefinition.status !== 'DELETE_IN_PROGRESS') return false;
        tx.delete(key);
        await adjustFamily(tx, family, { total: -1 });
        return true;
      });
      if (deleted) log.info({ family, revision }, 'task definition deleted');
    }
  };

  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = background(log, 'task definition reaper pass', pass).finally(() => {
      running = undefined;
      if (again) {
        again = false;
        kick();
      }
    });
  };

  // Revisions marked for deletion; the informer re-lists and re-watches by itself after a watch error.
  const deletions = new Informer({
    store,
    prefix: keys.taskDefinitionDeletions(),
    parse: parseDeletion,
    onError: (err, failure) => log.warn({ err, ...failure }, `task definition deletions informer: ${failure.kind} failed`),
  });
  // The first list reports every pending deletion as added, which kicks the first pass.
  deletions.subscribe({ added: kick, updated: kick });
  deletions.start();
  const timer = setInterval(kick, options.resyncMs ?? 30_000);
  timer.unref();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      deletions.stop();
      await running;
    },
  };
}

/** Task definition ARNs referenced by tasks that have not stopped and by services that are not INACTIVE. */
async function arnsInUse(store: Store, tasks: Informer<TaskRecord>): Promise<Set<string>> {
  const inUse = new Set<string>();
  for (const { value: { task } } of tasks.cache.values()) {
    if (task.lastStatus !== 'STOPPED' && task.taskDefinitionArn) inUse.add(task.taskDefinitionArn);
  }
  const services = await store.range(keys.services());
  for (const e of services.entries) {
    const s = parseServiceRecord(e.value, e.key);
    if (s.status === 'INACTIVE') continue;
    if (s.taskDefinition) inUse.add(s.taskDefinition);
    if (s.berth?.lastCompleted?.taskDefinition) inUse.add(s.berth.lastCompleted.taskDefinition);
    for (const d of s.deployments ?? []) if (d.taskDefinition) inUse.add(d.taskDefinition);
    for (const t of s.taskSets ?? []) if (t.taskDefinition) inUse.add(t.taskDefinition);
  }
  return inUse;
}
