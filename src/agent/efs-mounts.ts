/**
 * Task volumes with `efsVolumeConfiguration`: the agent mounts the file system's GlusterFS volume on the host with
 * the FUSE client (this kernel has no NFS client; docs/storage.md) and the task's containers get a bind of it, as
 * the ECS agent mounts EFS with the EFS mount helper and binds it in. One mount per task volume, under
 * `<root>/<task id>/<volume name>/`:
 *
 *   fs/   the volume's root (glusterfs --volfile-server … --volfile-id berth-<fs id>)
 *   ap/   with an access point's POSIX user: a bindfs view of fs/<root directory>, its FUSE daemon running as that
 *         uid, gid and secondary gids (`posixUserProcess`), so every request reaches GlusterFS with the access
 *         point's identity, as EFS applies it to every NFS request: files are created as the uid/gid and access is
 *         checked for them, secondary groups included. Every file shows as theirs (--force-user/--force-group).
 *         GlusterFS has no per-client identity mapping; bindfs is the existing FUSE layer that can carry one.
 *
 * The containers see only the root directory (the access point's, else `rootDirectory`): the bind's source is that
 * subdirectory, so `..` at its top stays inside it. An access point's root directory is made, with its CreationInfo
 * owner and permissions, when missing (as EFS does); a missing `rootDirectory` without one fails the mount.
 *
 * Every mount is TLS (GlusterFS's own, `client.ssl`/`server.ssl`: the bricks accept nothing else, docs/storage.md):
 * the agent's key and its certificate of berth's CA stay in `<tls dir>` (issued before the first mount and renewed
 * when due, mount-certificate.ts), and the glusterfs client is pointed at them with `--xlator-option` (the volfile
 * names the storage hosts' own paths). The management connection (glusterd :24007, the volfile fetch) is TLS too:
 * the client runs in a mount namespace of its own with the same identity at /usr/lib/ssl (gluster-client.ts), its
 * FUSE mount coming back to the host's namespace through the mounts root, a shared mount. The control plane also decides what the task may do (IAM, efs/mount-authorization.ts):
 * a refused mount fails the task, no ClientWrite mounts read-only, no ClientRootAccess squashes an access point's
 * uid 0 to 65534.
 *
 * Root squash: every volume squashes root (`server.root-squash on`) except for clients holding its credentials. With
 * ClientRootAccess the control plane hands the volume's trusted client volfile (efs/trusted-volfiles.ts); the agent
 * writes it to a private file (0600, in a fresh 0700 directory under its TLS directory), mounts with
 * `glusterfs --volfile=<file> --no-root-squash --log-level=ERROR` (at WARNING glusterfs logs its graph with the
 * password) and removes the file once the mount answers (glusterfs reads it once). The credentials never go on a
 * command line (glusterfs logs it; /proc/<pid>/cmdline is world-readable) nor into a log. An access point's root
 * directory that must be made with its CreationInfo owner is made through a short-lived mount of its own with the
 * credentials (`setup/`) when the task's mount is squashed.
 *
 * Mounts go with their task (`unmountTask`, at the task's cleanup) and, after the agent was killed, with `sweep` at
 * start for every task it no longer runs: both find the mounts in /proc/self/mountinfo, never by remembering them,
 * so a crash between mounting and saving leaks nothing. Directories are removed with rmdir only, after unmounting:
 * a recursive removal could reach into a mount still there and delete the file system's data.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import type { EFSVolumeConfiguration } from '@aws-sdk/client-ecs';
import { tlsFiles, writeManagementSslDir, type TlsFiles } from '../storage/tls-identity.js';
import { decodeMountPath } from '../files/mountinfo.js';
import { ensureSharedMountPoint, secureMgmtCommand } from './gluster-client.js';
import type { MountCertificate } from './mount-certificate.js';
import { StopReasonError } from './task-engine/deps.js';

const run = promisify(execFile);

/** What the control plane answers for mounting a file system (BerthStorageNode.ResolveMount). */
export interface MountPlan {
  readonly Volume: string;
  readonly Servers: readonly string[];
  /** The task may not write (no elasticfilesystem:ClientWrite). */
  readonly ReadOnly?: boolean;
  /** The task may not act as root (no elasticfilesystem:ClientRootAccess). */
  readonly RootSquash?: boolean;
  /** This host's certificate for the mount's TLS and berth's CA (answers to the request sent). */
  readonly Certificate?: string;
  readonly CaCertificate?: string;
  /** The volume's trusted client volfile (root-access credentials): never logged, never on a command line. */
  readonly TrustedVolfile?: string;
  readonly AccessPoint?: {
    readonly Uid?: number;
    readonly Gid?: number;
    readonly SecondaryGids?: readonly number[];
    readonly Path: string;
    readonly OwnerUid?: number;
    readonly OwnerGid?: number;
    readonly Permissions?: string;
  };
}

export interface MountRequest {
  readonly FileSystemId: string;
  readonly AccessPointId?: string;
  readonly TaskArn?: string;
  readonly Iam?: 'ENABLED' | 'DISABLED';
  readonly TransitEncryption?: 'ENABLED' | 'DISABLED';
  readonly Csr?: string;
}

export type ResolveMount = (request: MountRequest) => Promise<MountPlan>;

/** The private directories (under the TLS directory) a trusted volfile is written to for one mount. */
export const VOLFILE_DIR_PREFIX = 'volfile-';

/** What EFS uses for a squashed root (nfsnobody). */
const NOBODY = 65534;

/** ECS's wording for a failed EFS mount (the ECS agent's, naming the cause). */
export const EFS_MOUNT_FAILED = 'ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: stderr:';

export function efsMountError(cause: string): StopReasonError {
  return new StopReasonError(`${EFS_MOUNT_FAILED} ${cause}`);
}

/** The directory inside the file system the containers see, and whether the agent may create it (pure). */
export function rootOf(config: EFSVolumeConfiguration, plan: MountPlan): { path: string; create: boolean } {
  if (plan.AccessPoint) {
    if (config.rootDirectory !== undefined && config.rootDirectory !== '/' && config.rootDirectory !== '') {
      throw efsMountError(`rootDirectory must be omitted or '/' when an access point is used (got '${config.rootDirectory}')`);
    }
    return { path: inside(plan.AccessPoint.Path), create: plan.AccessPoint.Permissions !== undefined };
  }
  return { path: inside(config.rootDirectory ?? '/'), create: false };
}

/**
 * Whether the task's own mount is made from the trusted volfile (pure): only with ClientRootAccess (the credentials
 * may also have come only to make an access point's root directory, prepareRoot), and never under an access point's
 * non-root POSIX user. A trusted client skips the servers' permission checks for every uid, not only root's (checked
 * by hand: uid 1000 read a 0660 file of 3000:2000 through a trusted `--acl` mount), and an access point's identity
 * is checked there (`--acl`); without `--acl` the kernel checks every non-root caller (`default_permissions`).
 */
export function mountsAsRoot(plan: MountPlan): boolean {
  const user = plan.AccessPoint;
  const posixUid = user?.Uid !== undefined && user.Gid !== undefined ? user.Uid : undefined;
  return plan.TrustedVolfile !== undefined && plan.RootSquash !== true && (posixUid === undefined || posixUid === 0);
}

/** A path inside the file system: absolute, normalised (`..` stops at its top), no trailing slash. */
function inside(path: string): string {
  const normal = posix.normalize(`/${path}`);
  return normal.length > 1 ? normal.replace(/\/+$/, '') : '/';
}

/**
 * The glusterfs and bindfs command lines of one mount (pure); `tls`: this host's certificate files; `bindfs` is a
 * whole argv (setpriv first). With a POSIX user the volume is mounted with `--acl`: GlusterFS then checks
 * permissions on the servers for the uid, gid and groups each request carries (the access point's), not in the
 * kernel for the calling process's capabilities.
 */
export function mountCommands(plan: MountPlan, fsDir: string, source: string, apDir: string, tls: TlsFiles, trustedVolfile?: string): { gluster: string[]; bindfs?: string[] } {
  const user = plan.AccessPoint;
  // An access point's root identity is squashed like any root without elasticfilesystem:ClientRootAccess.
  const squash = (id: number) => (plan.RootSquash && id === 0 ? NOBODY : id);
  const posix = user?.Uid !== undefined && user.Gid !== undefined ? { uid: squash(user.Uid), gid: squash(user.Gid), secondary: user.SecondaryGids ?? [] } : undefined;
  const gluster = glusterArgs(plan, fsDir, tls, { acl: posix !== undefined, readOnly: plan.ReadOnly === true, ...(trustedVolfile !== undefined ? { trustedVolfile } : {}) });
  if (!posix) return { gluster };
  // chown/chgrp succeed without effect: every file is the access point's already, and gVisor's gofer sets the owner
  // of each file it creates to the sandbox's user (root), which the access point's identity may not give away.
  const view = ['bindfs', '-o', 'allow_other', `--force-user=${posix.uid}`, `--force-group=${posix.gid}`, '--chown-ignore', '--chgrp-ignore', source, apDir];
  return { gluster, bindfs: [...posixUserProcess(posix), ...view] };
}

/**
 * glusterfs's argv for mounting `plan`'s volume at `dir` (pure). Plain: the volfile fetched from the servers, root
 * squashed by the bricks. With `trustedVolfile` (the path of the private file holding the trusted volfile): that
 * volfile, `--no-root-squash`, and only errors logged (glusterfs logs every graph option at WARNING, the password too).
 */
export function glusterArgs(plan: MountPlan, dir: string, tls: TlsFiles, options: { acl?: boolean; readOnly?: boolean; trustedVolfile?: string } = {}): string[] {
  // The volfile carries the storage hosts' certificate paths; the client's own replace them.
  const client = `${plan.Volume}-client-*.transport.socket`;
  const own = [`${client}.ssl-own-cert=${tls.cert}`, `${client}.ssl-private-key=${tls.key}`, `${client}.ssl-ca-list=${tls.ca}`].flatMap((o) => ['--xlator-option', o]);
  const source =
    options.trustedVolfile !== undefined
      ? [`--volfile=${options.trustedVolfile}`, '--no-root-squash', '--log-level=ERROR']
      : [...plan.Servers.flatMap((s) => ['--volfile-server', s]), '--volfile-id', plan.Volume];
  return [...source, '--process-name', 'berth-efs', ...own, ...(options.acl ? ['--acl'] : []), ...(options.readOnly ? ['--read-only'] : []), dir];
}

/**
 * setpriv's argv prefix running a FUSE daemon as a POSIX user: that uid and gid, exactly those groups (the gid and
 * the secondary gids), and of root's capabilities only the two it needs to mount: SYS_ADMIN for mount(2) and
 * DAC_OVERRIDE to open /dev/fuse (root-only on hosts without udev's 0666). DAC_OVERRIDE does not reach the files:
 * the volume is an `--acl` GlusterFS mount, whose servers check the request's uid and groups. Pure.
 */
export function posixUserProcess(user: { uid: number; gid: number; secondary: readonly number[] }): string[] {
  const groups = [...new Set([user.gid, ...user.secondary])].join(',');
  const caps = '+sys_admin,+dac_override';
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, `--groups=${groups}`, `--bounding-set=-all,${caps}`, `--inh-caps=-all,${caps}`, `--ambient-caps=${caps}`, '--no-new-privs'];
}

/** Mount points in /proc/self/mountinfo under `prefix`, deepest first (octal escapes decoded). */
export function mountsUnder(mountinfo: string, prefix: string): string[] {
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(decodeMountPath)
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/**
 * ResolveMount, asked again while the control plane answers IncorrectMountTargetState: it answers only once the bricks
 * accept this agent's certificate name, waiting a few seconds each time (efs/allow-list-wait.ts); a new agent's name
 * can take longer on a loaded machine. It also answers it at once while the pool leader has not reported the volume's
 * root-access credentials (a volume started a tick ago). Any other refusal, or still that one after `patienceMs`, is final.
 */
export async function resolveUntilAccepted(
  resolve: ResolveMount,
  request: MountRequest,
  patienceMs: number,
  now: () => number = Date.now,
  pause: () => Promise<void> = () => new Promise((r) => setTimeout(r, RESOLVE_RETRY_MS)),
): Promise<MountPlan> {
  const deadline = now() + patienceMs;
  for (;;) {
    try {
      return await resolve(request);
    } catch (error) {
      if ((error as Error).name !== 'IncorrectMountTargetState' || now() >= deadline) throw error;
      // The volume's credentials not reported yet is answered at once (trusted-volfiles.ts): no tight loop.
      await pause();
    }
  }
}

/** The pause between two ResolveMount asks refused with IncorrectMountTargetState. */
const RESOLVE_RETRY_MS = 500;

export class EfsMounts {
  /** `root`: the task mounts; `tlsDir`: this host's TLS key and certificates (tls-identity.ts), kept by `certificate`. */
  constructor(
    private readonly root: string,
    private readonly resolve: ResolveMount,
    private readonly tlsDir: string,
    private readonly certificate: Pick<MountCertificate, 'ensure'>,
    private readonly mountTimeoutMs = 30_000,
  ) {}

  /** The mounts root made a shared mount point, and the management TLS links written: once per agent process. */
  private clientReady: Promise<void> | undefined;
  private prepareClient(): Promise<void> {
    this.clientReady ??= (async () => {
      await mkdir(this.root, { recursive: true });
      await ensureSharedMountPoint(this.root);
      await writeManagementSslDir(this.managementSslDir(), tlsFiles(this.tlsDir));
    })().catch((error: Error) => {
      this.clientReady = undefined;
      throw efsMountError(`preparing the GlusterFS client: ${error.message}`);
    });
    return this.clientReady;
  }

  private managementSslDir = (): string => join(this.tlsDir, 'management-ssl');

  /** The host directory to bind for task volume `name` of task `taskArn`, its file system mounted (once per task and volume). */
  async mount(taskArn: string, name: string, config: EFSVolumeConfiguration): Promise<string> {
    if (!config.fileSystemId) throw efsMountError(`volume '${name}' has no fileSystemId`);
    const taskId = taskArn.slice(taskArn.lastIndexOf('/') + 1);
    const base = join(this.root, taskId, name);
    const fsDir = join(base, 'fs');
    const apDir = join(base, 'ap');
    let plan: MountPlan;
    try {
      // This host's certificate, issued once and renewed when due (mount-certificate.ts), not one per mount.
      await this.certificate.ensure();
      const auth = config.authorizationConfig;
      const request: MountRequest = {
        FileSystemId: config.fileSystemId,
        ...(auth?.accessPointId !== undefined ? { AccessPointId: auth.accessPointId } : {}),
        TaskArn: taskArn,
        Iam: auth?.iam === 'ENABLED' ? 'ENABLED' : 'DISABLED',
        TransitEncryption: config.transitEncryption === 'ENABLED' ? 'ENABLED' : 'DISABLED',
      };
      plan = await resolveUntilAccepted(this.resolve, request, this.mountTimeoutMs);
    } catch (error) {
      // The control plane's refusal is named by its code (FileSystemNotFound, AccessPointNotFound…).
      const e = error as Error;
      throw efsMountError(`resolving ${config.fileSystemId}: ${e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`);
    }
    const root = rootOf(config, plan);
    const source = join(fsDir, root.path);
    const tls = tlsFiles(this.tlsDir);
    const asRoot = mountsAsRoot(plan);
    const mounted = mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), base);
    if (!mounted.includes(fsDir)) {
      await mkdir(fsDir, { recursive: true });
      await this.mountGluster(plan, fsDir, config.fileSystemId, asRoot, (volfile) => mountCommands(plan, fsDir, source, apDir, tls, volfile).gluster);
    }
    await this.prepareRoot(source, root, plan, config.fileSystemId, base, asRoot);
    const commands = mountCommands(plan, fsDir, source, apDir, tls);
    if (!commands.bindfs) return source;
    if (!mounted.includes(apDir)) {
      await mkdir(apDir, { recursive: true });
      const [command, ...args] = commands.bindfs;
      await run(command!, args, { timeout: this.mountTimeoutMs }).catch((error: { stderr?: string; message: string }) => {
        throw efsMountError(`bindfs for access point ${config.authorizationConfig?.accessPointId}: ${(error.stderr || error.message).trim()}`);
      });
    }
    return apDir;
  }

  /**
   * Mount the volume at `fsDir` with the argv `argsFor` makes; `trusted`: from the plan's trusted volfile, written to
   * a private file for glusterfs to read (its path given to `argsFor`) and removed once the mount answers or fails.
   */
  private async mountGluster(plan: MountPlan, fsDir: string, fileSystemId: string, trusted: boolean, argsFor: (volfile?: string) => string[]): Promise<void> {
    const volfile = trusted ? await this.writeVolfile(plan.TrustedVolfile!) : undefined;
    try {
      await this.mountAndWait(argsFor(volfile?.path), fsDir, fileSystemId);
    } finally {
      if (volfile) await rm(volfile.dir, { recursive: true, force: true });
    }
  }

  /** The trusted volfile in a file only root can read: a fresh 0700 directory (mkdtemp) in the 0700 TLS directory, 0600. */
  private async writeVolfile(text: string): Promise<{ dir: string; path: string }> {
    await mkdir(this.tlsDir, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(join(this.tlsDir, VOLFILE_DIR_PREFIX));
    const path = join(dir, 'trusted.vol');
    await writeFile(path, text, { mode: 0o600, flag: 'wx' });
    return { dir, path };
  }

  private async mountAndWait(args: string[], fsDir: string, fileSystemId: string): Promise<void> {
    await this.prepareClient();
    try {
      const [command, ...argv] = secureMgmtCommand(this.managementSslDir(), args);
      await run(command, argv, { timeout: this.mountTimeoutMs });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw efsMountError(`mounting ${fileSystemId}: ${(e.stderr || e.message).trim()}`);
    }
    // glusterfs daemonizes before the FUSE mount is in place, and exits in the background when it cannot be; a mount
    // whose bricks refuse it (TLS) stays in place but answers ENOTCONN, so the root must also be readable.
    const deadline = Date.now() + this.mountTimeoutMs;
    let last = '';
    for (;;) {
      const mounted = mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), fsDir).includes(fsDir);
      if (mounted) {
        const ready = await readdir(fsDir).then(() => true, (e: Error) => ((last = e.message), false));
        if (ready) return;
      }
      if (Date.now() > deadline) {
        if (mounted) await run('umount', ['-l', fsDir]).catch(() => {});
        throw efsMountError(`mounting ${fileSystemId}: the GlusterFS volume did not ${mounted ? `answer over TLS (${last})` : 'mount'} within ${this.mountTimeoutMs} ms (servers unreachable?)`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /**
   * The root directory made when the access point says how, else required to exist. Making it with its owner needs
   * root on the volume: through the task's mount when that acts as root, else through a mount of its own with the
   * volume's credentials (`<base>/setup`), unmounted right after.
   */
  private async prepareRoot(source: string, root: { path: string; create: boolean }, plan: MountPlan, fileSystemId: string, base: string, asRoot: boolean): Promise<void> {
    const exists = await stat(source).then((s) => s.isDirectory(), () => false);
    if (exists) return;
    if (!root.create) throw efsMountError(`mount ${fileSystemId}:${root.path}: No such file or directory`);
    const ap = plan.AccessPoint!;
    if (asRoot) return makeRootDirectory(source, ap);
    if (plan.TrustedVolfile === undefined) throw efsMountError(`mount ${fileSystemId}:${root.path}: the access point's root directory is missing and no root-access credentials came to make it`);
    const setup = join(base, 'setup');
    await mkdir(setup, { recursive: true });
    await this.mountGluster(plan, setup, fileSystemId, true, (volfile) => glusterArgs(plan, setup, tlsFiles(this.tlsDir), volfile !== undefined ? { trustedVolfile: volfile } : {}));
    try {
      await makeRootDirectory(join(setup, root.path), ap);
    } finally {
      await run('umount', ['-l', setup]).catch(() => {});
      await rmdir(setup).catch(() => {});
    }
  }

  /** Unmount everything of the task (deepest first) and remove its directories. */
  async unmountTask(taskId: string): Promise<void> {
    const dir = join(this.root, taskId);
    for (const point of mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir)) {
      await run('umount', ['-l', point]);
    }
    if (mountsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir).length > 0) throw new Error(`${dir} is still mounted`);
    await removeEmptyTree(dir);
  }

  /**
   * After a restart: unmount the file systems of tasks not in `keep` (the tasks the agent still runs), and remove
   * trusted volfiles a killed agent left between writing and removing them.
   */
  async sweep(keep: ReadonlySet<string>): Promise<string[]> {
    for (const name of await readdir(this.tlsDir).catch(() => [] as string[])) {
      if (name.startsWith(VOLFILE_DIR_PREFIX)) await rm(join(this.tlsDir, name), { recursive: true, force: true });
    }
    const names = await readdir(this.root).catch(() => [] as string[]);
    const gone = names.filter((n) => !keep.has(n));
    for (const taskId of gone) await this.unmountTask(taskId);
    return gone;
  }
}

/** An access point's root directory with its CreationInfo owner and permissions (as root on the volume). */
async function makeRootDirectory(path: string, ap: NonNullable<MountPlan['AccessPoint']>): Promise<void> {
  await mkdir(path, { recursive: true });
  await chown(path, ap.OwnerUid ?? 0, ap.OwnerGid ?? 0);
  await chmod(path, Number.parseInt(ap.Permissions ?? '755', 8));
}

/** rmdir of a tree of empty directories, children first; a directory with anything else in it stays. */
async function removeEmptyTree(dir: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const e of entries) if (e.isDirectory()) await removeEmptyTree(join(dir, e.name));
  await rmdir(dir).catch(() => {});
}
