/**
 * Keeps a host's GlusterFS TLS certificate (tls-identity.ts) fresh: renewed at two thirds of its lifetime (day 20 of
 * 30), so a control plane that is down for a while still leaves days of retries before the certificate expires.
 *
 *   no certificate ──issue──▶ valid ──(now ≥ notBefore + ⅔·lifetime)──▶ due ──issue──▶ valid (new files)
 *                                                                         └─ refused/unreachable: due, retried
 *
 * A renewal replaces own.pem (and ca.pem) whole, with the same key. Nothing is restarted: GlusterFS reads the
 * certificate files for every new TLS connection (rpc/socket `ssl_setup_connection_params`), so connections already
 * up (mounted clients, the self-heal daemon) keep going and every new connection — a new mount, a reconnect, a
 * brick started later — presents the new certificate.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { certificateRequest, installCertificate, tlsFiles } from './tls-identity.js';

/** Of a certificate's lifetime, how much passes before it is renewed. */
export const RENEW_AT_FRACTION = 2 / 3;

/** When `certPem` is due for renewal (epoch ms). */
export function renewalDueAt(certPem: string, fraction = RENEW_AT_FRACTION): number {
  const cert = new X509Certificate(certPem);
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return from + (to - from) * fraction;
}

export interface CertificateRenewalOptions {
  /** The identity's directory (tls-identity.ts files). */
  readonly dir: string;
  /** Asks the control plane to sign the request. */
  readonly issue: (csr: string) => Promise<{ readonly Certificate?: string; readonly CaCertificate?: string }>;
  readonly now: () => number;
}

export class CertificateRenewal {
  private dueAt: number | undefined;

  constructor(private readonly options: CertificateRenewalOptions) {}

  /** A certificate from the control plane now (at a host's start), installed before anything uses the files. */
  async renew(): Promise<void> {
    const { dir, issue } = this.options;
    const csr = await certificateRequest(dir);
    await installCertificate(dir, await issue(csr));
    this.dueAt = renewalDueAt(await readFile(tlsFiles(dir).cert, 'utf8'));
  }

  /** When the installed certificate is due (undefined before the first renewal). */
  get renewalDueAt(): number | undefined {
    return this.dueAt;
  }

  /** Renews when due; answers whether it did. A failure throws and leaves the renewal due, to be retried. */
  async renewIfDue(): Promise<boolean> {
    if (this.dueAt !== undefined && this.options.now() < this.dueAt) return false;
    await this.renew();
    return true;
  }
}
