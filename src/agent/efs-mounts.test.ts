import { describe, expect, it } from 'vitest';
import { EFS_MOUNT_FAILED, glusterArgs, mountCommands, mountsAsRoot, mountsUnder, resolveUntilAccepted, rootOf, type MountPlan } from './efs-mounts.js';

const plan: MountPlan = { Volume: 'berth-fs-1', Servers: ['10.0.0.1', '10.0.0.2'] };
const withAp: MountPlan = { ...plan, AccessPoint: { Uid: 1000, Gid: 1001, Path: '/app', OwnerUid: 1000, OwnerGid: 1001, Permissions: '750' } };

describe('EFS mounts on the agent', () => {
  it('confines containers to the rootDirectory, or the access point path (made only when it says how)', () => {
    expect(rootOf({ fileSystemId: 'fs-1', rootDirectory: '/data/x/' }, plan)).toEqual({ path: '/data/x', create: false });
    expect(rootOf({ fileSystemId: 'fs-1' }, plan)).toEqual({ path: '/', create: false });
    expect(rootOf({ fileSystemId: 'fs-1', rootDirectory: '/' }, withAp)).toEqual({ path: '/app', create: true });
    expect(rootOf({ fileSystemId: 'fs-1' }, { ...plan, AccessPoint: { Path: '/x' } })).toEqual({ path: '/x', create: false });
    expect(() => rootOf({ fileSystemId: 'fs-1', rootDirectory: '/other' }, withAp)).toThrow(EFS_MOUNT_FAILED);
    expect(() => rootOf({ fileSystemId: 'fs-1', rootDirectory: '../../etc' }, plan)).not.toThrow();
    expect(rootOf({ fileSystemId: 'fs-1', rootDirectory: '../../etc' }, plan).path).toBe('/etc');
  });

  const tls = { key: '/t/own.key', cert: '/t/own.pem', ca: '/t/ca.pem' };
  const tlsOptions = [
    '--xlator-option', 'berth-fs-1-client-*.transport.socket.ssl-own-cert=/t/own.pem',
    '--xlator-option', 'berth-fs-1-client-*.transport.socket.ssl-private-key=/t/own.key',
    '--xlator-option', 'berth-fs-1-client-*.transport.socket.ssl-ca-list=/t/ca.pem',
  ];

  it("mounts the volume from every server over TLS with this host's certificate, and puts bindfs running as the POSIX user over an access point", () => {
    expect(mountCommands(plan, '/m/fs', '/m/fs/', '/m/ap', tls)).toEqual({
      gluster: ['--volfile-server', '10.0.0.1', '--volfile-server', '10.0.0.2', '--volfile-id', 'berth-fs-1', '--process-name', 'berth-efs', ...tlsOptions, '/m/fs'],
    });
    const ap = mountCommands({ ...withAp, AccessPoint: { ...withAp.AccessPoint!, SecondaryGids: [2000, 1001, 3000] } }, '/m/fs', '/m/fs/app', '/m/ap', tls);
    // Server-side permission checks for the request's identity, not the kernel's for the daemon's capabilities.
    expect(ap.gluster).toContain('--acl');
    expect(ap.bindfs).toEqual([
      'setpriv',
      '--reuid=1000',
      '--regid=1001',
      '--groups=1001,2000,3000',
      '--bounding-set=-all,+sys_admin,+dac_override',
      '--inh-caps=-all,+sys_admin,+dac_override',
      '--ambient-caps=+sys_admin,+dac_override',
      '--no-new-privs',
      'bindfs',
      '-o',
      'allow_other',
      '--force-user=1000',
      '--force-group=1001',
      '--chown-ignore',
      '--chgrp-ignore',
      '/m/fs/app',
      '/m/ap',
    ]);
    // Without secondary gids the daemon's only group is the gid.
    expect(mountCommands(withAp, '/m/fs', '/m/fs/app', '/m/ap', tls).bindfs).toContain('--groups=1001');
    // An access point without a POSIX user: the volume as it is, no bindfs.
    expect(mountCommands({ ...plan, AccessPoint: { Path: '/x' } }, '/m/fs', '/m/fs/x', '/m/ap', tls)).toEqual({ gluster: expect.not.arrayContaining(['--acl']) });
  });

  it('mounts read-only without ClientWrite, and squashes an access point root user without ClientRootAccess', () => {
    expect(mountCommands({ ...plan, ReadOnly: true }, '/m/fs', '/m/fs/', '/m/ap', tls).gluster.slice(-2)).toEqual(['--read-only', '/m/fs']);
    const rootAp: MountPlan = { ...plan, RootSquash: true, AccessPoint: { Uid: 0, Gid: 0, Path: '/' } };
    expect(mountCommands(rootAp, '/m/fs', '/m/fs', '/m/ap', tls).bindfs).toContain('--force-user=65534');
    expect(mountCommands({ ...rootAp, RootSquash: false }, '/m/fs', '/m/fs', '/m/ap', tls).bindfs).toContain('--force-user=0');
  });

  it('mounts as root on the volume only from the trusted volfile file, with --no-root-squash and only errors logged', () => {
    const trusted = { ...plan, TrustedVolfile: 'volume x\n option password secret\nend-volume\n' };
    const argv = mountCommands(trusted, '/m/fs', '/m/fs/', '/m/ap', tls, '/t/volfile-1/trusted.vol').gluster;
    expect(argv).toEqual(['--volfile=/t/volfile-1/trusted.vol', '--no-root-squash', '--log-level=ERROR', '--process-name', 'berth-efs', ...tlsOptions, '/m/fs']);
    // The credentials never reach the command line (logged by glusterfs, world-readable in /proc/<pid>/cmdline).
    expect(argv.join(' ')).not.toContain('secret');
    // Without the file's path: the plain volfile from the servers, whatever the plan carries.
    expect(mountCommands(trusted, '/m/fs', '/m/fs/', '/m/ap', tls).gluster.slice(0, 2)).toEqual(['--volfile-server', '10.0.0.1']);
    expect(glusterArgs(plan, '/m/setup', tls, { trustedVolfile: '/t/v' })).toEqual(['--volfile=/t/v', '--no-root-squash', '--log-level=ERROR', '--process-name', 'berth-efs', ...tlsOptions, '/m/setup']);
  });

  it('mounts as root only with ClientRootAccess, and never under a non-root access point user (the servers check it)', () => {
    const v = 'volume x\nend-volume\n';
    expect(mountsAsRoot({ ...plan, TrustedVolfile: v, RootSquash: false })).toBe(true);
    expect(mountsAsRoot({ ...plan, TrustedVolfile: v, RootSquash: true })).toBe(false);
    expect(mountsAsRoot({ ...plan, RootSquash: false })).toBe(false);
    expect(mountsAsRoot({ ...withAp, TrustedVolfile: v, RootSquash: false })).toBe(false);
    expect(mountsAsRoot({ ...withAp, AccessPoint: { ...withAp.AccessPoint!, Uid: 0, Gid: 0 }, TrustedVolfile: v, RootSquash: false })).toBe(true);
    expect(mountsAsRoot({ ...plan, AccessPoint: { Path: '/x' }, TrustedVolfile: v, RootSquash: false })).toBe(true);
  });

  it('finds the mounts under a directory in mountinfo, deepest first, with escaped spaces decoded', () => {
    const info = [
      '36 25 0:32 / /var/lib/berth/efs/t1/data/fs rw,relatime - fuse.glusterfs 10.0.0.1:berth-fs-1 rw',
      '37 36 0:33 / /var/lib/berth/efs/t1/data/ap rw,relatime - fuse bindfs rw',
      '38 25 0:34 / /var/lib/berth/efs/t10/data/fs rw,relatime - fuse.glusterfs 10.0.0.1:berth-fs-1 rw',
      '39 25 0:35 / /var/lib/berth/efs/t1/my\\040vol/fs rw - fuse.glusterfs x rw',
    ].join('\n');
    expect(mountsUnder(info, '/var/lib/berth/efs/t1')).toEqual(['/var/lib/berth/efs/t1/my vol/fs', '/var/lib/berth/efs/t1/data/fs', '/var/lib/berth/efs/t1/data/ap']);
  });
});

describe("asking how to mount until the bricks accept the agent's certificate", () => {
  const refusal = (name: string) => Object.assign(new Error(`${name} refusal`), { name });
  const request = { FileSystemId: 'fs-1' };

  it('asks again while the answer is IncorrectMountTargetState, then mounts', async () => {
    let calls = 0;
    let now = 0;
    const resolve = async () => {
      now += 7_000; // the control plane waited before answering
      if (++calls < 3) throw refusal('IncorrectMountTargetState');
      return plan;
    };
    let pauses = 0;
    expect(await resolveUntilAccepted(resolve, request, 30_000, () => now, async () => void pauses++)).toBe(plan);
    expect(calls).toBe(3);
    expect(pauses).toBe(2);
  });

  it('gives the refusal once past its patience, and any other refusal at once', async () => {
    let now = 0;
    let calls = 0;
    const late = async () => {
      calls++;
      now += 7_000;
      throw refusal('IncorrectMountTargetState');
    };
    await expect(resolveUntilAccepted(late, request, 20_000, () => now, async () => {})).rejects.toThrow('IncorrectMountTargetState refusal');
    expect(calls).toBe(3);
    calls = 0;
    const denied = async () => {
      calls++;
      throw refusal('AccessDeniedException');
    };
    await expect(resolveUntilAccepted(denied, request, 20_000, () => now, async () => {})).rejects.toThrow('AccessDeniedException refusal');
    expect(calls).toBe(1);
  });
});
