/**
 * The agent's GlusterFS TLS certificate for EFS mounts (`<data dir>/efs-tls`, tls-identity.ts), named for its
 * container instance (IssueAgentCertificate). Kept fresh by the storage hosts' renewal (storage/certificate-renewal.ts:
 * renewed at two thirds of its 30 days) at two moments:
 *
 *   before a mount   ──▶ none since the agent started, or due ──▶ issued (waited for)
 *   every interval   ──▶ due, or none since start but one on disk ──▶ issued; a failure logged, retried next tick
 *                          (never mounted: nothing asked)
 *
 * A mount lives on with the files it was started with: GlusterFS reads them again for every new TLS connection, so
 * a mount's reconnection (a brick restarted) presents the renewed certificate, not an expired one. The first tick
 * after a start renews a certificate left on disk, so mounts that outlived an agent restart are covered too.
 */
import { stat } from 'node:fs/promises';
import { CertificateRenewal, type CertificateRenewalOptions } from '../storage/certificate-renewal.js';
import { tlsFiles } from '../storage/tls-identity.js';

/** How often the agent checks whether its certificate is due, between mounts. */
export const MOUNT_CERTIFICATE_CHECK_MS = 60_000;

export class MountCertificate {
  private readonly renewal: CertificateRenewal;
  private inFlight: Promise<boolean> | undefined;

  constructor(private readonly options: CertificateRenewalOptions) {
    this.renewal = new CertificateRenewal(options);
  }

  /** Before a mount: a certificate is installed and not due (renewed first when due or not issued since start). */
  async ensure(): Promise<void> {
    await this.renewOnce();
  }

  /** Between mounts: renews when due; an agent that never mounted (no certificate on disk) asks for nothing. */
  async renewIfDue(): Promise<boolean> {
    if (this.renewal.renewalDueAt === undefined) {
      const onDisk = await stat(tlsFiles(this.options.dir).cert).then(() => true, () => false);
      if (!onDisk) return false;
    }
    return this.renewOnce();
  }

  /** When the installed certificate is due (undefined before the first renewal since start). */
  get renewalDueAt(): number | undefined {
    return this.renewal.renewalDueAt;
  }

  /** One renewal at a time: a mount and a tick at once share it. */
  private renewOnce(): Promise<boolean> {
    this.inFlight ??= this.renewal.renewIfDue().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }
}
