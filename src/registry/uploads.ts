/**
 * Blob upload sessions (the OCI "POST, PATCH…, PUT ?digest=" protocol), kept in the Store so that any
 * server sharing it and the registry directory can take a session's next request.
 *
 *   POST ──▶ OPEN ──PATCH continuing at the offset──▶ WRITING ──body stored──▶ OPEN (offset grows)
 *             │ │                                       └──request failed──▶ OPEN (file truncated back)
 *             │ └──PATCH at another offset, or while WRITING or FINISHING──▶ 416, session unchanged
 *             ├─PUT ?digest=──▶ FINISHING ──bytes match──▶ blob placed and linked; session ends (201)
 *             │                         └──do not match─▶ DIGEST_INVALID; session and bytes discarded
 *             │                            (so does any other failure once FINISHING: the client starts again)
 *             ├─DELETE───────────────────────────▶ session and bytes discarded (204)
 *             └─untouched longer than the timeout─▶ discarded by sweepIdleUploads() (record, then file)
 *
 * The record (`registry/uploads/<id>`, UploadRecord) holds the repository, the temporary file under the
 * registry directory and the acknowledged offset (fdatasynced before it is acknowledged). WRITING and FINISHING are its `writing` claim, taken and
 * released by compare-and-swap: of two requests (on one server or two) that continue the same offset,
 * exactly one takes the claim and writes; the other is refused before it touches the file. Bytes beyond
 * the offset are never acknowledged: a failed request truncates them away and releases the claim, so the
 * client can ask for the offset and resume, on any server. A claim whose server died stays until the
 * sweep (its bytes cannot be trusted, and its writer cannot be fenced off the file).
 *
 * The sha256 is computed as bytes arrive; the state after a chunk stays in the memory of the server that
 * wrote it, keyed by session and offset. A server without it (the previous chunk went elsewhere, or it
 * restarted) hashes the file up to the offset first.
 */
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { open, rm, stat } from 'node:fs/promises';
import { RegistryError } from '../model/registry/errors.js';
import { parseDigest } from '../model/registry/names.js';
import { keys } from '../state/keys.js';
import { parseUploadRecord, type UploadRecord } from '../state/records/registry.js';
import { placeAndRecord, type PlacementContext } from './blob-placement.js';
import { fsyncPath } from '../files/durable.js';
import { newTempName, tempFilePath } from './blob-store.js';
import { hashFilePrefix, writeBody } from './upload-io.js';

/** A session as a request sees it. */
export interface UploadState {
  readonly id: string;
  readonly repo: string;
  /** Bytes acknowledged. */
  readonly offset: number;
  /** The temporary file. */
  readonly path: string;
  /** A request is writing to it or finishing it. */
  readonly writing: boolean;
}

/** An inclusive byte range from a Content-Range header. */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

/** A session claimed by this request: the record as written, and the revision that wrote it. */
interface Claim {
  readonly id: string;
  readonly record: UploadRecord;
  readonly revision: number;
}

/** How many sessions' hash states a server keeps (the ones it wrote last); others are re-hashed. */
const HASH_STATES = 512;

const uploadUnknown = (id: string) => new RegistryError('BLOB_UPLOAD_UNKNOWN', `blob upload unknown to registry: ${id}`, { uuid: id });
const notAtOffset = (message: string, offset: number) => new RegistryError('BLOB_UPLOAD_INVALID', message, { offset }, 'range');

export class Uploads {
  private readonly hashes = new HashStates(HASH_STATES);

  constructor(private readonly ctx: PlacementContext) {}

  async start(repo: string): Promise<UploadState> {
    const id = randomUUID();
    const file = newTempName();
    await (await open(tempFilePath(this.ctx.blobs.root, file), 'wx', 0o600)).close();
    const at = this.ctx.now();
    const record: UploadRecord = { repo, file, offset: 0, startedAt: at, touchedAt: at };
    await this.ctx.store.txn([{ key: keys.upload(id), modRevision: 0 }], [{ type: 'put', key: keys.upload(id), value: JSON.stringify(record) }]);
    this.hashes.set(id, 0, createHash('sha256'));
    return this.stateOf(id, record);
  }

  /** The session `id` of `repo`; BLOB_UPLOAD_UNKNOWN when there is none. */
  async get(repo: string, id: string): Promise<UploadState> {
    return this.stateOf(id, (await this.read(repo, id)).record);
  }

  /** Append a request body; when `range` is given it must start at the current offset and match the body's length. */
  async append(repo: string, id: string, body: AsyncIterable<Buffer> | undefined, range?: ChunkRange): Promise<UploadState> {
    if (!body) {
      const { record } = await this.read(repo, id);
      checkRange(record, range);
      return this.stateOf(id, record);
    }
    const claim = await this.claim(repo, id, range);
    const start = claim.record.offset;
    const path = this.pathOf(claim.record);
    let hash: Hash;
    let end: number;
    try {
      hash = this.hashes.get(id, start) ?? (await hashFilePrefix(path, 'sha256', start));
      end = await this.write(path, start, body, hash, range);
    } catch (error) {
      // Give the session back at its old offset (the file was truncated back). If the Store fails here the
      // claim stays and the session is lost to the client, which starts the blob again.
      await this.release(claim, start).catch(() => undefined);
      throw error;
    }
    const record = await this.release(claim, end);
    this.hashes.set(id, end, hash);
    return this.stateOf(id, record);
  }

  /**
   * Complete the upload as `digestText`: append the final body, verify, fsync, place the file as a blob
   * and link it into the repository, ending the session in the same transaction. A digest that does not
   * match ends the session with nothing stored.
   */
  async finish(repo: string, id: string, digestText: string, body?: AsyncIterable<Buffer>, range?: ChunkRange): Promise<{ digest: string; size: number }> {
    const digest = parseDigest(digestText);
    await this.append(repo, id, body, range);
    const claim = await this.claim(repo, id);
    const path = this.pathOf(claim.record);
    const size = claim.record.offset;
    let actual: string;
    try {
      const hash = (digest.algorithm === 'sha256' && this.hashes.get(id, size)) || (await hashFilePrefix(path, digest.algorithm, size));
      actual = `${digest.algorithm}:${hash.digest('hex')}`;
    } catch (error) {
      await this.release(claim, size).catch(() => undefined);
      throw error;
    }
    try {
      if (actual !== digest.value) {
        throw new RegistryError('DIGEST_INVALID', `provided digest ${digest.value} did not match uploaded content (${actual})`, { digest: digest.value, actual });
      }
      await fsyncPath(path);
      // A hash kept in memory vouches for bytes the file must still hold (a filesystem that lost them fails here).
      const onDisk = (await stat(path)).size;
      if (onDisk !== size) throw new Error(`upload file ${path} holds ${onDisk} bytes, not the ${size} acknowledged`);
      await placeAndRecord(this.ctx, digest, size, (file) => this.ctx.blobs.place(path, digest, file), async (tx) => {
        // The session ends with the blob's recording, and only if it is still this request's.
        if ((await tx.get(keys.upload(id)))?.modRevision !== claim.revision) throw uploadUnknown(id);
        tx.delete(keys.upload(id));
        await this.ctx.records.linkUpload(tx, repo, digest.value, size);
      });
    } catch (error) {
      await this.discard(claim);
      throw error;
    }
    this.hashes.delete(id);
    // Still there when the blob was already stored: the bytes were not needed.
    await rm(path, { force: true });
    return { digest: digest.value, size };
  }

  /** A monolithic upload (POST ?digest= with the body): no session, straight to a temporary file. */
  async putWhole(repo: string, digestText: string, body: AsyncIterable<Buffer> | undefined): Promise<{ digest: string; size: number }> {
    const digest = parseDigest(digestText);
    const path = tempFilePath(this.ctx.blobs.root, newTempName());
    try {
      const hash = createHash(digest.algorithm);
      const handle = await open(path, 'wx', 0o600);
      let size: number;
      try {
        size = body ? await writeBody(handle, 0, body, hash) : 0;
        await handle.sync();
      } finally {
        await handle.close();
      }
      const actual = `${digest.algorithm}:${hash.digest('hex')}`;
      if (actual !== digest.value) {
        throw new RegistryError('DIGEST_INVALID', `provided digest ${digest.value} did not match uploaded content (${actual})`, { digest: digest.value, actual });
      }
      await placeAndRecord(this.ctx, digest, size, (file) => this.ctx.blobs.place(path, digest, file), (tx) =>
        this.ctx.records.linkUpload(tx, repo, digest.value, size),
      );
      return { digest: digest.value, size };
    } finally {
      await rm(path, { force: true });
    }
  }

  async cancel(repo: string, id: string): Promise<void> {
    for (;;) {
      const { entry, record } = await this.read(repo, id);
      const { succeeded } = await this.ctx.store.txn([{ key: entry.key, modRevision: entry.modRevision }], [{ type: 'delete', key: entry.key }]);
      if (!succeeded) continue;
      this.hashes.delete(id);
      await rm(this.pathOf(record), { force: true });
      return;
    }
  }

  private async read(repo: string, id: string) {
    const entry = await this.ctx.store.get(keys.upload(id));
    if (!entry) throw uploadUnknown(id);
    const record = parseUploadRecord(entry.value, entry.key);
    if (record.repo !== repo) throw uploadUnknown(id);
    return { entry, record };
  }

  /** Take the session's `writing` claim; refused (416) when it is taken or the range does not continue it. */
  private async claim(repo: string, id: string, range?: ChunkRange): Promise<Claim> {
    const { entry, record } = await this.read(repo, id);
    checkRange(record, range);
    if (record.writing !== undefined) throw notAtOffset(`upload ${id} is busy with another request`, record.offset);
    const at = this.ctx.now();
    const claimed: UploadRecord = { ...record, writing: at, touchedAt: at };
    const result = await this.ctx.store.txn(
      [{ key: entry.key, modRevision: entry.modRevision }],
      [{ type: 'put', key: entry.key, value: JSON.stringify(claimed) }],
    );
    if (!result.succeeded) {
      // Another request got there first; report where the session is now.
      const now = await this.read(repo, id);
      throw notAtOffset(`upload ${id} is busy with another request`, now.record.offset);
    }
    return { id, record: claimed, revision: result.revision };
  }

  /** Release the claim with `offset` bytes acknowledged. BLOB_UPLOAD_UNKNOWN when the session was discarded meanwhile. */
  private async release(claim: Claim, offset: number): Promise<UploadRecord> {
    const { writing: _writing, ...rest } = claim.record;
    const record: UploadRecord = { ...rest, offset, touchedAt: this.ctx.now() };
    const key = keys.upload(claim.id);
    const { succeeded } = await this.ctx.store.txn([{ key, modRevision: claim.revision }], [{ type: 'put', key, value: JSON.stringify(record) }]);
    if (!succeeded) throw uploadUnknown(claim.id);
    return record;
  }

  /** End a claimed session with nothing stored: its record (if still this claim's), then its file. */
  private async discard(claim: Claim): Promise<void> {
    const key = keys.upload(claim.id);
    this.hashes.delete(claim.id);
    await this.ctx.store.txn([{ key, modRevision: claim.revision }], [{ type: 'delete', key }]);
    await rm(this.pathOf(claim.record), { force: true });
  }

  /** Write `body` at `start`, leaving the file exactly `start` bytes long when anything goes wrong. */
  private async write(path: string, start: number, body: AsyncIterable<Buffer>, hash: Hash, range: ChunkRange | undefined): Promise<number> {
    const handle = await open(path, 'r+');
    try {
      // Bytes past the offset were never acknowledged (a request that failed and could not clean up).
      await handle.truncate(start);
      const written = await writeBody(handle, start, body, hash);
      if (range && written !== range.end - range.start + 1) {
        throw new RegistryError(
          'BLOB_UPLOAD_INVALID',
          `Content-Range ${range.start}-${range.end} promises ${range.end - range.start + 1} bytes but the body had ${written}`,
          undefined,
          'range',
        );
      }
      // Durable before it is acknowledged: the session outlives this server, and another may finish it.
      await handle.datasync();
      return start + written;
    } catch (error) {
      await handle.truncate(start);
      throw error;
    } finally {
      await handle.close();
    }
  }

  private pathOf(record: UploadRecord): string {
    return tempFilePath(this.ctx.blobs.root, record.file);
  }

  private stateOf(id: string, record: UploadRecord): UploadState {
    return { id, repo: record.repo, offset: record.offset, path: this.pathOf(record), writing: record.writing !== undefined };
  }
}

function checkRange(record: UploadRecord, range: ChunkRange | undefined): void {
  if (range && range.start !== record.offset) {
    throw notAtOffset(`chunk ${range.start}-${range.end} does not continue the upload, which holds ${record.offset} bytes`, record.offset);
  }
}

/** Parse a chunk's Content-Range (`<start>-<end>`, inclusive; a leading `bytes ` or `bytes=` is tolerated). */
export function parseChunkRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(header.trim());
  const start = m ? Number(m[1]) : NaN;
  const end = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range '${header}': expected <start>-<end>`, undefined, 'range');
  }
  return { start, end };
}

/**
 * The sha256 state of each session at the offset this server last acknowledged for it, most recent last;
 * the oldest are forgotten past `limit` (sessions finished elsewhere are never deleted here otherwise).
 */
class HashStates {
  private readonly states = new Map<string, { offset: number; hash: Hash }>();

  constructor(private readonly limit: number) {}

  /** A copy of the state at exactly `offset`, if this server has it. */
  get(id: string, offset: number): Hash | undefined {
    const state = this.states.get(id);
    return state?.offset === offset ? state.hash.copy() : undefined;
  }

  set(id: string, offset: number, hash: Hash): void {
    this.states.delete(id);
    this.states.set(id, { offset, hash: hash.copy() });
    if (this.states.size > this.limit) this.states.delete(this.states.keys().next().value!);
  }

  delete(id: string): void {
    this.states.delete(id);
  }
}
