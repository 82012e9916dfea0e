/**
 * A host's GlusterFS TLS identity in one directory: its private key (made here, once, mode 0600, never sent or
 * logged), the certificate berth's CA issued for it and the CA's certificate. Storage hosts keep it under their
 * glusterd's /var/lib/glusterd (per host, as GlusterFS's own /etc/ssl/glusterfs.* would be per machine), agents
 * under their data directory. The CA signs a request made from the key (efs/mount-ca.ts).
 *
 *   own.key  the private key          own.pem  its certificate          ca.pem  the CA to trust
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TlsFiles {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

export const tlsFiles = (dir: string): TlsFiles => ({ key: join(dir, 'own.key'), cert: join(dir, 'own.pem'), ca: join(dir, 'ca.pem') });

/** A certificate request for the key in `dir` (the key is made first when missing). */
export async function certificateRequest(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { key } = tlsFiles(dir);
  const exists = await stat(key).then(() => true, () => false);
  if (!exists) {
    // Made under a temporary name and renamed, so a half-written key is never used.
    const partial = `${key}.partial`;
    await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', partial]);
    await chmod(partial, 0o600);
    await rename(partial, key);
  }
  const { stdout } = await run('openssl', ['req', '-new', '-key', key, '-subj', '/CN=berth']);
  return stdout;
}

/** Install the issued certificate and the CA's (each replaced whole: a reader sees the old file or the new). */
export async function installCertificate(dir: string, issued: { readonly Certificate?: string; readonly CaCertificate?: string }): Promise<TlsFiles> {
  if (!issued.Certificate || !issued.CaCertificate) throw new Error('the control plane issued no certificate');
  const files = tlsFiles(dir);
  for (const [path, pem] of [
    [files.cert, issued.Certificate],
    [files.ca, issued.CaCertificate],
  ] as const) {
    await writeFile(`${path}.new`, pem, { mode: 0o644 });
    await rename(`${path}.new`, path);
  }
  return files;
}
