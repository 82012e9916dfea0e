/**
 * A host's GlusterFS TLS identity in one directory: its private key (made here, once, mode 0600, never sent or
 * logged), the certificate berth's CA issued for it and the CA's certificate. Storage hosts keep it under their
 * glusterd's /var/lib/glusterd (per host, as GlusterFS's own /etc/ssl/glusterfs.* would be per machine), agents
 * under their data directory. The CA signs a request made from the key (efs/mount-ca.ts).
 *
 *   own.key  the private key          own.pem  its certificate          ca.pem  the CA to trust
 *
 * GlusterFS's management connection (glusterd :24007: volfile fetch, port map, glusterd peers) takes its identity
 * only from paths compiled in, MANAGEMENT_SSL_DIR/glusterfs.{pem,key,ca}; `--xlator-option`s reach only the volume
 * graph. So each glusterd and each agent's glusterfs client runs in a mount namespace where a directory of links to
 * its own files (managementSslDir) is bound there (storage/glusterd.ts, agent/gluster-client.ts).
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, rename, stat, symlink, unlink, writeFile } from 'node:fs/promises';
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

/** Where GlusterFS's management connection finds its certificate, key and CA (compiled in, `strings` of socket.so). */
export const MANAGEMENT_SSL_DIR = '/usr/lib/ssl';

/**
 * Make `dir` a directory to bind at MANAGEMENT_SSL_DIR: glusterfs.pem, glusterfs.key and glusterfs.ca as symbolic
 * links to `files` (paths as the namespace that binds it sees them). Links, not copies: a renewal replaces the
 * targets (installCertificate) and every new TLS connection reads the new files. Each link is replaced whole.
 */
export async function writeManagementSslDir(dir: string, files: TlsFiles): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, target] of [
    ['glusterfs.pem', files.cert],
    ['glusterfs.key', files.key],
    ['glusterfs.ca', files.ca],
  ] as const) {
    const partial = join(dir, `${name}.new`);
    await unlink(partial).catch(() => {});
    await symlink(target, partial);
    await rename(partial, join(dir, name));
  }
}
