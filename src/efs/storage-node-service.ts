/**
 * BerthStorageNode: what a storage host (`berth storage`) tells the control plane and learns from it, as a
 * berth-private AWS JSON 1.1 service on the shared listener (`X-Amz-Target: BerthStorageNode.ReportStorageHost`),
 * signed for `elasticfilesystem` like the EFS API, authorized as `berth-storage:ReportStorageHost` (a prefix of
 * berth's own, so `elasticfilesystem:*` does not let a principal pose as a storage host).
 *
 * One call is the host's registration, its heartbeat (every second) and its read of desired state: it writes the
 * host's record (address, brick directory, zone, the volumes its glusterd lists) and answers whether this host leads
 * the pool, the other live hosts, every volume with its bricks, the retired volumes to remove, and the certificate
 * names the bricks accept (tls-clients.ts). The pool leader's report also carries the volumes' trusted client volfiles
 * when they change (their root-access credentials, kept sealed: trusted-volfiles.ts).
 * ResolveMount (efs/client-mount.ts) is the agents' call: how to mount a file system for a task.
 * IssueStorageCertificate: a storage host's TLS certificate from berth's CA (mount-ca.ts), asked for at its start.
 * IssueAgentCertificate: an agent's, named for its container instance, asked for before a mount and renewed between
 * mounts (agent/mount-certificate.ts).
 */
import type { ActionTable } from '../api/authz/declarations.js';
import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import type { ServiceModel } from '../api/protocol/service-model.js';
import { efsKeys as k } from '../state/efs-keys.js';
import { parseFileSystemRecord, parseRetiredVolumeRecord, parseStorageHostRecord, type StorageHostRecord } from '../state/records/efs.js';
import { transact } from '../store/transact.js';
import { resolveMountOperation, type ResolveMountEnv } from './client-mount.js';
import { MountCa } from './mount-ca.js';
import { FileSystems, type EfsEnv } from './file-systems.js';
import { fileSystemArn, fileSystemIdOf } from './ids.js';
import { agentCertificateNameForInstance, allowedTlsClients, storageHostCertificateName } from './tls-clients.js';
import { keepTrustedVolfiles, type ReportedVolfile } from './trusted-volfiles.js';
import { liveHosts, poolLeader } from './volume-placement.js';

export const STORAGE_NODE_TARGET_PREFIX = 'BerthStorageNode';

const str = { type: 'string' as const, min: 1, max: 1024 };

export const STORAGE_NODE_MODEL: ServiceModel = {
  metadata: { targetPrefix: STORAGE_NODE_TARGET_PREFIX, signingName: 'elasticfilesystem', endpointPrefix: 'berth-storage', protocol: 'json', jsonVersion: '1.1' },
  operations: {
    ReportStorageHost: { name: 'ReportStorageHost', input: { shape: 'ReportStorageHostInput' }, output: { shape: 'ReportStorageHostOutput' } },
    ResolveMount: { name: 'ResolveMount', input: { shape: 'ResolveMountInput' }, output: { shape: 'ResolveMountOutput' } },
    IssueStorageCertificate: { name: 'IssueStorageCertificate', input: { shape: 'IssueStorageCertificateInput' }, output: { shape: 'IssuedCertificate' } },
    IssueAgentCertificate: { name: 'IssueAgentCertificate', input: { shape: 'IssueAgentCertificateInput' }, output: { shape: 'IssuedCertificate' } },
  },
  shapes: {
    ReportStorageHostInput: {
      type: 'structure',
      required: ['HostId', 'Address', 'BrickDir', 'AvailabilityZone', 'Volumes'],
      members: {
        HostId: { shape: 'Text' },
        Address: { shape: 'Text' },
        BrickDir: { shape: 'Text' },
        AvailabilityZone: { shape: 'Text' },
        Volumes: { shape: 'VolumeStates' },
        TrustedVolfiles: { shape: 'ReportedVolfiles' },
      },
    },
    ReportedVolfiles: { type: 'list', member: { shape: 'ReportedVolfile' }, max: 10_000 },
    ReportedVolfile: { type: 'structure', required: ['Name', 'Volfile'], members: { Name: { shape: 'Text' }, Volfile: { shape: 'Volfile' }, Checksum: { shape: 'Text' } } },
    Volfile: { type: 'string', min: 1, max: 262_144 },
    VolumeStates: { type: 'list', member: { shape: 'VolumeState' }, max: 10_000 },
    VolumeState: { type: 'structure', required: ['Name', 'Started'], members: { Name: { shape: 'Text' }, Started: { shape: 'Flag' }, AllowedClients: { shape: 'Texts' } } },
    ReportStorageHostOutput: {
      type: 'structure',
      members: {
        PoolLeader: { shape: 'Flag' },
        Peers: { shape: 'Texts' },
        Volumes: { shape: 'Volumes' },
        RetiredVolumes: { shape: 'Volumes' },
        AllowedClients: { shape: 'Texts' },
      },
    },
    Volumes: { type: 'list', member: { shape: 'Volume' } },
    Volume: { type: 'structure', members: { Name: { shape: 'Text' }, Bricks: { shape: 'Bricks' } } },
    Bricks: { type: 'list', member: { shape: 'Brick' } },
    Brick: { type: 'structure', members: { Address: { shape: 'Text' }, Path: { shape: 'Text' } } },
    ResolveMountInput: {
      type: 'structure',
      required: ['FileSystemId'],
      members: {
        FileSystemId: { shape: 'Text' },
        AccessPointId: { shape: 'Text' },
        TaskArn: { shape: 'Text' },
        Iam: { shape: 'Switch' },
        TransitEncryption: { shape: 'Switch' },
        Csr: { shape: 'Pem' },
      },
    },
    ResolveMountOutput: {
      type: 'structure',
      required: ['Volume', 'Servers'],
      members: {
        Volume: { shape: 'Text' },
        Servers: { shape: 'Texts' },
        AccessPoint: { shape: 'MountAccessPoint' },
        ReadOnly: { shape: 'Flag' },
        RootSquash: { shape: 'Flag' },
        Certificate: { shape: 'Pem' },
        CaCertificate: { shape: 'Pem' },
        TrustedVolfile: { shape: 'Volfile' },
      },
    },
    IssueStorageCertificateInput: { type: 'structure', required: ['HostId', 'Csr'], members: { HostId: { shape: 'Text' }, Csr: { shape: 'Pem' } } },
    IssueAgentCertificateInput: {
      type: 'structure',
      required: ['ContainerInstanceArn', 'Csr'],
      members: { ContainerInstanceArn: { shape: 'Text' }, Csr: { shape: 'Pem' } },
    },
    IssuedCertificate: { type: 'structure', members: { Certificate: { shape: 'Pem' }, CaCertificate: { shape: 'Pem' } } },
    Switch: { type: 'string', enum: ['ENABLED', 'DISABLED'] },
    Pem: { type: 'string', min: 1, max: 16_384 },
    MountAccessPoint: {
      type: 'structure',
      required: ['Path'],
      members: {
        Uid: { shape: 'Id' },
        Gid: { shape: 'Id' },
        SecondaryGids: { shape: 'Ids' },
        Path: { shape: 'Text' },
        OwnerUid: { shape: 'Id' },
        OwnerGid: { shape: 'Id' },
        Permissions: { shape: 'Text' },
      },
    },
    Ids: { type: 'list', member: { shape: 'Id' } },
    Id: { type: 'long', min: 0 },
    Texts: { type: 'list', member: { shape: 'Text' } },
    Text: str,
    Flag: { type: 'boolean' },
  },
};

export function storageNodeActions(): ActionTable {
  return {
    ReportStorageHost: { action: 'berth-storage:ReportStorageHost', resources: () => [] },
    // A storage host's TLS certificate: only storage hosts may have one (it makes its holder a GlusterFS server).
    IssueStorageCertificate: { action: 'berth-storage:ReportStorageHost', resources: () => [] },
    // An agent's certificate (named for its container instance) serves only its mounts: a caller that may mount.
    IssueAgentCertificate: { action: 'elasticfilesystem:ClientMount', resources: () => [] },
    // An agent mounting a file system for a task: what EFS checks for a mount.
    ResolveMount: {
      action: 'elasticfilesystem:ClientMount',
      resources: (input, scope) => (typeof input.FileSystemId === 'string' ? [fileSystemArn(scope, fileSystemIdOf(input.FileSystemId))] : []),
    },
  };
}

export function storageNodeService(env: EfsEnv & Omit<ResolveMountEnv, 'store' | 'scope'>): JsonService {
  const ca = new MountCa(env);
  const operations: Record<string, Operation> = {
    ResolveMount: resolveMountOperation(new FileSystems(env), env),
    IssueStorageCertificate: (input) => ca.issue(input.Csr, storageHostCertificateName(input.HostId)),
    IssueAgentCertificate: async (input) => ca.issue(input.Csr, await agentCertificateNameForInstance(env.store, input.ContainerInstanceArn)),
    async ReportStorageHost(input) {
      const now = env.now();
      const hosts = await transact(env.store, async (tx) => {
        const previous = await tx.getRecord(parseStorageHostRecord, k.storageHost(input.HostId));
        const record: StorageHostRecord = {
          id: input.HostId,
          address: input.Address,
          brickDir: input.BrickDir,
          availabilityZone: input.AvailabilityZone,
          registeredAt: previous?.registeredAt ?? now,
          lastSeen: now,
          volumes: (input.Volumes as { Name: string; Started: boolean; AllowedClients?: string[] }[]).map((v) => ({
            name: v.Name,
            started: v.Started,
            ...(v.AllowedClients ? { allowedClients: v.AllowedClients } : {}),
          })),
        };
        tx.putJson(k.storageHost(record.id), record);
        const { entries } = await tx.range(k.storageHosts());
        return [record, ...entries.map((e) => parseStorageHostRecord(e.value, e.key)).filter((h) => h.id !== record.id)];
      });
      const live = liveHosts(hosts, now);
      const leader = poolLeader(hosts, now);
      // Only the pool leader's volfiles are kept (it made the volumes; a former leader's may be stale).
      if (leader?.id === input.HostId && input.TrustedVolfiles) await keepTrustedVolfiles(env.store, env.sealer, input.TrustedVolfiles as ReportedVolfile[], now);
      const [fileSystems, retired, allowed] = await Promise.all([env.store.range(k.fileSystems()), env.store.range(k.retiredVolumes()), allowedTlsClients(env.store)]);
      const brickOut = (b: { address: string; path: string }) => ({ Address: b.address, Path: b.path });
      return {
        PoolLeader: leader?.id === input.HostId,
        Peers: live.filter((h) => h.id !== input.HostId).map((h) => h.address),
        Volumes: fileSystems.entries
          .map((e) => parseFileSystemRecord(e.value, e.key))
          .filter((fs) => fs.bricks && fs.bricks.length > 0)
          .map((fs) => ({ Name: fs.volume, Bricks: fs.bricks!.map(brickOut) })),
        RetiredVolumes: retired.entries.map((e) => parseRetiredVolumeRecord(e.value, e.key)).map((v) => ({ Name: v.name, Bricks: v.bricks.map(brickOut) })),
        AllowedClients: allowed,
      };
    },
  };
  return { targetPrefix: STORAGE_NODE_TARGET_PREFIX, signingNames: ['elasticfilesystem'], model: STORAGE_NODE_MODEL, operations, actions: storageNodeActions() };
}
