/**
 * BerthStorageNode.ResolveMount: what an agent needs to mount a file system for a task (its `efsVolumeConfiguration`),
 * as the EFS mount helper learns it from DNS and the NFS server: the GlusterFS volume, the servers to fetch its
 * volfile from (the file system's mount targets, as EFS clients reach it through a mount target), and the access
 * point's POSIX identity and root directory, which the agent enforces where it mounts (agent/efs-mounts.ts).
 * Authorized as `elasticfilesystem:ClientMount` on the file system, the action EFS checks for a mount, for the
 * agent's own credentials; the task's mount is then authorized as EFS authorizes a client (mount-authorization.ts:
 * the task role with `authorizationConfig.iam`, else an anonymous client), and the answer says whether the mount is
 * read-only and root squashed. With a certificate request (`Csr`) the answer carries a certificate for the agent's
 * GlusterFS TLS (mount-ca.ts), named for the task's container instance (tls-clients.ts), given once the bricks accept
 * that name (allow-list-wait.ts). With ClientRootAccess (or an access point's root directory to make) the answer
 * carries the volume's trusted client volfile, its root-access credentials (trusted-volfiles.ts).
 */
import type { Operation } from '../api/protocol/json-rpc.js';
import { efsKeys as k } from '../state/efs-keys.js';
import { parseAccessPointRecord, parseMountTargetRecord, type AccessPointRecord, type FileSystemRecord, type MountTargetRecord } from '../state/records/efs.js';
import { readRecord } from '../store/transact.js';
import { efsErrors } from './errors.js';
import type { FileSystems } from './file-systems.js';
import { accessPointIdOf } from './ids.js';
import { MountCa } from './mount-ca.js';
import { authorizeMount, type MountAuthorizationEnv } from './mount-authorization.js';
import { agentCertificateNameFor } from './tls-clients.js';
import { awaitAllowListApplied, type AllowListWaitOptions } from './allow-list-wait.js';
import { openTrustedVolfile } from './trusted-volfiles.js';
import type { Sealer } from '../identity/sealer.js';
import type { Logger } from 'pino';

export interface ResolveMountEnv extends MountAuthorizationEnv {
  readonly sealer: Sealer;
  /** How long to wait for the agent's certificate name to reach the bricks (tests: shorter, a fake sleep). */
  readonly allowListWait?: Omit<AllowListWaitOptions, 'now' | 'onWaiting'>;
  readonly log?: Logger;
}

export interface MountAnswer {
  readonly Volume: string;
  readonly Servers: string[];
  /** No elasticfilesystem:ClientWrite: the agent mounts read-only. */
  readonly ReadOnly?: boolean;
  /** No elasticfilesystem:ClientRootAccess: root is squashed. */
  readonly RootSquash?: boolean;
  readonly Certificate?: string;
  readonly CaCertificate?: string;
  /**
   * The volume's trusted client volfile (root-access credentials, trusted-volfiles.ts): for a mount granted
   * ClientRootAccess, or one through an access point whose root directory the agent may have to make with its
   * CreationInfo owner (EFS makes it as the service, whatever the client may do).
   */
  readonly TrustedVolfile?: string;
  readonly AccessPoint?: {
    readonly Uid?: number;
    readonly Gid?: number;
    readonly SecondaryGids?: number[];
    readonly Path: string;
    readonly OwnerUid?: number;
    readonly OwnerGid?: number;
    readonly Permissions?: string;
  };
}

/** The answer for mounting `fs` through `targets` (and `accessPoint`), or EFS's error for why it cannot be (pure). */
export function mountAnswer(fs: FileSystemRecord, targets: readonly MountTargetRecord[], accessPoint?: AccessPointRecord): MountAnswer {
  if (fs.lifeCycleState !== 'available') throw efsErrors.lifeCycle(fs.id, fs.lifeCycleState);
  if (targets.length === 0) throw efsErrors.mountTargetNotFound(`(any, of file system '${fs.id}': it has no mount targets to mount through)`);
  if (accessPoint && accessPoint.fileSystemId !== fs.id) {
    throw efsErrors.badRequest(`Access point '${accessPoint.id}' belongs to file system '${accessPoint.fileSystemId}', not '${fs.id}'.`);
  }
  const servers = [...new Set(targets.map((t) => t.ipAddress))].sort();
  if (!accessPoint) return { Volume: fs.volume, Servers: servers };
  const user = accessPoint.posixUser;
  const info = accessPoint.rootDirectory.CreationInfo;
  return {
    Volume: fs.volume,
    Servers: servers,
    AccessPoint: {
      ...(user ? { Uid: user.Uid, Gid: user.Gid, ...(user.SecondaryGids ? { SecondaryGids: [...user.SecondaryGids] } : {}) } : {}),
      Path: accessPoint.rootDirectory.Path,
      ...(info ? { OwnerUid: info.OwnerUid, OwnerGid: info.OwnerGid, Permissions: info.Permissions } : {}),
    },
  };
}

/**
 * Whether the agent gets the volume's root-access credentials (pure): when the task may act as root
 * (elasticfilesystem:ClientRootAccess), or to make an access point's root directory with its CreationInfo owner —
 * the agent then mounts the task's volume squashed unless the task itself may act as root (agent/efs-mounts.ts).
 */
export function needsTrustedVolfile(rootAccess: boolean, accessPoint: AccessPointRecord | undefined): boolean {
  return rootAccess || accessPoint?.rootDirectory.CreationInfo !== undefined;
}

export function resolveMountOperation(fileSystems: FileSystems, env: ResolveMountEnv): Operation {
  const ca = new MountCa({ store: env.store, sealer: env.sealer, now: fileSystems.env.now });
  return async (input) => {
    const fs = await fileSystems.get(undefined, input.FileSystemId);
    const { store } = fileSystems.env;
    const { entries } = await store.range(k.mountTargets());
    const targets = entries.map((e) => parseMountTargetRecord(e.value, e.key)).filter((t) => t.fileSystemId === fs.id);
    let accessPoint: AccessPointRecord | undefined;
    if (input.AccessPointId !== undefined) {
      accessPoint = await readRecord(store, parseAccessPointRecord, k.accessPoint(accessPointIdOf(input.AccessPointId)));
      if (!accessPoint) throw efsErrors.accessPointNotFound(input.AccessPointId);
    }
    const answer = mountAnswer(fs, targets, accessPoint);
    const access = await authorizeMount(env, {
      fs,
      ...(accessPoint ? { accessPoint } : {}),
      ...(input.TaskArn !== undefined ? { taskArn: input.TaskArn } : {}),
      iam: input.Iam === 'ENABLED',
      transitEncryption: input.TransitEncryption === 'ENABLED',
    });
    let certificate = {};
    if (input.Csr !== undefined || input.TaskArn !== undefined) {
      // The agent's certificate is named for the task's container instance (issued here, or by IssueAgentCertificate).
      const name = await agentCertificateNameFor(store, input.TaskArn);
      if (input.Csr !== undefined) certificate = await ca.issue(input.Csr, name);
      // Before the bricks accept the name, glusterfs would be refused at the handshake (allow-list-wait.ts).
      const onWaiting = () => env.log?.warn({ fileSystemId: fs.id, volume: fs.volume, certificate: name }, 'ResolveMount waits for the bricks to accept the agent certificate');
      await awaitAllowListApplied(store, fs.id, fs.volume, name, { ...env.allowListWait, now: fileSystems.env.now, onWaiting });
    }
    const trusted = needsTrustedVolfile(access.rootAccess, accessPoint) ? { TrustedVolfile: await openTrustedVolfile(store, env.sealer, fs.volume) } : {};
    return { ...answer, ReadOnly: !access.write, RootSquash: !access.rootAccess, ...certificate, ...trusted };
  };
}
