import { describe, expect, it } from 'vitest';
import { mountPointState, secureMgmtCommand } from './gluster-client.js';

describe('the glusterfs client with a TLS management connection', () => {
  it('runs glusterfs --secure-mgmt=yes in a mount namespace of its own, the identity bound at /usr/lib/ssl, propagation unchanged', () => {
    const [command, ...argv] = secureMgmtCommand("/d/it's ssl", ['--volfile-server', '10.0.0.1', '--volfile-id', 'berth-fs-1', '/m/fs']);
    expect(command).toBe('unshare');
    expect(argv.slice(0, 5)).toEqual(['-m', '--propagation', 'unchanged', 'sh', '-c']);
    const script = argv[5]!;
    // Only the mount holding /usr/lib/ssl becomes a slave (not recursive: the mounts root stays in its peer group).
    expect(script).toBe('mount --make-slave "$(findmnt -n -o TARGET -T /usr/lib/ssl)" && mount --bind "$1" /usr/lib/ssl && shift && exec glusterfs --secure-mgmt=yes "$@"');
    expect(script).not.toContain('rslave');
    // Paths are positional parameters, never in the script's text.
    expect(argv.slice(6)).toEqual(['sh', "/d/it's ssl", '--volfile-server', '10.0.0.1', '--volfile-id', 'berth-fs-1', '/m/fs']);
  });

  it('tells a shared mount point from a private one and from a plain directory (the last mount on a path counts)', () => {
    const info = [
      '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '252 26 254:0 /tmp/a/efs /tmp/a/efs rw,relatime shared:15 - ext4 /dev/vda rw',
      '253 26 254:0 /tmp/b /tmp/b rw,relatime - ext4 /dev/vda rw',
      '254 26 254:0 /tmp/c\\040d /tmp/c\\040d rw,relatime master:3 - ext4 /dev/vda rw',
      '255 254 254:0 /tmp/c\\040d /tmp/c\\040d rw,relatime shared:16 master:3 - ext4 /dev/vda rw',
    ].join('\n');
    expect(mountPointState(info, '/tmp/a/efs')).toBe('shared');
    expect(mountPointState(info, '/tmp/b')).toBe('mounted');
    expect(mountPointState(info, '/tmp/a')).toBe('none');
    expect(mountPointState(info, '/tmp/c d')).toBe('shared');
  });
});
