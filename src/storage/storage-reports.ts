/**
 * The client side of BerthStorageNode (src/efs/storage-node-service.ts): an AWS JSON 1.1 request signed with SigV4
 * for `elasticfilesystem` with the storage host's own credentials (no SDK client exists for a berth-private API).
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { signedJsonCaller } from '../process/signed-json-call.js';

export interface StorageReport {
  readonly HostId: string;
  readonly Address: string;
  readonly BrickDir: string;
  readonly AvailabilityZone: string;
  /** AllowedClients: the `auth.ssl-allow` this host has set on the volume (the pool leader's; others send none). */
  readonly Volumes: readonly { Name: string; Started: boolean; AllowedClients?: readonly string[] }[];
  /** The pool leader's: volumes' trusted client volfiles (credentials: trusted-volfiles.ts), each sent once per change. */
  readonly TrustedVolfiles?: readonly { Name: string; Volfile: string; Checksum: string }[];
}

export interface DesiredVolume {
  readonly Name: string;
  readonly Bricks: readonly { Address: string; Path: string }[];
}

export interface StorageAnswer {
  readonly PoolLeader?: boolean;
  readonly Peers?: readonly string[];
  readonly Volumes?: readonly DesiredVolume[];
  readonly RetiredVolumes?: readonly DesiredVolume[];
  /** The certificate names the bricks accept (`auth.ssl-allow`, efs/tls-clients.ts). */
  readonly AllowedClients?: readonly string[];
}

export type ReportStorageHost = (report: StorageReport) => Promise<StorageAnswer>;

/** berth's CA's answer to a certificate request (IssueStorageCertificate). */
export interface IssuedCertificate {
  readonly Certificate?: string;
  readonly CaCertificate?: string;
}

export interface StorageNodeClient {
  readonly report: ReportStorageHost;
  readonly issueCertificate: (hostId: string, csr: string) => Promise<IssuedCertificate>;
}

export function storageReportsClient(options: { endpoint: string; region: string; credentials: AwsCredentialIdentityProvider; timeoutMs?: number }): StorageNodeClient {
  const call = signedJsonCaller({
    ...options,
    service: 'elasticfilesystem',
    targetPrefix: 'BerthStorageNode',
    refused: (type, operation, message) => new Error(`${operation}: ${type}: ${message}`),
  });
  return {
    report: async (report) => (await call('ReportStorageHost', report)) as unknown as StorageAnswer,
    issueCertificate: async (hostId, csr) => (await call('IssueStorageCertificate', { HostId: hostId, Csr: csr })) as IssuedCertificate,
  };
}
