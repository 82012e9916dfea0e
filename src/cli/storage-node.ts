import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from 'pino';
import { background } from '../process/background.js';

/** What a storage host is, as it reports itself (`berth storage`'s flags, or what `berth up` picks). */
export interface StorageNodeOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentityProvider;
  readonly hostId: string;
  /** Where other storage hosts and clients reach this host's glusterd (never loopback: GlusterFS refuses such bricks). */
  readonly address: string;
  readonly brickDir: string;
  /** glusterd's own state (its /var/lib/glusterd, /run and logs: src/storage/glusterd.ts). */
  readonly stateDir: string;
  readonly availabilityZone: string;
  readonly log: Logger;
  readonly intervalMs?: number;
  /** Epoch ms (the certificate's renewal time); injectable for tests. */
  readonly now?: () => number;
}

/** A running storage host (`berth storage`, or the one `berth up` runs). */
export interface StorageNode {
  readonly glusterdPid: number;
  /** Stop reporting; with `stopGlusterd`, stop glusterd and its bricks too (else they keep serving mounted volumes). */
  stop(options?: { stopGlusterd?: boolean }): Promise<void>;
}

/**
 * What a storage host runs and what the agent mounts with (scripts/install.sh installs them all in runtime mode):
 * glusterd and the gluster CLI (glusterfs-server), the FUSE client glusterfs (glusterfs-client), bindfs for access
 * points, setpriv/unshare/nsenter (util-linux).
 */
export const STORAGE_COMMANDS = ['glusterd', 'gluster', 'glusterfs', 'bindfs', 'setpriv', 'unshare', 'nsenter'] as const;

/** The commands of STORAGE_COMMANDS not on PATH (`has` probes one; the default runs `command -v`). */
export function missingStorageCommands(has: (command: string) => boolean = onPath): string[] {
  return STORAGE_COMMANDS.filter((c) => !has(c));
}

function onPath(command: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a storage host: its glusterd (or the one a killed predecessor left running), then every `intervalMs` a
 * report to the control plane and what its answer asks (src/storage/storage-follower.ts). Resolves once glusterd
 * answers.
 */
export async function startStorageNode(options: StorageNodeOptions): Promise<StorageNode> {
  const [{ Glusterd, GLUSTERD_TLS_DIR }, { storageReportsClient }, { storageTick, newVolumeMemory }, { CertificateRenewal }] = await Promise.all([
    import('../storage/glusterd.js'),
    import('../storage/storage-reports.js'),
    import('../storage/storage-follower.js'),
    import('../storage/certificate-renewal.js'),
  ]);
  const { log } = options;
  mkdirSync(options.brickDir, { recursive: true });
  const identity = { hostId: options.hostId, address: options.address, brickDir: options.brickDir, availabilityZone: options.availabilityZone };
  const client = storageReportsClient({ endpoint: options.endpoint, region: options.region, credentials: options.credentials });
  // The bricks' TLS identity (every volume is served over TLS, docs/storage.md), in place before any brick starts;
  // a fresh certificate at every start, renewed at two thirds of its lifetime while the host runs
  // (storage/certificate-renewal.ts). Inside glusterd's namespace the directory is GLUSTERD_TLS_DIR.
  const certificate = new CertificateRenewal({
    dir: join(options.stateDir, 'lib', 'berth-tls'),
    issue: (csr) => client.issueCertificate(identity.hostId, csr),
    now: options.now ?? Date.now,
  });
  for (;;) {
    try {
      await certificate.renew();
      break;
    } catch (error) {
      // The control plane may still be starting (a host and its control plane started together).
      log.warn({ err: (error as Error).message }, 'no TLS certificate from the control plane yet; asking again');
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
  log.info({ dir: GLUSTERD_TLS_DIR, renewAt: new Date(certificate.renewalDueAt!).toISOString() }, 'TLS certificate issued by the control plane');
  const glusterd = await Glusterd.start(options.stateDir);
  const report = client.report;
  let running: Promise<void> | undefined;
  let last: Awaited<ReturnType<typeof storageTick>> | undefined;
  let renewing: Promise<void> | undefined;
  const memory = newVolumeMemory();
  const timer = setInterval(() => {
    // A failed renewal is retried at the next tick: the old certificate has a third of its lifetime left.
    renewing ??= background(log, 'certificate renewal', async () => {
      if (await certificate.renewIfDue()) log.info({ renewAt: new Date(certificate.renewalDueAt!).toISOString() }, 'TLS certificate renewed');
    }).finally(() => (renewing = undefined));
    running ??= background(log, 'storage tick', async () => {
      const answer = await storageTick(identity, glusterd, report, log, last, memory);
      if (answer.PoolLeader !== last?.PoolLeader) log.info({ poolLeader: answer.PoolLeader === true }, answer.PoolLeader ? 'leading the storage pool' : 'following the storage pool leader');
      last = answer;
    }).finally(() => (running = undefined));
  }, options.intervalMs ?? 1000);
  return {
    glusterdPid: glusterd.pid,
    async stop({ stopGlusterd = true } = {}) {
      clearInterval(timer);
      await Promise.all([running, renewing]);
      if (stopGlusterd) await glusterd.stop();
    },
  };
}
