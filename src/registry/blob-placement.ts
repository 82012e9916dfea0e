import { RegistryError } from '../model/registry/errors.js';
import type { Digest } from '../model/registry/names.js';
import { keys } from '../state/keys.js';
import type { BlobRecord } from '../state/records/registry.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { parseBlobRecord } from '../state/records/registry.js';
import type { BlobRecords } from './blob-records.js';
import type { BlobStore } from './blob-store.js';

export interface PlacementContext {
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly records: BlobRecords;
  readonly now: () => number;
}

/** What a caller commits once the blob is there: its own records, in the same transaction as the blob's. */
export type BlobCommit<T> = (tx: Tx, blob: BlobRecord) => Promise<T>;

const needsFile = Symbol('needs a file');

/**
 * Make `digest`'s bytes available and commit `commit` with them, correct with any number of server
 * processes sharing the Store and the blob directory, and garbage collection running anywhere.
 *
 * - A live blob record means its file is in place: nothing is written; the transaction "uses" the record
 *   (clears a condemnation, see gc.ts), so it conflicts with a collection deleting it, and exactly one wins.
 * - Otherwise `place(file)` puts the bytes under a file name never used before, and one transaction
 *   creates the record naming it together with the caller's records. Two processes placing the same blob
 *   at once both place a file; one creates the record, the other's transaction retries, finds it, and
 *   removes its own file, which nothing names.
 *
 * Because names are never reused, no file removal (a collection deleting a record's file, a refused push
 * cleaning up after itself) can reach bytes that a record names or is about to name: that is what makes
 * this safe across machines, where no lock is shared. A transaction that fails with a refusal
 * (RegistryError) removes the file it placed; one whose outcome is unknown (the Store failed) leaves it to
 * garbage collection, which removes files no record names once they are older than its grace period.
 */
export async function placeAndRecord<T>(
  ctx: PlacementContext,
  digest: Digest,
  size: number,
  place: (file: string) => Promise<void>,
  commit: BlobCommit<T>,
): Promise<T> {
  const key = keys.blob(digest.value);
  let placed: string | undefined;
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (placed === undefined && !(await readRecord(ctx.store, parseBlobRecord, key))) {
        placed = ctx.blobs.newFileName(digest);
        await place(placed);
      }
      const file = placed;
      const result = await transact(ctx.store, async (tx) => {
        let blob = await ctx.records.use(tx, digest.value);
        if (!blob) {
          // Deleted since it was read: place a file after all.
          if (file === undefined) return needsFile;
          blob = { size, createdAt: ctx.now(), file } satisfies BlobRecord;
          tx.putJson(key, blob);
        }
        return { value: await commit(tx, blob), file: blob.file ?? digest.hex };
      });
      if (result === needsFile) continue;
      if (placed !== undefined && result.file !== placed) await ctx.blobs.remove(digest, placed);
      placed = undefined;
      return result.value;
    }
    throw new Error(`blob ${digest.value} kept disappearing while it was being recorded`);
  } catch (error) {
    if (placed !== undefined && error instanceof RegistryError) await ctx.blobs.remove(digest, placed);
    throw error;
  }
}
