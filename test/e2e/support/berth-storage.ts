import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureSharedMountPoint, secureMgmtCommand } from '../../../src/agent/gluster-client.js';
import { tlsFiles, writeManagementSslDir } from '../../../src/storage/tls-identity.js';

const CLI = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

/** A `berth storage` host in a lab network namespace, with its glusterd state and bricks under `dir`. */
export interface BerthStorageProcess {
  readonly child: ChildProcess;
  readonly brickDir: string;
  readonly stateDir: string;
  readonly address: string;
  output(): string;
  /** The glusterd this host runs and the brick and self-heal processes it started (their pid files). */
  glusterPids(): number[];
  /** kill -9 of berth storage, its glusterd and its bricks: the host is gone. */
  killHost(): void;
  /** SIGTERM berth storage (it stops its glusterd and bricks), then make sure nothing of it is left. */
  stop(): Promise<void>;
}

export function startBerthStorage(o: {
  readonly endpoint: string;
  readonly credentialsFile: string;
  readonly netns: string;
  readonly address: string;
  readonly zone: string;
  readonly dir: string;
}): BerthStorageProcess {
  const brickDir = join(o.dir, 'bricks');
  const stateDir = join(o.dir, 'state');
  const child = spawn(
    'nsenter',
    [`--net=/var/run/netns/${o.netns}`, '--', process.execPath, CLI, 'storage', '--endpoint', o.endpoint, '--brick-dir', brickDir, '--state-dir', stateDir, '--address', o.address, '--availability-zone', o.zone],
    { env: { ...process.env, AWS_SHARED_CREDENTIALS_FILE: o.credentialsFile, AWS_PROFILE: 'berth', AWS_CONFIG_FILE: '/dev/null' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const glusterPids = () => {
    const pids: number[] = [];
    const pidFile = join(stateDir, 'glusterd.pid');
    if (existsSync(pidFile)) pids.push(Number(readFileSync(pidFile, 'utf8').trim()));
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.pid')) pids.push(Number(readFileSync(join(d, e.name), 'utf8').trim()));
      }
    };
    walk(join(stateDir, 'run', 'gluster'));
    return pids.filter((p) => Number.isInteger(p) && p > 1);
  };
  const killAll = (pids: number[]) => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  return {
    child,
    brickDir,
    stateDir,
    address: o.address,
    output: () => output,
    glusterPids,
    killHost() {
      killAll([child.pid!, ...glusterPids()]);
    },
    async stop() {
      const pids = glusterPids();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      killAll([child.pid!, ...pids, ...glusterPids()]);
    },
  };
}

/**
 * glusterfs client options for mounting a berth volume directly (every volume is TLS-only): the TLS identity of
 * storage host `host` (its key and certificate from berth's CA), as a test or benchmark host has none of its own.
 */
export function glusterTlsOptions(volume: string, host: BerthStorageProcess): string[] {
  return glusterTlsOptionsOf(volume, join(host.stateDir, 'lib', 'berth-tls'));
}

/** The same with the TLS identity in `tls` (tls-identity.ts's files: an agent's `<data dir>/efs-tls`). */
export function glusterTlsOptionsOf(volume: string, tls: string): string[] {
  const client = `${volume}-client-*.transport.socket`;
  return [`${client}.ssl-own-cert=${tls}/own.pem`, `${client}.ssl-private-key=${tls}/own.key`, `${client}.ssl-ca-list=${tls}/ca.pem`].flatMap((o) => ['--xlator-option', o]);
}

/** A volume's trusted client volfile in `host`'s glusterd state (it holds the volume's root-access credentials). */
export const trustedVolfilePath = (volume: string, host: BerthStorageProcess) => join(host.stateDir, 'lib', 'vols', volume, `trusted-${volume}.tcp-fuse.vol`);

/**
 * glusterfs's argv for a mount that acts as root on `volume` (every volume squashes root for other clients,
 * docs/storage.md): a private copy (0700 directory, 0600 file) of its trusted volfile from `host`'s glusterd state,
 * `--no-root-squash`, only errors logged (the graph dump holds the password), and `host`'s TLS identity — as the agent
 * mounts for a task with ClientRootAccess. Call `cleanup` once the mount answers: glusterfs reads the file once.
 */
export function trustedMountArgs(volume: string, host: BerthStorageProcess, logFile: string, point: string): { args: string[]; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-volfile-'));
  const file = join(dir, 'trusted.vol');
  copyFileSync(trustedVolfilePath(volume, host), file);
  return {
    args: [`--volfile=${file}`, '--no-root-squash', '--log-level=ERROR', ...glusterTlsOptions(volume, host), '--log-file', logFile, point],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Whether mount point `point` is a task's EFS mount under an agent's mounts root `root`; `withRoot`: the root's own
 * bind (the agent makes it a shared mount point for its glusterfs clients, agent/gluster-client.ts) counts too.
 */
export function underEfsRoot(point: string | undefined, root: string, withRoot: boolean): boolean {
  return point !== undefined && (point.startsWith(`${root}/`) || (withRoot && point === root));
}

/**
 * The argv running `glusterfs <args>` (mounting at `point`, its last argument) from network namespace `netns` (none:
 * this one) as the
 * agent does (agent/gluster-client.ts): `--secure-mgmt=yes` in a mount namespace of its own with the TLS identity in
 * `tls` at /usr/lib/ssl, the storage hosts' glusterd accepting only TLS on its management port. `point`'s parent is
 * made a shared mount point so the mount appears here: a directory of the test's own with nothing mounted under it
 * yet (a bind of a directory holding mounts would hide them); unmount it (`umount -l`) after the mounts under it.
 */
export async function secureGlusterfsArgv(netns: string | undefined, tls: string, args: readonly string[], point: string): Promise<string[]> {
  const sslDir = `${point}.management-ssl`;
  await writeManagementSslDir(sslDir, tlsFiles(tls));
  await ensureSharedMountPoint(dirname(point));
  return [...(netns !== undefined ? ['nsenter', `--net=/var/run/netns/${netns}`, '--'] : []), ...secureMgmtCommand(sslDir, args)];
}
