/**
 * EFS on GlusterFS, end to end: the built `berth server` on a lab bridge, three `berth storage` hosts (one glusterd
 * each, in their own network namespaces, zones a/b/c), the EFS API through the AWS CLI v2, and a fourth host mounting
 * the file system's volume with the GlusterFS FUSE client. A file system goes creating → available once its
 * replica-3 volume is started; its files are on all three bricks; with one storage host killed (berth storage,
 * glusterd and brick, kill -9) reads and writes go on; once it is back, deleting the file system removes its volume
 * and all three bricks.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { glusterTlsOptions, secureGlusterfsArgv, startBerthStorage, trustedMountArgs, trustedVolfilePath, type BerthStorageProcess } from './support/berth-storage.js';
import { createHostLab, type HostLab } from './support/hosts.js';
import { until } from './support/netns-hosts.js';

const LOADED_MACHINE_MS = 240_000;

describe('EFS on GlusterFS storage hosts', () => {
  let dir: string;
  let lab: HostLab;
  let server: BerthServerProcess;
  const storage: BerthStorageProcess[] = [];
  const storageOptions: Parameters<typeof startBerthStorage>[0][] = [];
  let mountPoint: string | undefined;
  let fileSystemId: string;
  const efs = (...args: string[]) => awsCli(server.url, server.credentialsFile, ['efs', ...args]);
  const logs = () => storage.map((s, i) => `--- storage ${i + 1}\n${s.output().slice(-3000)}`).join('\n') + `\n--- server\n${server.stderr().slice(-3000)}`;

  beforeAll(async () => {
    for (const tool of ['glusterd', 'glusterfs', 'gluster']) execFileSync('which', [tool]); // fails loudly without GlusterFS
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-efs-'));
    lab = createHostLab(4);
    server = await startBerthServer(join(dir, 'server'), ['--listen', `${lab.gateway}:0`]);
    for (const [i, zone] of ['us-east-1a', 'us-east-1b', 'us-east-1c'].entries()) {
      const host = lab.hosts[i]!;
      storageOptions.push({ endpoint: server.url, credentialsFile: server.credentialsFile, netns: host.netns, address: host.address, zone, dir: join(dir, `storage-${i + 1}`) });
      storage.push(startBerthStorage(storageOptions[i]!));
    }
  }, 60_000);

  afterAll(async () => {
    // The test's mount, then the shared bind of its parent (secureGlusterfsArgv).
    for (const point of [mountPoint, dir && join(dir, 'direct')]) {
      if (!point) continue;
      try {
        execFileSync('umount', ['-l', point]);
      } catch {
        // not mounted
      }
    }
    for (const s of storage) await s.stop();
    await server?.kill();
    lab?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('creates a file system idempotently by CreationToken and makes it available on a replica-3 volume', async () => {
    const created = await efs('create-file-system', '--creation-token', 'shared-data', '--performance-mode', 'generalPurpose', '--throughput-mode', 'bursting', '--encrypted', '--tags', 'Key=Name,Value=shared');
    expect(created.code, created.stderr).toBe(0);
    expect(created.json).toMatchObject({ CreationToken: 'shared-data', LifeCycleState: 'creating', Name: 'shared', Encrypted: true, PerformanceMode: 'generalPurpose', NumberOfMountTargets: 0 });
    fileSystemId = created.json.FileSystemId;
    expect(fileSystemId).toMatch(/^fs-[0-9a-f]{17}$/);

    const again = await efs('create-file-system', '--creation-token', 'shared-data');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('(FileSystemAlreadyExists)');
    expect(again.stderr).toContain(fileSystemId);

    const bad = await efs('create-file-system', '--creation-token', 'x', '--throughput-mode', 'provisioned');
    expect(bad.stderr).toContain('(BadRequest)');
    expect(bad.stderr).toContain('ProvisionedThroughputInMibps');

    await until(
      'the file system to be available',
      async () => {
        const d = await efs('describe-file-systems', '--creation-token', 'shared-data');
        return d.json?.FileSystems?.[0]?.LifeCycleState === 'available' ? true : undefined;
      },
      LOADED_MACHINE_MS,
      logs,
    );
    // One brick per storage host: the volume is replicated 3-way.
    for (const s of storage) expect(existsSync(join(s.brickDir, `berth-${fileSystemId}`)), s.brickDir).toBe(true);
  }, LOADED_MACHINE_MS + 60_000);

  it('serves mount targets per zone and access points, and refuses to delete a file system in use', async () => {
    const targets: string[] = [];
    for (let i = 0; i < 3; i++) {
      const mt = await efs('create-mount-target', '--file-system-id', fileSystemId, '--subnet-id', `subnet-0000000${i}`);
      expect(mt.code, mt.stderr).toBe(0);
      expect(storage.map((s) => s.address)).toContain(mt.json.IpAddress);
      targets.push(mt.json.AvailabilityZoneName);
    }
    expect(targets.sort()).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    const fourth = await efs('create-mount-target', '--file-system-id', fileSystemId, '--subnet-id', 'subnet-00000003');
    expect(fourth.stderr).toContain('(MountTargetConflict)');

    const ap = await efs(
      'create-access-point',
      '--file-system-id', fileSystemId,
      '--posix-user', JSON.stringify({ Uid: 1000, Gid: 1000, SecondaryGids: [2000] }),
      '--root-directory', 'Path=/app,CreationInfo={OwnerUid=1000,OwnerGid=1000,Permissions=750}',
      '--tags', 'Key=Name,Value=app',
    );
    expect(ap.code, ap.stderr).toBe(0);
    expect(ap.json).toMatchObject({ FileSystemId: fileSystemId, Name: 'app', PosixUser: { Uid: 1000, Gid: 1000 }, RootDirectory: { Path: '/app' }, LifeCycleState: 'available' });
    const listed = await efs('describe-access-points', '--file-system-id', fileSystemId);
    expect(listed.json.AccessPoints.map((a: { AccessPointId: string }) => a.AccessPointId)).toEqual([ap.json.AccessPointId]);

    const inUse = await efs('delete-file-system', '--file-system-id', fileSystemId);
    expect(inUse.stderr).toContain('(FileSystemInUse)');
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'elasticfilesystem:ClientMount', Resource: '*' }] });
    expect((await efs('put-file-system-policy', '--file-system-id', fileSystemId, '--policy', policy)).code).toBe(0);
    expect(JSON.parse((await efs('describe-file-system-policy', '--file-system-id', fileSystemId)).json.Policy)).toEqual(JSON.parse(policy));
    expect((await efs('put-lifecycle-configuration', '--file-system-id', fileSystemId, '--lifecycle-policies', 'TransitionToIA=AFTER_30_DAYS')).code).toBe(0);
    expect((await efs('describe-lifecycle-configuration', '--file-system-id', fileSystemId)).json.LifecyclePolicies).toEqual([{ TransitionToIA: 'AFTER_30_DAYS' }]);
    expect((await efs('tag-resource', '--resource-id', fileSystemId, '--tags', 'Key=team,Value=storage')).code).toBe(0);
    expect((await efs('list-tags-for-resource', '--resource-id', fileSystemId)).json.Tags).toEqual([
      { Key: 'Name', Value: 'shared' },
      { Key: 'team', Value: 'storage' },
    ]);
  }, LOADED_MACHINE_MS);

  it('keeps reading and writing through a FUSE mount with one storage host killed', async () => {
    // Under a directory of this test's own, made a shared mount point (the mount comes back from the client's namespace).
    const point = join(dir, 'direct', 'mnt');
    mountPoint = point;
    mkdirSync(point, { recursive: true });
    const client = lab.hosts[3]!;
    const servers = storage.flatMap((s) => ['--volfile-server', s.address]);
    const volume = `berth-${fileSystemId}`;
    // The volume is TLS-only: the client presents storage host 1's certificate of berth's CA.
    const tls = join(storage[0]!.stateDir, 'lib', 'berth-tls');
    const glusterfs = async (args: string[]) => {
      const [command, ...argv] = await secureGlusterfsArgv(client.netns, tls, args, point);
      execFileSync(command!, argv);
    };
    // A client without a TLS management connection (no --secure-mgmt) gets no volfile: glusterfs fails, nothing mounted.
    expect(() => execFileSync('nsenter', [`--net=/var/run/netns/${client.netns}`, '--', 'glusterfs', ...servers, '--volfile-id', volume, ...glusterTlsOptions(volume, storage[0]!), '--log-file', join(dir, 'plain.log'), point], { timeout: 60_000 })).toThrow();
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(` ${point} `);
    await glusterfs([...servers, '--volfile-id', volume, ...glusterTlsOptions(volume, storage[0]!), '--log-file', join(dir, 'client.log'), mountPoint]);
    const connected = () => readFileSync('/proc/mounts', 'utf8').includes(mountPoint!) && (() => { try { readdirSync(mountPoint!); return true; } catch { return false; } })();
    await until('the FUSE mount, connected', async () => (connected() ? true : undefined), 30_000);
    // Root is squashed for a client without the volume's credentials: the root directory (root's, 0755) refuses it.
    expect(() => writeFileSync(join(mountPoint!, 'squashed.txt'), 'x')).toThrow(/EACCES/);
    execFileSync('umount', [mountPoint]);
    // The pool leader sent the trusted volfile to the control plane, which keeps it sealed: not in its data in clear.
    const password = /option password (\S+)/.exec(readFileSync(trustedVolfilePath(volume, storage[0]!), 'utf8'))![1]!;
    await until('the trusted volfile kept in the store', async () => (filesHolding(join(dir, 'server'), `efs/trusted-volfiles/${volume}`).length > 0 ? true : undefined), 30_000);
    expect(filesHolding(join(dir, 'server'), password)).toEqual([]);
    // With its credentials (a trusted client, as the agent mounts for a task with ClientRootAccess) root acts as root.
    const trusted = trustedMountArgs(volume, storage[0]!, join(dir, 'client.log'), mountPoint);
    await glusterfs(trusted.args);
    await until('the trusted FUSE mount, connected', async () => (connected() ? true : undefined), 30_000);
    trusted.cleanup();
    expect(readFileSync(join(dir, 'client.log'), 'utf8')).not.toContain(password);
    writeFileSync(join(mountPoint, 'before.txt'), 'written with three storage hosts\n');
    expect(statSync(join(storage[0]!.brickDir, volume, 'before.txt')).uid).toBe(0);
    for (const s of storage) {
      await until(`before.txt on the brick of ${s.address}`, async () => (existsSync(join(s.brickDir, `berth-${fileSystemId}`, 'before.txt')) ? true : undefined), 30_000);
    }

    storage[2]!.killHost();
    writeFileSync(join(mountPoint, 'after.txt'), 'written with two\n');
    expect(readFileSync(join(mountPoint, 'before.txt'), 'utf8')).toBe('written with three storage hosts\n');
    expect(readFileSync(join(mountPoint, 'after.txt'), 'utf8')).toBe('written with two\n');
    for (const s of storage.slice(0, 2)) expect(readFileSync(join(s.brickDir, `berth-${fileSystemId}`, 'after.txt'), 'utf8')).toBe('written with two\n');
    expect(existsSync(join(storage[2]!.brickDir, `berth-${fileSystemId}`, 'after.txt'))).toBe(false);

    execFileSync('umount', [mountPoint]);
    mountPoint = undefined;
  }, 120_000);

  it('deletes the file system once its mount targets and access points are gone, and its volume with it', async () => {
    // The killed host comes back (same brick and state directories): gluster deletes a volume only with every
    // peer of the pool connected, as it would once a real host is repaired.
    storage[2] = startBerthStorage(storageOptions[2]!);
    for (const ap of (await efs('describe-access-points', '--file-system-id', fileSystemId)).json.AccessPoints) {
      expect((await efs('delete-access-point', '--access-point-id', ap.AccessPointId)).code).toBe(0);
    }
    for (const mt of (await efs('describe-mount-targets', '--file-system-id', fileSystemId)).json.MountTargets) {
      expect((await efs('delete-mount-target', '--mount-target-id', mt.MountTargetId)).code).toBe(0);
    }
    const deleted = await efs('delete-file-system', '--file-system-id', fileSystemId);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await efs('describe-file-systems', '--file-system-id', fileSystemId);
    expect(gone.stderr).toContain('(FileSystemNotFound)');
    // The live storage hosts stop and delete the volume and remove their bricks.
    for (const s of storage) {
      await until(`the brick of ${s.address} removed`, async () => (existsSync(join(s.brickDir, `berth-${fileSystemId}`)) ? undefined : true), 120_000, logs);
    }
  }, 180_000);
});

/** The files under `root` whose bytes contain `text` (the store's SQLite files, its WAL included). */
function filesHolding(root: string, text: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    if (e.isFile() && readFileSync(path).includes(text)) found.push(path);
  }
  return found;
}
