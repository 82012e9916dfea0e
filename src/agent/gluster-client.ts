/**
 * How the agent starts a glusterfs FUSE client whose management connection (glusterd :24007: the volfile fetch and
 * the bricks' port map) is TLS, as the storage hosts' glusterd requires (`secure-access`, storage/glusterd.ts).
 *
 * GlusterFS takes that connection's certificate, key and CA only from /usr/lib/ssl/glusterfs.* (compiled in), so the
 * client runs in a mount namespace of its own where the agent's directory of links to its TLS files
 * (tls-identity.ts managementSslDir) is bound there; the host's /usr/lib/ssl is untouched and several agents on one
 * machine (the lab) each present their own identity. Its FUSE mount must still be seen by the agent and the
 * containers, in the host's namespace, so it goes back by mount propagation:
 *
 *   host ns:    <mounts root> bound on itself and made shared (its own peer group), once (ensureSharedMountPoint)
 *   client ns:  unshare -m --propagation unchanged → its copy of <mounts root> is in that peer group;
 *               the mount holding /usr/lib/ssl made a slave (that one only, not recursive), so the bind over
 *               /usr/lib/ssl stays in the client's namespace; then `glusterfs --secure-mgmt=yes … <under root>`:
 *               the FUSE mount is made in the peer group and appears in the host's namespace.
 *
 * Unmounting in the host's namespace propagates to the client's copy; the client then exits and its namespace goes
 * with it (checked by hand, docs/storage.md).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { decodeMountPath } from '../files/mountinfo.js';
import { MANAGEMENT_SSL_DIR } from '../storage/tls-identity.js';

const run = promisify(execFile);

/**
 * The command line running `glusterfs <args>` with a TLS management connection, `sslDir` bound at /usr/lib/ssl in
 * a mount namespace of its own (pure). The paths go as positional parameters, never into the script's text.
 */
export function secureMgmtCommand(sslDir: string, args: readonly string[]): [string, ...string[]] {
  const script = [
    `mount --make-slave "$(findmnt -n -o TARGET -T ${MANAGEMENT_SSL_DIR})"`,
    `mount --bind "$1" ${MANAGEMENT_SSL_DIR}`,
    'shift',
    'exec glusterfs --secure-mgmt=yes "$@"',
  ].join(' && ');
  return ['unshare', '-m', '--propagation', 'unchanged', 'sh', '-c', script, 'sh', sslDir, ...args];
}

/** Whether `path` is a mount point in `mountinfo`, and a shared one (a `shared:N` optional field). Pure. */
export function mountPointState(mountinfo: string, path: string): 'shared' | 'mounted' | 'none' {
  let state: 'shared' | 'mounted' | 'none' = 'none';
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] === undefined || decodeMountPath(fields[4]) !== path) continue;
    // The last mount on a path is the one seen there.
    state = fields.slice(6, fields.indexOf('-')).some((f) => f.startsWith('shared:')) ? 'shared' : 'mounted';
  }
  return state;
}

/**
 * Make `dir` (existing) a shared mount point in this namespace, its own peer group, unless it is one already (an
 * agent restarted). The mounts made under it in the clients' namespaces then appear here.
 */
export async function ensureSharedMountPoint(dir: string): Promise<void> {
  const state = mountPointState(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  if (state === 'shared') return;
  if (state === 'none') await run('mount', ['--bind', dir, dir]);
  await run('mount', ['--make-shared', dir]);
}
