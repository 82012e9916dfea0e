import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import { background } from '../process/background.js';
import type { Store } from '../store/store.js';
import { retentionCutoff } from './retention.js';
import { compactStream } from './storage/chunk-compaction.js';
import { purgeDeletedGroups, purgeDeletedStreams, removeOrphans } from './storage/chunk-purge.js';
import { expireStream, type SweepContext } from './storage/chunk-retention.js';
import { LogGroups } from './storage/groups.js';
import { LogStreams } from './storage/streams.js';

export interface LogSweepOptions {
  /** The Store the log service keeps its metadata in (later: a fenced Store, on the elected leader only). */
  readonly store: Store;
  /** The log directory (chunk files under `<dir>/logs`). */
  readonly dir: string;
  readonly now: () => number;
  readonly log: Logger;
  /** Between sweeps (default 5 minutes). */
  readonly intervalMs?: number;
  /** Chunk keys changed per Store transaction (default 100, under etcd's 128 operations per transaction). */
  readonly batch?: number;
  /** Files no key names are removed once older than this (default 10 minutes): a write may still be in flight. */
  readonly orphanGraceMs?: number;
}

export interface SweepResult {
  /** Events deleted because their group's retention had passed. */
  readonly expired: number;
  /** Events deleted because their stream or group was deleted. */
  readonly purged: number;
  /** Chunk files removed that no key named (crashed writes, replaced chunks). */
  readonly orphans: number;
  /** Small chunks merged away into larger ones. */
  readonly merged: number;
}

export interface LogSweep {
  /** One sweep now (tests; the timer calls it too). Sweeps never overlap. */
  runOnce(): Promise<SweepResult>;
  stop(): Promise<void>;
}

const NOTHING: SweepResult = { expired: 0, purged: 0, orphans: 0, merged: 0 };

/**
 * Deletes what the log service no longer needs, a batch of keys per Store transaction with a turn of the event
 * loop between batches: chunks past their group's retention (reads already hide their events, so this only
 * reclaims space), the streams and chunks of deleted groups and streams, and orphaned chunk files; and merges
 * runs of small chunks.
 *
 * It needs only the Store, the directory and a clock, and every change is a compare-and-swap, so any one
 * replica can run it (later, only the elected leader will).
 */
export function startLogSweep(options: LogSweepOptions): LogSweep {
  const { store, dir, log } = options;
  let stopped = false;
  let running: Promise<SweepResult> | undefined;
  const ctx: SweepContext = {
    store,
    dir,
    now: options.now,
    batch: options.batch ?? 100,
    pause: async () => {
      await yieldToEventLoop();
      return !stopped;
    },
  };
  const groups = new LogGroups(store);
  const streams = new LogStreams(store);

  async function sweep(): Promise<SweepResult> {
    let expired = 0;
    let merged = 0;
    const now = options.now();
    for (const group of await groups.all()) {
      const cutoff = group.retentionDays === null ? undefined : retentionCutoff(group.retentionDays, now);
      for (const stream of await streams.all(group.id)) {
        if (stopped) return { ...NOTHING, expired, merged };
        if (cutoff !== undefined) expired += await expireStream(ctx, stream, cutoff);
        // The record read before the expiry is enough: the merge's transaction reads the current one.
        merged += await compactStream(ctx, stream);
      }
    }
    await purgeDeletedGroups(ctx);
    const purged = await purgeDeletedStreams(ctx);
    const orphans = stopped ? 0 : await removeOrphans(ctx, options.orphanGraceMs ?? 600_000);
    if (expired || purged || orphans || merged) log.info({ expired, purged, orphans, merged }, 'log sweep');
    return { expired, purged, orphans, merged };
  }

  const runOnce = (): Promise<SweepResult> => {
    running ??= sweep()
      .catch((err: unknown) => {
        log.error({ err }, 'log sweep failed');
        return NOTHING;
      })
      .finally(() => (running = undefined));
    return running;
  };
  const timer = setInterval(() => void background(log, 'log sweep', runOnce), options.intervalMs ?? 300_000);
  timer.unref();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
