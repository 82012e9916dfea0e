/**
 * Mount targets: a file system served in one availability zone. berth has no VPC: a mount target's zone is one the
 * file system's storage hosts (its bricks) are in, and its address is such a host's. The subnet is recorded as
 * given. One mount target per zone (MountTargetConflict), as in EFS.
 */
import { efsKeys as k } from '../state/efs-keys.js';
import { parseMountTargetRecord, type FileSystemRecord, type MountTargetRecord } from '../state/records/efs.js';
import { readRecord, transact } from '../store/transact.js';
import { efsErrors } from './errors.js';
import type { FileSystems } from './file-systems.js';
import { newMountTargetId } from './ids.js';

export interface NewMountTarget {
  readonly fileSystemId: string;
  readonly subnetId: string;
  readonly ipAddress?: string;
  readonly securityGroups?: readonly string[];
}

/** The zone and address of a new mount target: the first zone of the bricks without one yet (pure). */
export function chooseMountTargetPlace(fs: FileSystemRecord, existing: readonly MountTargetRecord[], ipAddress?: string): { zone: string; address: string } {
  const taken = new Set(existing.map((m) => m.availabilityZone));
  const bricks = (fs.bricks ?? []).filter((b) => (ipAddress === undefined ? true : b.address === ipAddress));
  if (ipAddress !== undefined && bricks.length === 0) {
    throw efsErrors.badRequest(`IpAddress ${ipAddress} is not the address of a storage host of file system ${fs.id}.`);
  }
  const free = bricks.find((b) => !taken.has(b.availabilityZone));
  if (!free) throw efsErrors.mountTargetConflict(`File system ${fs.id} already has a mount target in every availability zone its storage hosts serve.`);
  return { zone: free.availabilityZone, address: free.address };
}

export class MountTargets {
  constructor(
    private readonly fileSystems: FileSystems,
    private readonly now: () => number,
  ) {}

  private get store() {
    return this.fileSystems.env.store;
  }

  async create(input: NewMountTarget): Promise<{ mountTarget: MountTargetRecord; fileSystem: FileSystemRecord }> {
    return transact(this.store, async (tx) => {
      const fs = await this.fileSystems.available(tx, input.fileSystemId);
      const existing = await this.ofFileSystem(fs.id);
      const place = chooseMountTargetPlace(fs, existing, input.ipAddress);
      const id = newMountTargetId();
      const mountTarget: MountTargetRecord = {
        id,
        fileSystemId: fs.id,
        subnetId: input.subnetId,
        availabilityZone: place.zone,
        ipAddress: place.address,
        createdAt: this.now(),
        securityGroups: input.securityGroups ?? [],
      };
      tx.putJson(k.mountTarget(id), mountTarget);
      const fileSystem = { ...fs, mountTargetCount: fs.mountTargetCount + 1 };
      tx.putJson(k.fileSystem(fs.id), fileSystem);
      return { mountTarget, fileSystem };
    });
  }

  async get(id: string): Promise<MountTargetRecord> {
    const record = await readRecord(this.store, parseMountTargetRecord, k.mountTarget(id));
    if (!record) throw efsErrors.mountTargetNotFound(id);
    return record;
  }

  async ofFileSystem(fileSystemId: string): Promise<MountTargetRecord[]> {
    const { entries } = await this.store.range(k.mountTargets());
    return entries
      .map((e) => parseMountTargetRecord(e.value, e.key))
      .filter((m) => m.fileSystemId === fileSystemId)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async delete(id: string): Promise<void> {
    await transact(this.store, async (tx) => {
      const mountTarget = await tx.getRecord(parseMountTargetRecord, k.mountTarget(id));
      if (!mountTarget) throw efsErrors.mountTargetNotFound(id);
      tx.delete(k.mountTarget(id));
      const fs = await this.fileSystems.get(tx, mountTarget.fileSystemId);
      tx.putJson(k.fileSystem(fs.id), { ...fs, mountTargetCount: Math.max(0, fs.mountTargetCount - 1) });
    });
  }
}
