import { randomBytes } from 'node:crypto';
import type { ArnScope } from '../model/arn.js';

/** EFS's ids: a prefix and 17 hex digits (`fs-0a1b…`, `fsmt-…`, `fsap-…`). */
const newId = (prefix: string) => `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
export const newFileSystemId = () => newId('fs');
export const newMountTargetId = () => newId('fsmt');
export const newAccessPointId = () => newId('fsap');

export const fileSystemArn = (scope: ArnScope, id: string) => `arn:aws:elasticfilesystem:${scope.region}:${scope.accountId}:file-system/${id}`;
export const accessPointArn = (scope: ArnScope, id: string) => `arn:aws:elasticfilesystem:${scope.region}:${scope.accountId}:access-point/${id}`;

/** A file system id from an id or its ARN (EFS accepts either where it takes a FileSystemId). */
export const fileSystemIdOf = (idOrArn: string) => idOrArn.replace(/^arn:[^:]+:elasticfilesystem:[^:]*:[^:]*:file-system\//, '');
export const accessPointIdOf = (idOrArn: string) => idOrArn.replace(/^arn:[^:]+:elasticfilesystem:[^:]*:[^:]*:access-point\//, '');

/** The GlusterFS volume behind a file system. */
export const volumeNameOf = (fileSystemId: string) => `berth-${fileSystemId}`;
/** The file system behind a GlusterFS volume (volumeNameOf reversed); undefined for a name that is not a file system's. */
export const fileSystemIdOfVolume = (volume: string): string | undefined => (/^berth-(fs-[0-9a-f]+)$/.exec(volume) ?? [])[1];
