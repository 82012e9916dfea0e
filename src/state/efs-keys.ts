/**
 * Where the EFS API's records and the storage hosts live in the Store. Ids (`fs-…`, `fsmt-…`, `fsap-…`) never
 * contain `/`, so `efs/access-points/<fsId>/` selects one file system's access points exactly.
 */
export const efsKeys = {
  fileSystem: (id: string) => `efs/file-systems/${id}`,
  fileSystems: () => 'efs/file-systems/',
  /** CreationToken → file system id: one file system per token (what makes CreateFileSystem idempotent). */
  creationToken: (token: string) => `efs/creation-tokens/${token}`,
  mountTarget: (id: string) => `efs/mount-targets/${id}`,
  mountTargets: () => 'efs/mount-targets/',
  accessPoint: (id: string) => `efs/access-points/${id}`,
  accessPoints: () => 'efs/access-points/',
  /** ClientToken → access point id (CreateAccessPoint's idempotency). */
  accessPointToken: (token: string) => `efs/access-point-tokens/${token}`,
  /** A volume whose file system was deleted: the storage hosts still have to remove it (then the key goes). */
  retiredVolume: (name: string) => `efs/retired-volumes/${name}`,
  retiredVolumes: () => 'efs/retired-volumes/',
  storageHost: (id: string) => `efs/storage-hosts/${id}`,
  storageHosts: () => 'efs/storage-hosts/',
  /** berth's CA for transit encryption (efs/mount-ca.ts): its certificate and its sealed key. */
  mountCa: () => 'efs/mount-ca',
  /** A volume's trusted client volfile (its root-access credentials, sealed: efs/trusted-volfiles.ts). */
  trustedVolfile: (volume: string) => `efs/trusted-volfiles/${volume}`,
};
