/**
 * The client side of BerthStorageNode (src/efs/storage-node-service.ts): an AWS JSON 1.1 request signed with SigV4
 * for `elasticfilesystem` with the storage host's own credentials (no SDK client exists for a berth-private API).
 */
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export interface StorageReport {
  readonly HostId: string;
  readonly Address: string;
  readonly BrickDir: string;
  readonly AvailabilityZone: string;
  readonly Volumes: readonly { Name: string; Started: boolean }[];
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
}

export type ReportStorageHost = (report: StorageReport) => Promise<StorageAnswer>;

export function storageReportsClient(options: { endpoint: string; region: string; credentials: AwsCredentialIdentityProvider; timeoutMs?: number }): ReportStorageHost {
  const signer = new SignatureV4({ credentials: options.credentials, region: options.region, service: 'elasticfilesystem', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
  const url = new URL(options.endpoint);
  return async (report) => {
    const body = JSON.stringify(report);
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: '/',
        headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'BerthStorageNode.ReportStorageHost' },
        body,
      }),
    );
    const { host: _host, ...headers } = signed.headers;
    const res = await fetch(new URL('/', url), { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (!res.ok) throw new Error(`ReportStorageHost: ${String(json.__type ?? res.status)}: ${String(json.message ?? text)}`);
    return json as StorageAnswer;
  };
}
