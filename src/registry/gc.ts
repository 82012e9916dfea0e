import type { Logger } from 'pino';
import { parseDigest } from '../model/registry/names.js';
import { keys } from '../state/keys.js';
import type { BlobRecord, ManifestRecord, RepositoryRecord } from '../state/records/registry.js';
import type { Entry, Store } from '../store/store.js';
import type { BlobStore } from './blob-store.js';
import { purgeRepository } from './repositories.js';
import { sweepIdleUploads } from './upload-sweep.js';
import { readRecord } from '../store/transact.js';
import { parseBlobRecord, parseManifestRecord, parseRepositoryRecord } from '../state/records/registry.js';
import { rangePages } from '../store/range-pages.js';

export interface GcOptions {
  /** How long a blob stays condemned (unreferenced, unused) before it is deleted. */
  readonly graceMs: number;
  /** How long an upload session may sit idle. */
  readonly uploadIdleMs: number;
  readonly now: () => number;
  readonly log: Logger;
}

export interface GcReport {
  readonly condemned: number;
  readonly revived: number;
  readonly deleted: number;
  readonly bytesFreed: number;
  readonly strayFiles: number;
  readonly uploadsSwept: number;
  readonly repositoriesFinished: number;
}

/** A DeleteRepository that has not finished after this long was interrupted; collection finishes it. */
const STALE_DELETION_MS = 60_000;

/**
 * Online garbage collection of blobs no manifest references, in two phases so that it is safe against
 * pushes running at the same time:
 *
 * 1. A pass lists every manifest (the referenced set), then every blob record. An unreferenced blob is
 *    *condemned* (its record gets `condemnedAt`); a referenced condemned one is revived.
 * 2. A blob still condemned `graceMs` later (condemned no later than the revision at which this pass
 *    listed the manifests) and still unreferenced is deleted: its record and links in one transaction
 *    that holds only if the record is unchanged, then its file.
 *
 * Everything that starts to use a blob (a manifest push naming it, a mount, a HEAD or GET, an upload of
 * the same bytes) clears `condemnedAt` in its own transaction, i.e. writes the record: either that write
 * commits first and the deletion's compare fails, or the deletion commits first and the user's
 * transaction retries, finds no blob and fails cleanly (MANIFEST_BLOB_UNKNOWN, BLOB_UNKNOWN). A manifest
 * can therefore never be stored pointing at a deleted blob.
 *
 * All of this holds across server processes on several machines sharing the Store and the blob directory
 * (and with collection running in any of them): every decision is a Store transaction, and no lock is
 * shared. Files cannot race either: a blob's file is named by its record and a name is used once
 * (blob-placement.ts), so removing a deleted record's file never touches bytes that another process
 * placed meanwhile for a new record of the same digest — a push that lost to a deletion places its own
 * file under a new name.
 */
export class GarbageCollector {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly options: GcOptions,
  ) {}

  async collect(): Promise<GcReport> {
    const { now, graceMs } = this.options;
    const repositoriesFinished = await this.finishDeletions();
    const scanRevision = await this.store.revision();
    const referenced = new Set<string>();
    for await (const entry of this.all(keys.manifests())) {
      for (const digest of (parseManifestRecord(entry.value, entry.key)).blobs) referenced.add(digest);
    }
    const linksByDigest = new Map<string, string[]>();
    for await (const entry of this.all(keys.blobLinks())) {
      const digest = entry.key.slice(entry.key.lastIndexOf('@') + 1);
      linksByDigest.set(digest, [...(linksByDigest.get(digest) ?? []), entry.key]);
    }

    let condemned = 0;
    let revived = 0;
    let deleted = 0;
    let bytesFreed = 0;
    for await (const entry of this.all(keys.blobs())) {
      const digest = entry.key.slice(keys.blobs().length);
      const blob = parseBlobRecord(entry.value, entry.key);
      if (referenced.has(digest)) {
        if (blob.condemnedAt !== undefined && (await this.revive(entry))) revived++;
      } else if (blob.condemnedAt === undefined) {
        if (await this.condemn(entry)) condemned++;
      } else if (now() - blob.condemnedAt >= graceMs && entry.modRevision <= scanRevision) {
        if (await this.remove(entry, linksByDigest.get(digest) ?? [])) {
          deleted++;
          bytesFreed += blob.size;
        }
      }
    }
    const strayFiles = await this.removeStrayFiles();
    const uploadsSwept = await sweepIdleUploads({ store: this.store, dir: this.blobs.root, now, idleMs: this.options.uploadIdleMs });
    const report = { condemned, revived, deleted, bytesFreed, strayFiles, uploadsSwept, repositoriesFinished };
    this.options.log.info(report, 'registry garbage collection');
    return report;
  }

  private async *all(prefix: string): AsyncGenerator<Entry> {
    for await (const page of rangePages(this.store, prefix, 1000)) yield* page;
  }

  private async finishDeletions(): Promise<number> {
    let finished = 0;
    for await (const entry of this.all(keys.repositories())) {
      const record = parseRepositoryRecord(entry.value, entry.key);
      if (record.deleting !== undefined && this.options.now() - record.deleting > STALE_DELETION_MS) {
        await purgeRepository(this.store, record.name, { ifEmpty: false, now: this.options.now() });
        finished++;
      }
    }
    return finished;
  }

  private async condemn(entry: Entry): Promise<boolean> {
    const blob = parseBlobRecord(entry.value, entry.key);
    const value = JSON.stringify({ ...blob, condemnedAt: this.options.now() } satisfies BlobRecord);
    return (await this.store.txn([{ key: entry.key, modRevision: entry.modRevision }], [{ type: 'put', key: entry.key, value }])).succeeded;
  }

  private async revive(entry: Entry): Promise<boolean> {
    const { condemnedAt: _condemnedAt, ...alive } = parseBlobRecord(entry.value, entry.key);
    const value = JSON.stringify(alive);
    return (await this.store.txn([{ key: entry.key, modRevision: entry.modRevision }], [{ type: 'put', key: entry.key, value }])).succeeded;
  }

  private async remove(entry: Entry, links: readonly string[]): Promise<boolean> {
    const digest = parseDigest(entry.key.slice(keys.blobs().length));
    const { succeeded } = await this.store.txn(
      [{ key: entry.key, modRevision: entry.modRevision }],
      [{ type: 'delete', key: entry.key }, ...links.map((key) => ({ type: 'delete' as const, key }))],
    );
    // The file this record named; no later record can name it (blob-placement.ts), so no lock is needed.
    if (succeeded) await this.blobs.remove(digest, parseBlobRecord(entry.value, entry.key).file);
    return succeeded;
  }

  /**
   * Files no record names, older than the grace period: a crash between placing a file and recording it
   * (or after deleting its record), a refused push whose Store failed, the loser of two placements of
   * one blob that crashed before cleaning up. A name is never reused, so an unnamed file stays unnamed;
   * the age only spares a placement whose recording transaction is still under way.
   */
  private async removeStrayFiles(): Promise<number> {
    // A file's age is judged by the clock that stamped it (the wall clock), not the injectable one.
    const cutoff = Date.now() - this.options.graceMs;
    let removed = 0;
    for await (const file of this.blobs.files()) {
      if (file.mtimeMs >= cutoff) continue;
      const record = await readRecord(this.store, parseBlobRecord, keys.blob(file.digest.value));
      if (record && (record.file ?? file.digest.hex) === file.file) continue;
      await this.blobs.remove(file.digest, file.file);
      removed++;
    }
    return removed;
  }
}
