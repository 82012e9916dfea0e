import type { Logger } from 'pino';
import type { ArnScope } from '../model/arn.js';
import { startPeriodic } from '../process/periodic.js';
import { place, type InstanceSnapshot } from '../scheduler/index.js';
import { capacityProviderKeys } from '../state/capacity-provider-keys.js';
import { activeGroupProvider, groupInstanceIds, liveGroupOf, storeReader } from '../state/capacity-providers.js';
import { CAPACITY_WAIT_MS, giveUpWaitingInTx, isWaiting, placeWaitingInTx } from '../state/capacity-waits.js';
import type { ClusterCache } from '../state/cluster-cache.js';
import { keys } from '../state/keys.js';
import { parseTaskRecord, type TaskRecord } from '../state/records/tasks.js';
import type { Store } from '../store/store.js';
import { readRecord, transact } from '../store/transact.js';

/**
 * The leader's pass over tasks waiting for capacity (state/capacity-waits.ts): each second, each waiting task —
 * oldest first — is placed on an instance of its provider's group that has room (an instance that registered, or
 * one whose tasks stopped), or stopped once it has waited ECS's 30 minutes — at once when its provider was deleted or
 * its Auto Scaling group is gone or being deleted, since no host will come. Everything it decides on is in the
 * store, so a new leader (or a restarted server) carries on where the last one was.
 */

export interface CapacityWaitsOptions {
  /** The term's fenced store. */
  readonly store: Store;
  readonly cache: Pick<ClusterCache, 'catchUp' | 'snapshot'>;
  readonly scope: ArnScope;
  readonly log: Logger;
  readonly now?: () => number;
  readonly intervalMs?: number;
  /** How long a task waits before it is stopped (default ECS's 30 minutes). */
  readonly waitMs?: number;
  /** Placement's tie-breaking randomness (tests fix it). */
  readonly random?: () => number;
}

export interface PassResult {
  readonly placed: number;
  readonly stopped: number;
  readonly waiting: number;
}

export function startCapacityWaits(options: CapacityWaitsOptions): { stop(): Promise<void>; pass(): Promise<PassResult> } {
  const now = options.now ?? Date.now;
  const waitMs = options.waitMs ?? CAPACITY_WAIT_MS;
  const random = options.random ?? Math.random;
  const ctx = { scope: options.scope, now };

  async function waitingTasks(): Promise<TaskRecord[]> {
    const { entries } = await options.store.range(capacityProviderKeys.waitingTasks());
    const out: TaskRecord[] = [];
    for (const e of entries) {
      const [cluster, id] = e.key.slice(capacityProviderKeys.waitingTasks().length).split('/');
      const record = cluster && id ? await readRecord(options.store, parseTaskRecord, keys.task(cluster, id)) : undefined;
      if (record && isWaiting(record)) out.push(record);
      // A task stopped meanwhile (StopTask, a service scaling in) or forgotten: its entry goes.
      else await options.store.txn([{ key: e.key, modRevision: e.modRevision }], [{ type: 'delete', key: e.key }]);
    }
    return out.sort((a, b) => a.waiting!.since - b.waiting!.since);
  }

  async function pass(): Promise<PassResult> {
    const result = { placed: 0, stopped: 0, waiting: 0 };
    const tasks = await waitingTasks();
    if (tasks.length === 0) return result;
    await options.cache.catchUp();
    const reader = storeReader(options.store);
    for (const record of tasks) {
      const w = record.waiting!;
      const provider = await activeGroupProvider(reader, w.capacityProvider);
      // Its provider deleted (INACTIVE), or its group gone or being deleted: no host will ever come, so it stops now
      // rather than after the wait, with the reason ECS gives a task its provider could not place.
      if (!provider || !(await liveGroupOf(reader, provider))) {
        if (await transact(options.store, (tx) => giveUpWaitingInTx(ctx, tx, record.cluster, record.id, 'EMPTY CAPACITY PROVIDER'))) result.stopped++;
        options.log.info({ task: record.task.taskArn, capacityProvider: w.capacityProvider }, 'stopped a task waiting on a capacity provider whose Auto Scaling group is gone');
        continue;
      }
      const ids = await groupInstanceIds(reader, provider);
      const instances: InstanceSnapshot[] = options.cache.snapshot(record.cluster, 'ec2').filter((s) => s.ec2InstanceId !== undefined && ids.has(s.ec2InstanceId));
      const plan = place(
        instances,
        { count: 1, needs: record.needs, group: record.task.group ?? '', constraints: w.constraints, strategies: w.strategies, requiredAttributes: w.requiredAttributes },
        random,
      );
      const chosen = plan.placements[0];
      if (chosen) {
        const outcome = await transact(options.store, (tx) => placeWaitingInTx(ctx, tx, record.cluster, record.id, chosen));
        if (outcome === 'placed') {
          result.placed++;
          options.log.info({ task: record.task.taskArn, instance: chosen, capacityProvider: w.capacityProvider }, 'placed a task that waited for capacity');
          // The next task sees this one's reservation.
          await options.cache.catchUp();
          continue;
        }
      }
      if (now() - w.since >= waitMs) {
        const reason = instances.length === 0 ? 'EMPTY CAPACITY PROVIDER' : (plan.failures[0]?.reason ?? 'EMPTY CAPACITY PROVIDER');
        if (await transact(options.store, (tx) => giveUpWaitingInTx(ctx, tx, record.cluster, record.id, reason))) result.stopped++;
        continue;
      }
      result.waiting++;
    }
    return result;
  }

  const periodic = startPeriodic({ log: options.log, what: 'capacity-wait pass', intervalMs: options.intervalMs ?? 1000, run: pass });
  return { stop: () => periodic.stop(), pass };
}
