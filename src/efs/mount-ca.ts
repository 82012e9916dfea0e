/**
 * berth's certificate authority for EFS transit encryption: GlusterFS's TLS (docs/storage.md) needs every storage
 * host and every mounting host to hold a certificate the others trust. The control plane keeps one CA (made on first
 * use, its key sealed in the store like every secret, so every replica signs with the same CA) and signs
 * certificate requests: a storage host's when it starts (`IssueStorageCertificate`), an agent's with each mount
 * (`ResolveMount`). The hosts make their own keys; only requests and certificates travel, no private key leaves
 * the host that made it, and none is ever logged.
 *
 * Signing uses the openssl CLI (Node's crypto parses certificates but cannot issue them); the CA key is written to
 * a private temporary directory only for the signing command and removed right after.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Sealer } from '../identity/sealer.js';
import type { Store } from '../store/store.js';
import { readRecord, transact } from '../store/transact.js';
import { efsKeys as k } from '../state/efs-keys.js';
import { parseMountCaRecord, type MountCaRecord } from '../state/records/efs.js';
import { efsErrors } from './errors.js';

const run = promisify(execFile);

/** How long an issued certificate is valid: hosts ask again at every start (storage) or mount (agents). */
export const CERTIFICATE_DAYS = 30;
const CA_DAYS = 3650;

export interface IssuedCertificate {
  readonly Certificate: string;
  readonly CaCertificate: string;
}

export interface MountCaEnv {
  readonly store: Store;
  readonly sealer: Sealer;
  readonly now: () => number;
}

export class MountCa {
  constructor(private readonly env: MountCaEnv) {}

  /** A certificate for the key of `csrPem`, named `commonName` (what GlusterFS logs as the peer), signed by the CA. */
  async issue(csrPem: string, commonName: string): Promise<IssuedCertificate> {
    if (!/^-----BEGIN CERTIFICATE REQUEST-----[\s\S]+-----END CERTIFICATE REQUEST-----\s*$/.test(csrPem)) {
      throw efsErrors.badRequest('Csr must be a PEM certificate request.');
    }
    const ca = await this.ca();
    const dir = await mkdtemp(join(tmpdir(), 'berth-mount-ca-'));
    try {
      const paths = { csr: join(dir, 'req.csr'), caCert: join(dir, 'ca.pem'), caKey: join(dir, 'ca.key'), ext: join(dir, 'ext') };
      await writeFile(paths.csr, csrPem, { mode: 0o600 });
      await writeFile(paths.caCert, ca.certPem, { mode: 0o600 });
      await writeFile(paths.caKey, this.env.sealer.open(ca.sealedKey, k.mountCa()), { mode: 0o600 });
      await writeFile(paths.ext, 'basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth,serverAuth\n', { mode: 0o600 });
      // Proof that the requester holds the key: the request's own signature.
      await run('openssl', ['req', '-in', paths.csr, '-verify', '-noout']).catch(() => {
        throw efsErrors.badRequest('Csr is not a valid, self-signed certificate request.');
      });
      const { stdout } = await run('openssl', [
        'x509', '-req', '-in', paths.csr, '-CA', paths.caCert, '-CAkey', paths.caKey,
        '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', String(CERTIFICATE_DAYS),
        '-subj', `/CN=${commonName.replace(/[/=,+]/g, '_')}`, '-extfile', paths.ext,
      ]);
      return { Certificate: stdout, CaCertificate: ca.certPem };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The CA, made once: replicas racing to make it agree on the one the store kept. */
  private async ca(): Promise<MountCaRecord> {
    const existing = await readRecord(this.env.store, parseMountCaRecord, k.mountCa());
    if (existing) return existing;
    const made = await makeCa(this.env.sealer, this.env.now());
    return transact(this.env.store, async (tx) => {
      const raced = await tx.getRecord(parseMountCaRecord, k.mountCa());
      if (raced) return raced;
      tx.putJson(k.mountCa(), made);
      return made;
    });
  }
}

async function makeCa(sealer: Sealer, now: number): Promise<MountCaRecord> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-mount-ca-'));
  try {
    const key = join(dir, 'ca.key');
    const { stdout: certPem } = await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
      '-days', String(CA_DAYS), '-subj', '/CN=berth EFS transit CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    ]);
    return { certPem, sealedKey: sealer.seal(await readFile(key), k.mountCa()), createdAt: now };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
