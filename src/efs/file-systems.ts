/**
 * EFS file systems in the Store. Every change is one compare-and-swap transaction; the invariants that span
 * records meet on one key each: the creation-token index (one file system per CreationToken, created or refused
 * whole) and the file system record's mount target and access point counts (DeleteFileSystem reads them, the
 * creates and deletes of mount targets and access points change them).
 *
 *   CreateFileSystem ──▶ creating ──(leader places bricks; the storage pool leader reports the volume started)──▶ available
 *   DeleteFileSystem (no mount targets, no access points) ──▶ record gone, its volume retired (storage hosts remove it)
 */
import type { ArnScope } from '../model/arn.js';
import { efsKeys as k } from '../state/efs-keys.js';
import { parseCreationTokenRecord, parseFileSystemRecord, type EfsTag, type FileSystemRecord } from '../state/records/efs.js';
import type { Store } from '../store/store.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { efsErrors } from './errors.js';
import { fileSystemArn, fileSystemIdOf, newFileSystemId, volumeNameOf } from './ids.js';

export interface EfsEnv {
  readonly store: Store;
  readonly scope: ArnScope;
  /** Epoch ms; injectable for tests. */
  readonly now: () => number;
}

export interface NewFileSystem {
  readonly creationToken: string;
  readonly performanceMode?: string;
  readonly throughputMode?: string;
  readonly provisionedThroughputInMibps?: number;
  readonly encrypted?: boolean;
  readonly kmsKeyId?: string;
  readonly availabilityZoneName?: string;
  readonly backup?: boolean;
  readonly tags?: readonly EfsTag[];
}

/** CreateFileSystem's rules on its own input (EFS's BadRequest cases). */
export function checkNewFileSystem(input: NewFileSystem): void {
  const throughput = input.throughputMode ?? 'bursting';
  if (throughput === 'provisioned' && input.provisionedThroughputInMibps === undefined) {
    throw efsErrors.badRequest('ProvisionedThroughputInMibps is required when ThroughputMode is provisioned.');
  }
  if (throughput !== 'provisioned' && input.provisionedThroughputInMibps !== undefined) {
    throw efsErrors.badRequest('ProvisionedThroughputInMibps can only be set when ThroughputMode is provisioned.');
  }
  if (input.performanceMode === 'maxIO' && throughput === 'elastic') {
    throw efsErrors.badRequest('PerformanceMode maxIO is not supported with ThroughputMode elastic.');
  }
  if (input.kmsKeyId !== undefined && input.encrypted !== true) {
    throw efsErrors.badRequest('KmsKeyId can only be given when Encrypted is true.');
  }
  if (input.performanceMode === 'maxIO' && input.availabilityZoneName !== undefined) {
    throw efsErrors.badRequest('One Zone file systems (AvailabilityZoneName) support only PerformanceMode generalPurpose.');
  }
  checkTags(input.tags ?? []);
}

export function checkTags(tags: readonly EfsTag[]): void {
  const keys = new Set<string>();
  for (const [i, tag] of tags.entries()) {
    if (keys.has(tag.Key)) throw efsErrors.badRequest(`Tags[${i}].Key '${tag.Key}' is given twice.`);
    keys.add(tag.Key);
    if (tag.Key.startsWith('aws:')) throw efsErrors.badRequest(`Tags[${i}].Key: keys beginning with 'aws:' are reserved.`);
  }
  if (tags.length > 50) throw efsErrors.badRequest('A resource can have at most 50 tags (Tags).');
}

/** `existing` with `changes` set (a key given again takes the new value). */
export function withTags(existing: readonly EfsTag[], changes: readonly EfsTag[]): EfsTag[] {
  const merged = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of changes) merged.set(t.Key, t.Value);
  const out = [...merged].map(([Key, Value]) => ({ Key, Value }));
  checkTags(out);
  return out;
}

export class FileSystems {
  constructor(readonly env: EfsEnv) {}

  async get(tx: Tx | undefined, idOrArn: string): Promise<FileSystemRecord> {
    const id = fileSystemIdOf(idOrArn);
    const record = tx ? await tx.getRecord(parseFileSystemRecord, k.fileSystem(id)) : await readRecord(this.env.store, parseFileSystemRecord, k.fileSystem(id));
    if (!record) throw efsErrors.fileSystemNotFound(idOrArn);
    return record;
  }

  /** The file system `id`, which must be `available` (what mount targets and access points need). */
  async available(tx: Tx, idOrArn: string): Promise<FileSystemRecord> {
    const fs = await this.get(tx, idOrArn);
    if (fs.lifeCycleState !== 'available') throw efsErrors.lifeCycle(fs.id, fs.lifeCycleState);
    return fs;
  }

  async create(input: NewFileSystem): Promise<FileSystemRecord> {
    checkNewFileSystem(input);
    return transact(this.env.store, async (tx) => {
      const taken = await tx.getRecord(parseCreationTokenRecord, k.creationToken(input.creationToken));
      if (taken) throw efsErrors.fileSystemExists(input.creationToken, taken.fileSystemId);
      const id = newFileSystemId();
      const record: FileSystemRecord = {
        id,
        arn: fileSystemArn(this.env.scope, id),
        creationToken: input.creationToken,
        createdAt: this.env.now(),
        lifeCycleState: 'creating',
        performanceMode: input.performanceMode ?? 'generalPurpose',
        throughputMode: input.throughputMode ?? 'bursting',
        ...(input.provisionedThroughputInMibps !== undefined ? { provisionedThroughputInMibps: input.provisionedThroughputInMibps } : {}),
        encrypted: input.encrypted ?? false,
        ...(input.kmsKeyId !== undefined ? { kmsKeyId: input.kmsKeyId } : {}),
        ...(input.availabilityZoneName !== undefined ? { availabilityZoneName: input.availabilityZoneName } : {}),
        ...(input.backup !== undefined ? { backup: input.backup } : {}),
        tags: input.tags ?? [],
        mountTargetCount: 0,
        accessPointCount: 0,
        lifecyclePolicies: [],
        volume: volumeNameOf(id),
      };
      tx.putJson(k.fileSystem(id), record);
      tx.putJson(k.creationToken(input.creationToken), { fileSystemId: id });
      return record;
    });
  }

  /** Every file system, or the one with `creationToken`, in creation order. */
  async list(creationToken?: string): Promise<FileSystemRecord[]> {
    if (creationToken !== undefined) {
      const token = await readRecord(this.env.store, parseCreationTokenRecord, k.creationToken(creationToken));
      const fs = token ? await readRecord(this.env.store, parseFileSystemRecord, k.fileSystem(token.fileSystemId)) : undefined;
      return fs ? [fs] : [];
    }
    const { entries } = await this.env.store.range(k.fileSystems());
    return entries.map((e) => parseFileSystemRecord(e.value, e.key)).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  /** Change a file system in one transaction; `change` may throw to refuse. */
  async update(idOrArn: string, change: (fs: FileSystemRecord, tx: Tx) => FileSystemRecord | Promise<FileSystemRecord>): Promise<FileSystemRecord> {
    return transact(this.env.store, async (tx) => {
      const next = await change(await this.get(tx, idOrArn), tx);
      tx.putJson(k.fileSystem(next.id), next);
      return next;
    });
  }

  async delete(idOrArn: string): Promise<void> {
    await transact(this.env.store, async (tx) => {
      const fs = await this.get(tx, idOrArn);
      if (fs.mountTargetCount > 0) throw efsErrors.fileSystemInUse(fs.id, `${fs.mountTargetCount} mount target(s)`);
      if (fs.accessPointCount > 0) throw efsErrors.fileSystemInUse(fs.id, `${fs.accessPointCount} access point(s)`);
      tx.delete(k.fileSystem(fs.id));
      tx.delete(k.creationToken(fs.creationToken));
      if (fs.bricks && fs.bricks.length > 0) tx.putJson(k.retiredVolume(fs.volume), { name: fs.volume, bricks: fs.bricks });
      tx.delete(k.trustedVolfile(fs.volume));
    });
  }
}
