/**
 * Access points: an application's way into a file system, with a POSIX identity every file operation through it
 * takes and a root directory it cannot leave (both enforced where it is mounted: docs/storage.md). ClientToken makes
 * CreateAccessPoint idempotent; the file system's `accessPointCount` moves in the same transaction.
 */
import { efsKeys as k } from '../state/efs-keys.js';
import { parseAccessPointRecord, parseAccessPointTokenRecord, type AccessPointRecord, type EfsTag } from '../state/records/efs.js';
import { readRecord, transact } from '../store/transact.js';
import { efsErrors } from './errors.js';
import { checkTags, type FileSystems } from './file-systems.js';
import { accessPointArn, accessPointIdOf, newAccessPointId } from './ids.js';

export interface NewAccessPoint {
  readonly clientToken: string;
  readonly fileSystemId: string;
  readonly tags?: readonly EfsTag[];
  readonly posixUser?: AccessPointRecord['posixUser'];
  readonly rootDirectory?: { readonly Path?: string; readonly CreationInfo?: { OwnerUid: number; OwnerGid: number; Permissions: string } };
}

/** A root directory path as EFS accepts it: absolute, no `.`/`..` or empty segments; normalised without a trailing `/`. */
export function checkRootPath(path: string): string {
  if (!path.startsWith('/')) throw efsErrors.badRequest(`RootDirectory.Path '${path}' must be absolute.`);
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw efsErrors.badRequest(`RootDirectory.Path '${path}' must not contain '.' or '..'.`);
  return `/${segments.join('/')}`;
}

export class AccessPoints {
  constructor(private readonly fileSystems: FileSystems) {}

  private get env() {
    return this.fileSystems.env;
  }

  async create(input: NewAccessPoint): Promise<AccessPointRecord> {
    checkTags(input.tags ?? []);
    const path = checkRootPath(input.rootDirectory?.Path ?? '/');
    return transact(this.env.store, async (tx) => {
      const taken = await tx.getRecord(parseAccessPointTokenRecord, k.accessPointToken(input.clientToken));
      if (taken) throw efsErrors.accessPointExists(input.clientToken, taken.accessPointId);
      const fs = await this.fileSystems.available(tx, input.fileSystemId);
      const id = newAccessPointId();
      const name = input.tags?.find((t) => t.Key === 'Name')?.Value;
      const record: AccessPointRecord = {
        id,
        arn: accessPointArn(this.env.scope, id),
        fileSystemId: fs.id,
        clientToken: input.clientToken,
        ...(name !== undefined ? { name } : {}),
        tags: input.tags ?? [],
        ...(input.posixUser ? { posixUser: input.posixUser } : {}),
        rootDirectory: { Path: path, ...(input.rootDirectory?.CreationInfo ? { CreationInfo: input.rootDirectory.CreationInfo } : {}) },
      };
      tx.putJson(k.accessPoint(id), record);
      tx.putJson(k.accessPointToken(input.clientToken), { accessPointId: id });
      tx.putJson(k.fileSystem(fs.id), { ...fs, accessPointCount: fs.accessPointCount + 1 });
      return record;
    });
  }

  async get(idOrArn: string): Promise<AccessPointRecord> {
    const record = await readRecord(this.env.store, parseAccessPointRecord, k.accessPoint(accessPointIdOf(idOrArn)));
    if (!record) throw efsErrors.accessPointNotFound(idOrArn);
    return record;
  }

  async list(fileSystemId?: string): Promise<AccessPointRecord[]> {
    const { entries } = await this.env.store.range(k.accessPoints());
    return entries.map((e) => parseAccessPointRecord(e.value, e.key)).filter((a) => fileSystemId === undefined || a.fileSystemId === fileSystemId);
  }

  async setTags(idOrArn: string, change: (tags: readonly EfsTag[]) => EfsTag[]): Promise<void> {
    await transact(this.env.store, async (tx) => {
      const ap = await tx.getRecord(parseAccessPointRecord, k.accessPoint(accessPointIdOf(idOrArn)));
      if (!ap) throw efsErrors.accessPointNotFound(idOrArn);
      tx.putJson(k.accessPoint(ap.id), { ...ap, tags: change(ap.tags) });
    });
  }

  async delete(idOrArn: string): Promise<void> {
    await transact(this.env.store, async (tx) => {
      const ap = await tx.getRecord(parseAccessPointRecord, k.accessPoint(accessPointIdOf(idOrArn)));
      if (!ap) throw efsErrors.accessPointNotFound(idOrArn);
      tx.delete(k.accessPoint(ap.id));
      tx.delete(k.accessPointToken(ap.clientToken));
      const fs = await this.fileSystems.get(tx, ap.fileSystemId);
      tx.putJson(k.fileSystem(fs.id), { ...fs, accessPointCount: Math.max(0, fs.accessPointCount - 1) });
    });
  }
}
