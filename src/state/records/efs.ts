import { recordParser } from './codec.js';

/** A tag as EFS spells it. */
export interface EfsTag {
  readonly Key: string;
  readonly Value: string;
}

/**
 * A file system's states as EFS names them. berth's file system is `creating` until its GlusterFS volume has been
 * created and started on the storage hosts (reported by `berth storage`), then `available`.
 */
export const lifeCycleStates = ['creating', 'available', 'updating', 'deleting', 'deleted', 'error'] as const;
export type LifeCycleState = (typeof lifeCycleStates)[number];

/** A brick of a file system's volume: which storage host holds it, at which path. */
export interface BrickRecord {
  readonly hostId: string;
  readonly address: string;
  readonly path: string;
  readonly availabilityZone: string;
}

/**
 * An EFS file system. `mountTargetCount` and `accessPointCount` are changed by the creates and deletes of mount
 * targets and access points in the same transaction, so DeleteFileSystem (refused while either is above zero)
 * conflicts with them on this one key instead of racing.
 */
export interface FileSystemRecord {
  readonly id: string;
  readonly arn: string;
  readonly creationToken: string;
  readonly createdAt: number;
  readonly lifeCycleState: LifeCycleState;
  readonly performanceMode: string;
  readonly throughputMode: string;
  readonly provisionedThroughputInMibps?: number;
  readonly encrypted: boolean;
  readonly kmsKeyId?: string;
  readonly availabilityZoneName?: string;
  readonly backup?: boolean;
  readonly tags: readonly EfsTag[];
  readonly mountTargetCount: number;
  readonly accessPointCount: number;
  /** The file system policy (a JSON document), when one is put. */
  readonly policy?: string;
  readonly lifecyclePolicies: readonly Record<string, string>[];
  /** The GlusterFS volume (`berth-<fsId>`) and its bricks, once the leader has placed them. */
  readonly volume: string;
  readonly bricks?: readonly BrickRecord[];
}

export const parseFileSystemRecord = recordParser<FileSystemRecord>('EFS file system', {
  id: 'string',
  arn: 'string',
  creationToken: 'string',
  createdAt: 'number',
  lifeCycleState: 'string',
  performanceMode: 'string',
  throughputMode: 'string',
  encrypted: 'boolean',
  tags: 'array',
  mountTargetCount: 'number',
  accessPointCount: 'number',
  lifecyclePolicies: 'array',
  volume: 'string',
});

export interface CreationTokenRecord {
  readonly fileSystemId: string;
}
export const parseCreationTokenRecord = recordParser<CreationTokenRecord>('EFS creation token', { fileSystemId: 'string' });

/** A mount target: the file system served in one availability zone, at the address of a storage host there. */
export interface MountTargetRecord {
  readonly id: string;
  readonly fileSystemId: string;
  readonly subnetId: string;
  readonly availabilityZone: string;
  readonly ipAddress: string;
  readonly createdAt: number;
  readonly securityGroups: readonly string[];
}
export const parseMountTargetRecord = recordParser<MountTargetRecord>('EFS mount target', {
  id: 'string',
  fileSystemId: 'string',
  subnetId: 'string',
  availabilityZone: 'string',
  ipAddress: 'string',
  createdAt: 'number',
  securityGroups: 'array',
});

export interface PosixUserRecord {
  readonly Uid: number;
  readonly Gid: number;
  readonly SecondaryGids?: readonly number[];
}

export interface AccessPointRecord {
  readonly id: string;
  readonly arn: string;
  readonly fileSystemId: string;
  readonly clientToken: string;
  readonly name?: string;
  readonly tags: readonly EfsTag[];
  readonly posixUser?: PosixUserRecord;
  /** The root directory inside the file system (`/` when not given) and how to create it. */
  readonly rootDirectory: { readonly Path: string; readonly CreationInfo?: { OwnerUid: number; OwnerGid: number; Permissions: string } };
}
export const parseAccessPointRecord = recordParser<AccessPointRecord>('EFS access point', {
  id: 'string',
  arn: 'string',
  fileSystemId: 'string',
  clientToken: 'string',
  tags: 'array',
  rootDirectory: 'object',
});

export interface AccessPointTokenRecord {
  readonly accessPointId: string;
}
export const parseAccessPointTokenRecord = recordParser<AccessPointTokenRecord>('EFS access point token', { accessPointId: 'string' });

/** What a storage host last reported of a volume. */
export interface ReportedVolume {
  readonly name: string;
  readonly started: boolean;
  /** The pool leader's: the certificate names it has set as the volume's `auth.ssl-allow` (efs/tls-clients.ts). */
  readonly allowedClients?: readonly string[];
}

/** A storage host (`berth storage`): where it is, and when it last reported (its heartbeat). */
export interface StorageHostRecord {
  readonly id: string;
  readonly address: string;
  readonly brickDir: string;
  readonly availabilityZone: string;
  readonly registeredAt: number;
  readonly lastSeen: number;
  readonly volumes: readonly ReportedVolume[];
}
export const parseStorageHostRecord = recordParser<StorageHostRecord>('storage host', {
  id: 'string',
  address: 'string',
  brickDir: 'string',
  availabilityZone: 'string',
  registeredAt: 'number',
  lastSeen: 'number',
  volumes: 'array',
});

/** A volume to remove from the storage hosts (its file system is gone). */
export interface RetiredVolumeRecord {
  readonly name: string;
  readonly bricks: readonly BrickRecord[];
  /** When the pool leader first reported the volume gone (the hosts then remove their brick directories). */
  readonly goneSince?: number;
}
export const parseRetiredVolumeRecord = recordParser<RetiredVolumeRecord>('retired volume', { name: 'string', bricks: 'array' });

/** berth's CA for EFS transit encryption (efs/mount-ca.ts); the key sealed under the server's key ring. */
export interface MountCaRecord {
  readonly certPem: string;
  readonly sealedKey: string;
  readonly createdAt: number;
}
export const parseMountCaRecord = recordParser<MountCaRecord>('EFS mount CA', { certPem: 'string', sealedKey: 'string', createdAt: 'number' });

/** A volume's trusted client volfile as the pool leader read it (efs/trusted-volfiles.ts); sealed: it holds credentials. */
export interface TrustedVolfileRecord {
  readonly volume: string;
  readonly sealedVolfile: string;
  /** sha256 of the volfile (what the pool leader compares to send it again when glusterd rewrites it). */
  readonly checksum: string;
  readonly updatedAt: number;
}
export const parseTrustedVolfileRecord = recordParser<TrustedVolfileRecord>('EFS trusted volfile', {
  volume: 'string',
  sealedVolfile: 'string',
  checksum: 'string',
  updatedAt: 'number',
});
