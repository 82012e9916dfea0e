import { RegistryError } from '../model/registry/errors.js';
import { keys } from '../state/keys.js';
import type { BlobLinkRecord, BlobRecord } from '../state/records/registry.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { requireRepository } from './repositories.js';
import { parseBlobLinkRecord, parseBlobRecord } from '../state/records/registry.js';

/** A blob as a repository sees it. */
export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
  /** Its file's name (BlobStore.pathOf). */
  readonly file?: string | undefined;
}

export const blobUnknown = (digest: string) => new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });

/**
 * The Store's view of blobs: which exist (`registry/blobs/<digest>`) and which repositories may use them
 * (`registry/links/<repo>@<digest>`). Anything that starts relying on a blob again clears a garbage
 * collector's condemnation in the same transaction, so collection and use never both win.
 */
export class BlobRecords {
  constructor(
    private readonly store: Store,
    private readonly now: () => number,
  ) {}

  /** Inside the transaction that records an upload (see placeAndRecord): link the blob into `repo`. */
  async linkUpload(tx: Tx, repo: string, digest: string, size: number): Promise<void> {
    await requireRepository(tx, repo);
    await this.link(tx, repo, digest, size);
  }

  /** Link `digest` from repository `from` into `repo`; undefined when `from` does not have it. */
  async mount(repo: string, from: string, digest: string): Promise<BlobInfo | undefined> {
    return transact(this.store, async (tx) => {
      await requireRepository(tx, repo);
      const source = await tx.getRecord(parseBlobLinkRecord, keys.blobLink(from, digest));
      const blob = source && (await this.use(tx, digest));
      if (!blob) return undefined;
      await this.link(tx, repo, digest, blob.size);
      return { digest, size: blob.size };
    });
  }

  /** The blob if `repo` may use it, reviving it when condemned; throws NAME_UNKNOWN for a missing repository. */
  async stat(repo: string, digest: string): Promise<BlobInfo | undefined> {
    const link = await this.store.get(keys.blobLink(repo, digest));
    if (!link) {
      await requireRepository({ getRecord: (parse, k) => readRecord(this.store, parse, k) }, repo);
      return undefined;
    }
    const blob = await readRecord(this.store, parseBlobRecord, keys.blob(digest));
    if (!blob) return undefined;
    if (blob.condemnedAt !== undefined) {
      const revived = await transact(this.store, (tx) => this.use(tx, digest));
      return revived && { digest, size: revived.size, file: revived.file };
    }
    return { digest, size: blob.size, file: blob.file };
  }

  /** Remove `digest` from `repo` (blob DELETE). The bytes stay until garbage collection finds them unused. */
  async unlink(repo: string, digest: string): Promise<void> {
    await transact(this.store, async (tx) => {
      await requireRepository(tx, repo);
      if (!(await tx.get(keys.blobLink(repo, digest)))) throw blobUnknown(digest);
      tx.delete(keys.blobLink(repo, digest));
    });
  }

  /**
   * Inside a transaction: the blob's record, with any condemnation cleared (a write, so that a collector
   * deleting it concurrently conflicts with this transaction). Undefined when the blob does not exist.
   */
  async use(tx: Tx, digest: string): Promise<BlobRecord | undefined> {
    const blob = await tx.getRecord(parseBlobRecord, keys.blob(digest));
    if (!blob) return undefined;
    if (blob.condemnedAt !== undefined) {
      const { condemnedAt: _condemnedAt, ...alive } = blob;
      tx.putJson(keys.blob(digest), alive);
      return alive;
    }
    return blob;
  }

  private async link(tx: Tx, repo: string, digest: string, size: number): Promise<void> {
    const existing = await tx.getRecord(parseBlobLinkRecord, keys.blobLink(repo, digest));
    if (existing?.size !== size) tx.putJson(keys.blobLink(repo, digest), { size, linkedAt: this.now() } satisfies BlobLinkRecord);
  }
}
