import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SelfSignedCert {
  readonly certPath: string;
  readonly keyPath: string;
  /** The certificate in PEM, to trust it as a CA. */
  readonly certPem: string;
}

/** An RSA key and a self-signed certificate made by the openssl CLI in `dir`, valid for `ips` and `dnsNames`. */
export async function makeSelfSignedCert(
  dir: string,
  options: { commonName: string; ips?: string[]; dnsNames?: string[] },
): Promise<SelfSignedCert> {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const names = [...(options.ips ?? []).map((ip) => `IP:${ip}`), ...(options.dnsNames ?? []).map((n) => `DNS:${n}`)];
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2',
    '-subj', `/CN=${options.commonName}`,
    ...(names.length ? ['-addext', `subjectAltName=${names.join(',')}`] : []),
  ]);
  return { certPath, keyPath, certPem: readFileSync(certPath, 'utf8') };
}
