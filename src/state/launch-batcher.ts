import { ServiceError } from '../model/errors.js';
import { StoreUnavailableError, type Store } from '../store/store.js';
import { transact, type Tx } from '../store/transact.js';
import { keys } from './keys.js';
import { parseRunTaskTokenRecord, RUN_TASK_TOKEN_TTL_MS, type RunTaskTokenRecord } from './records/run-task-tokens.js';
import { parseTaskRecord, type TaskRecord } from './records/tasks.js';
import { launchTasksInTx, type LaunchResult, type LaunchSpec, type TaskWriteContext } from './task-launch.js';

/** A RunTask's client token: the launch is recorded under it, and a launch already recorded is answered again. */
export interface Idempotency {
  readonly token: string;
  /** sha256 of the request without its token: the same token with other parameters is a conflict. */
  readonly fingerprint: string;
  /** Failures placement found before the launch, part of the answer a retry gets again. */
  readonly placementFailures: readonly { readonly arn: string; readonly reason: string }[];
}

/** A launch's outcome; `replayed` when a client token had already launched these tasks. */
export interface BatchedLaunchResult extends LaunchResult {
  readonly replayed: boolean;
}

/** Alike tasks and the instances chosen for them (repeats place several on one). */
export interface LaunchPart {
  readonly spec: LaunchSpec;
  readonly instanceIds: readonly string[];
}

interface Pending {
  /** One call's launches (a capacity provider strategy's providers each have one), committed together. */
  readonly parts: readonly LaunchPart[];
  readonly idempotency?: Idempotency;
  readonly resolve: (result: BatchedLaunchResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * What an earlier call with this client token launched, as it is now; ConflictException when the token came
 * with other parameters; undefined when the token is new (or older than a day).
 */
export async function replayedLaunch(
  tx: Pick<Tx, 'getRecord'>,
  ctx: TaskWriteContext,
  cluster: string,
  idempotency: Pick<Idempotency, 'token' | 'fingerprint'>,
): Promise<BatchedLaunchResult | undefined> {
  const seen = await tx.getRecord(parseRunTaskTokenRecord, keys.runTaskToken(cluster, idempotency.token));
  if (!seen || seen.expiresAt <= ctx.now()) return undefined;
  if (seen.fingerprint !== idempotency.fingerprint) {
    throw new ServiceError('ConflictException', 'The client token was already used for a RunTask request with other parameters.');
  }
  const created: TaskRecord[] = [];
  for (const id of seen.taskIds) {
    const record = await tx.getRecord(parseTaskRecord, keys.task(cluster, id));
    if (record) created.push(record);
  }
  return { created, failures: [...seen.failures], replayed: true };
}

/** In the caller's transaction: answer a known token again, or launch and record the launch under the token. */
async function launchOnce(ctx: TaskWriteContext, tx: Tx, p: Pick<Pending, 'parts' | 'idempotency'>): Promise<BatchedLaunchResult> {
  const idem = p.idempotency;
  const cluster = p.parts[0]?.spec.cluster ?? '';
  if (!idem) return { ...(await launchParts(ctx, tx, p.parts)), replayed: false };
  const replayed = await replayedLaunch(tx, ctx, cluster, idem);
  if (replayed) return replayed;
  const result = await launchParts(ctx, tx, p.parts);
  tx.putJson(keys.runTaskToken(cluster, idem.token), {
    fingerprint: idem.fingerprint,
    taskIds: result.created.map((t) => t.id),
    failures: [...result.failures, ...idem.placementFailures],
    expiresAt: ctx.now() + RUN_TASK_TOKEN_TTL_MS,
  } satisfies RunTaskTokenRecord);
  return { ...result, replayed: false };
}

async function launchParts(ctx: TaskWriteContext, tx: Tx, parts: readonly LaunchPart[]): Promise<LaunchResult> {
  const out: LaunchResult = { created: [], failures: [] };
  for (const part of parts) {
    const r = await launchTasksInTx(ctx, tx, part.spec, part.instanceIds);
    out.created.push(...r.created);
    out.failures.push(...r.failures);
  }
  return out;
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
    /**
     * Tasks per transaction at most, so one transaction stays modest — and within etcd's `--max-txn-ops`:
     * a task writes itself, its instance and perhaps a client token.
     */
    private readonly maxTasksPerCommit = 320,
  ) {}

  /**
   * Reserve and create the tasks on the chosen instances (repeats place several on one); resolves after the
   * commit. With a client token, a launch the token already made is answered instead of launching again.
   */
  launch(spec: LaunchSpec, instanceIds: readonly string[], idempotency?: Idempotency): Promise<BatchedLaunchResult> {
    return this.launchAll([{ spec, instanceIds }], idempotency);
  }

  /** Several launches of one call, committed together (and answered together to a retry with its token). */
  launchAll(parts: readonly LaunchPart[], idempotency?: Idempotency): Promise<BatchedLaunchResult> {
    return new Promise<BatchedLaunchResult>((resolve, reject) => {
      this.queue.push({ parts, ...(idempotency ? { idempotency } : {}), resolve, reject });
      this.next();
    });
  }

  /** The launches of the next commit: at least one, then as many as fit the task budget. */
  private takeBatch(): Pending[] {
    let tasks = 0;
    let n = 0;
    while (n < this.queue.length) {
      tasks += Math.max(1, this.queue[n]!.parts.reduce((a, p) => a + p.instanceIds.length + (p.spec.capacityProvider?.waiting ?? 0), 0));
      if (n > 0 && tasks > this.maxTasksPerCommit) break;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private next(): void {
    if (this.committing || this.queue.length === 0) return;
    this.committing = true;
    // Start on the next turn of the event loop, not now: requests that arrived together (read in the same
    // I/O phase, e.g. while the last commit's fsync held the loop) reach launch() first and share the commit.
    setImmediate(() => {
      const batch = this.takeBatch();
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
        const out: BatchedLaunchResult[] = [];
        for (const p of batch) out.push(await launchOnce(this.ctx, tx, p));
        return out;
      });
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      // A commit that may have been applied (etcd went away after the request was sent) is never run
      // again: re-running it would launch the same tasks twice. Its callers hear the store was unavailable;
      // a RunTask retried with its clientToken then finds what the commit did.
      if (batch.length === 1 || (error instanceof StoreUnavailableError && error.maybeCommitted)) {
        for (const p of batch) p.reject(error);
        return;
      }
      // One launch's failure (a corrupt record, a store error) must not fail the others: each on its own.
      await Promise.all(
        batch.map((p) =>
          transact(this.store, (tx) => launchOnce(this.ctx, tx, p)).then(p.resolve, p.reject),
        ),
      );
    }
  }
}
