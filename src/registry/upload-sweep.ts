import { rm } from 'node:fs/promises';
import { keys } from '../state/keys.js';
import { parseUploadRecord } from '../state/records/registry.js';
import type { Store } from '../store/store.js';
import { listTempFiles, tempFilePath } from './blob-store.js';
import { rangePages } from '../store/range-pages.js';

export interface UploadSweepOptions {
  readonly store: Store;
  /** The registry directory (the one holding `uploads/`). */
  readonly dir: string;
  readonly now: () => number;
  /** How long a session may sit untouched. */
  readonly idleMs: number;
}

/**
 * Discard upload sessions untouched for longer than `idleMs` — the record first (compare-and-swap, so a
 * session some request touched meanwhile stays), then its file — and temporary files no session owns
 * that are as old (left by a crash, by a monolithic upload or manifest write that died). Needs nothing but
 * the Store, the directory and a clock, so that it can run in whichever server does the housekeeping.
 *
 * A session whose chunk was being written by a server that died keeps its `writing` claim (nobody may
 * append to it: the dead writer's bytes cannot be told apart from good ones) until this removes it; since a
 * live writer may be streaming one long chunk, a claimed session gets CLAIMED_IDLE_FACTOR idle times first.
 * Returns how many sessions and files it removed.
 */
/** How many idle times a session whose chunk is being written may sit before it is taken for abandoned. */
export const CLAIMED_IDLE_FACTOR = 24;

export async function sweepIdleUploads(options: UploadSweepOptions): Promise<number> {
  const { store, dir, idleMs } = options;
  const cutoff = options.now() - idleMs;
  // A claimed session may be streaming a long chunk right now (its touchedAt is the chunk's start): it gets
  // many times the idle time before it counts as left behind by a writer that died.
  const claimedCutoff = options.now() - CLAIMED_IDLE_FACTOR * idleMs;
  let removed = 0;
  const owned = new Set<string>();
  for await (const page of rangePages(store, keys.uploads(), 500)) {
    for (const entry of page) {
      const record = parseUploadRecord(entry.value, entry.key);
      if (record.touchedAt >= (record.writing !== undefined ? claimedCutoff : cutoff)) {
        owned.add(record.file);
        continue;
      }
      const { succeeded } = await store.txn([{ key: entry.key, modRevision: entry.modRevision }], [{ type: 'delete', key: entry.key }]);
      if (!succeeded) {
        owned.add(record.file);
        continue;
      }
      await rm(tempFilePath(dir, record.file), { force: true });
      removed++;
    }
  }
  // Sessions started after the listing above have files younger than the cutoff. A file's age is judged by
  // the clock that stamped it (the wall clock), not the injectable one that sessions' times come from.
  const fileCutoff = Date.now() - idleMs;
  for (const file of await listTempFiles(dir)) {
    if (owned.has(file.name) || file.mtimeMs >= fileCutoff) continue;
    await rm(file.path, { force: true });
    removed++;
  }
  return removed;
}
