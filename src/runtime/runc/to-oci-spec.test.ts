import { describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../runtime.js';
import { DOCKER_DEFAULT_CAPABILITIES, LINUX_CAPABILITIES, capabilitiesFromMask, capabilityMask, resolveCapabilities } from './capabilities.js';
import { serializeOciSpec } from './oci-spec.js';
import { RLIM_INFINITY, toOciRlimits } from './rlimits.js';
import { seccompForTarget, unsupportedCompatArches, type SeccompProfile } from './seccomp.js';
import { INIT_PATH, toOciSpec, type OciSpecOptions } from './to-oci-spec.js';

const base: ContainerSpec = {
  id: 'task-1-web',
  rootfs: '/var/lib/berth/rootfs/task-1-web',
  process: { args: ['sh', '-c', 'echo hi'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0 },
  resources: {},
  logPath: '/var/log/berth/task-1-web.log',
  labels: { 'com.example': 'yes' },
};
const options: OciSpecOptions = { cgroupParent: '/berth' };
const spec = (over: Partial<ContainerSpec> = {}, opts: Partial<OciSpecOptions> = {}) => toOciSpec({ ...base, ...over }, { ...options, ...opts });

describe('toOciSpec defaults (Docker parity)', () => {
  const s = spec();
  it('own pid, ipc, uts, mount and network namespaces', () => {
    expect(s.linux.namespaces.map((n) => n.type).sort()).toEqual(['ipc', 'mount', 'network', 'pid', 'uts']);
    expect(s.linux.namespaces.find((n) => n.type === 'network')?.path).toBeUndefined();
  });
  it("Docker's capabilities in bounding, effective and permitted only", () => {
    expect([...s.process.capabilities.bounding].sort()).toEqual([...DOCKER_DEFAULT_CAPABILITIES].sort());
    expect(s.process.capabilities.effective).toEqual(s.process.capabilities.bounding);
    expect(s.process.capabilities.permitted).toEqual(s.process.capabilities.bounding);
    expect(s.process.capabilities.inheritable).toBeUndefined();
    expect(s.process.capabilities.ambient).toBeUndefined();
  });
  it('no-new-privileges, masked and read-only paths, default device rules', () => {
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.linux.maskedPaths).toContain('/proc/kcore');
    expect(s.linux.readonlyPaths).toContain('/proc/sys');
    expect(s.linux.resources.devices[0]).toEqual({ allow: false, access: 'rwm' });
    expect(s.linux.resources.devices).toContainEqual({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' });
  });
  it('mounts proc, dev, pts, shm (64 MiB), mqueue, sys and cgroup read-only', () => {
    const byDest = Object.fromEntries(s.mounts.map((m) => [m.destination, m]));
    expect(Object.keys(byDest)).toEqual(['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm']);
    expect(byDest['/dev/shm']?.options).toContain('size=67108864');
    expect(byDest['/sys']?.options).toContain('ro');
    expect(byDest['/sys/fs/cgroup']?.options).toContain('ro');
  });
  it('cgroup under the parent, labels as annotations, rootfs writable, no seccomp without a profile', () => {
    expect(s.linux.cgroupsPath).toBe('/berth/task-1-web');
    expect(s.annotations).toEqual({ 'com.example': 'yes' });
    expect(s.root).toEqual({ path: base.rootfs, readonly: false });
    expect(s.linux.seccomp).toBeUndefined();
    expect(s.process.rlimits).toBeUndefined();
    expect(s.linux.resources.memory).toBeUndefined();
  });
});

describe('toOciSpec from the container spec', () => {
  it('joins a network namespace path, or none for host', () => {
    expect(spec({ network: '/var/run/netns/x' }).linux.namespaces).toContainEqual({ type: 'network', path: '/var/run/netns/x' });
    expect(spec({ network: 'host' }).linux.namespaces.map((n) => n.type)).not.toContain('network');
    expect(() => spec({ network: 'bridge' })).toThrow(/network must be an absolute path/);
  });
  it('resources: cpu shares with a floor of 2, memory limit and reservation, swap only with accounting, pids', () => {
    const r = spec({ resources: { cpuShares: 0, memoryLimitBytes: 64 << 20, memoryReservationBytes: 32 << 20, pidsLimit: 100 } }).linux.resources;
    expect(r.cpu).toEqual({ shares: 2 });
    expect(r.memory).toEqual({ limit: 64 << 20, reservation: 32 << 20 });
    expect(r.pids).toEqual({ limit: 100 });
    expect(spec({ resources: { cpuShares: 512, memoryLimitBytes: 64 << 20 } }, { swapAccounting: true }).linux.resources).toMatchObject({ cpu: { shares: 512 }, memory: { limit: 64 << 20, swap: 128 << 20 } });
    expect(spec({ resources: { memoryReservationBytes: 32 << 20 } }).linux.resources.memory).toEqual({ reservation: 32 << 20 });
    expect(() => spec({ resources: { memoryLimitBytes: 10, memoryReservationBytes: 20 } })).toThrow(/memoryReservationBytes \(20\) must not be above/);
    expect(() => spec({ resources: { memoryLimitBytes: -1 } })).toThrow(/memoryLimitBytes must be a positive integer/);
  });
  it('resources: a CPU quota per 100 ms period, at least the 1 ms the kernel takes', () => {
    expect(spec({ resources: { cpuShares: 256, cpuQuotaMicros: 25_000 } }).linux.resources.cpu).toEqual({ shares: 256, quota: 25_000, period: 100_000 });
    expect(spec({ resources: { cpuQuotaMicros: 10 } }).linux.resources.cpu).toEqual({ quota: 1000, period: 100_000 });
    expect(() => spec({ resources: { cpuQuotaMicros: 0 } })).toThrow(/cpuQuotaMicros must be a positive integer/);
  });
  it('capabilities add and drop, with or without CAP_', () => {
    const caps = spec({ capabilities: { add: ['NET_ADMIN', 'cap_sys_time'], drop: ['CHOWN'] } }).process.capabilities.effective;
    expect(caps).toContain('CAP_NET_ADMIN');
    expect(caps).toContain('CAP_SYS_TIME');
    expect(caps).not.toContain('CAP_CHOWN');
    expect(() => spec({ capabilities: { add: ['FLY'] } })).toThrow('capabilities.add[0]: unknown capability "FLY"');
  });
  it('privileged: all capabilities, no seccomp, no masks, all devices, writable sysfs, new privileges allowed', () => {
    const profile: SeccompProfile = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] };
    const s = spec({ privileged: true }, { seccomp: { profile, arch: 'amd64', kernel: { major: 6, minor: 1 } } });
    expect(s.process.capabilities.bounding).toHaveLength(LINUX_CAPABILITIES.length);
    expect(s.process.noNewPrivileges).toBe(false);
    expect(s.linux.seccomp).toBeUndefined();
    expect(s.linux.maskedPaths).toBeUndefined();
    expect(s.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(s.mounts.find((m) => m.destination === '/sys')?.options).not.toContain('ro');
  });
  it('process, hostname, read-only rootfs, rlimits, sysctls', () => {
    const s = spec({
      process: { ...base.process, uid: 1000, gid: 1000, additionalGids: [10], rlimits: [{ type: 'nofile', soft: 1024, hard: 4096 }] },
      hostname: 'web-1',
      readonlyRootfs: true,
      sysctls: { 'net.ipv4.ip_forward': '1' },
    });
    expect(s.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [10] });
    expect(s.hostname).toBe('web-1');
    expect(s.root.readonly).toBe(true);
    expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024n, hard: 4096n }]);
    expect(s.linux.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(() => spec({ network: 'host', sysctls: { 'net.ipv4.ip_forward': '1' } })).toThrow(/net\.\* sysctls cannot be set in the host's network namespace/);
  });
  it('shared memory size, etc files, user mounts sorted parents first, tmpfs with Docker defaults', () => {
    const s = spec({
      sharedMemoryBytes: 128 << 20,
      etcFiles: { hosts: '/run/berth/hosts', resolvConf: '/run/berth/resolv.conf' },
      mounts: [
        { type: 'bind', source: '/data/a', destination: '/srv/data/inner', readOnly: true },
        { type: 'bind', source: '/data', destination: '/srv/' },
        { type: 'tmpfs', source: '', destination: '/scratch', options: ['size=64m', 'exec'] },
      ],
    });
    const dests = s.mounts.map((m) => m.destination);
    expect(s.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain(`size=${128 << 20}`);
    expect(s.mounts.find((m) => m.destination === '/etc/hosts')).toEqual({ destination: '/etc/hosts', type: 'bind', source: '/run/berth/hosts', options: ['rbind', 'rprivate', 'ro'] });
    expect(dests.indexOf('/srv')).toBeLessThan(dests.indexOf('/srv/data/inner'));
    expect(s.mounts.find((m) => m.destination === '/srv/data/inner')?.options).toContain('ro');
    expect(s.mounts.find((m) => m.destination === '/scratch')?.options).toEqual(['nosuid', 'nodev', 'size=64m', 'exec']);
  });
  it('a user mount at /dev/shm replaces the default one', () => {
    const s = spec({ mounts: [{ type: 'tmpfs', source: '', destination: '/dev/shm', options: ['size=1m'] }] });
    expect(s.mounts.filter((m) => m.destination === '/dev/shm')).toHaveLength(1);
    expect(s.mounts.find((m) => m.destination === '/dev/shm')?.options).toContain('size=1m');
  });
  it('init wraps the command in the mounted init binary', () => {
    const s = spec({ init: true }, { initBinary: '/usr/bin/tini-static' });
    expect(s.process.args).toEqual([INIT_PATH, '--', 'sh', '-c', 'echo hi']);
    expect(s.mounts).toContainEqual({ destination: INIT_PATH, type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro', 'nosuid', 'nodev'] });
    expect(() => spec({ init: true })).toThrow(/no init binary is configured/);
  });
  it.each([
    [{ id: '../etc' }, /id "\.\.\/etc" must be/],
    [{ id: '' }, /id "" must be/],
    [{ rootfs: 'relative' }, /rootfs must be an absolute path/],
    [{ process: { ...base.process, args: [] } }, /process.args must name the program/],
    [{ process: { ...base.process, env: ['NOVALUE'] } }, /process.env\[0\] must be NAME=value/],
    [{ process: { ...base.process, cwd: 'tmp' } }, /process.cwd must be an absolute path/],
    [{ process: { ...base.process, uid: -1 } }, /process.uid must be an integer/],
    [{ hostname: 'bad host' }, /hostname "bad host" must be/],
    [{ mounts: [{ type: 'bind', source: '/x', destination: '/' }] }, /mounts\[0\].destination must be a path below \//],
    [{ mounts: [{ type: 'bind', source: '/x', destination: '/a/../..' }] }, /mounts\[0\].destination must be a path below/],
    [{ mounts: [{ type: 'bind', source: 'x', destination: '/a' }] }, /mounts\[0\].source must be an absolute path/],
    [{ mounts: [{ type: 'nfs' as 'bind', source: '/x', destination: '/a' }] }, /mounts\[0\].type must be "bind" or "tmpfs"/],
    [{ mounts: [{ type: 'bind', source: '/x', destination: '/a' }, { type: 'tmpfs', source: '', destination: '/a/' }] }, /two mounts have the destination \/a/],
    [{ sharedMemoryBytes: 0 }, /sharedMemoryBytes must be a positive integer/],
    [{ sysctls: { 'bad name': '1' } }, /sysctls: invalid name/],
  ] as [Partial<ContainerSpec>, RegExp][])('rejects bad input with a message naming the field (%#)', (over, message) => {
    expect(() => spec(over)).toThrow(message);
  });
});

describe('capabilities', () => {
  it('ALL in add keeps everything but the drops; ALL in drop keeps only the adds', () => {
    expect(resolveCapabilities({ add: ['ALL'], drop: ['SYS_ADMIN'] })).toHaveLength(LINUX_CAPABILITIES.length - 1);
    expect(resolveCapabilities({ add: ['KILL'], drop: ['all'] })).toEqual(['CAP_KILL']);
  });
  it('grants no more than the host can: privileged and ALL are bounded, explicit adds beyond it are refused', () => {
    const available = LINUX_CAPABILITIES.filter((c) => c !== 'CAP_SYS_RESOURCE');
    expect(resolveCapabilities({ privileged: true, available })).toEqual(available);
    expect(resolveCapabilities({ add: ['ALL'], available })).toEqual(available);
    expect(() => resolveCapabilities({ add: ['SYS_RESOURCE'], available })).toThrow('capabilities.add[0]: CAP_SYS_RESOURCE is not available on this host');
    expect(spec({ privileged: true }, { availableCapabilities: available }).process.capabilities.bounding).toEqual(available);
  });
  it('reads masks back', () => {
    expect(capabilitiesFromMask('00000000a80425fb')).toEqual(resolveCapabilities({}));
    expect(capabilitiesFromMask('000001fffeffffff')).toHaveLength(LINUX_CAPABILITIES.length - 1);
  });
  it('prints masks as /proc/<pid>/status does', () => {
    expect(capabilityMask(resolveCapabilities({}))).toBe('00000000a80425fb');
    expect(capabilityMask([...LINUX_CAPABILITIES])).toBe('000001ffffffffff');
  });
});

describe('rlimits', () => {
  it('maps ECS names, -1 as unlimited, and rejects bad ones', () => {
    expect(toOciRlimits([{ type: 'core', soft: -1, hard: -1 }])).toEqual([{ type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY }]);
    expect(() => toOciRlimits([{ type: 'files', soft: 1, hard: 1 }])).toThrow('rlimits[0]: unknown ulimit "files"');
    expect(() => toOciRlimits([{ type: 'nofile', soft: 10, hard: 1 }])).toThrow(/soft limit 10 is above the hard limit 1/);
    expect(() => toOciRlimits([{ type: 'nofile', soft: 1, hard: 1 }, { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }])).toThrow(/more than once/);
  });
  it('serialises RLIM_INFINITY exactly', () => {
    const text = serializeOciSpec(spec({ process: { ...base.process, rlimits: [{ type: 'core', soft: -1, hard: -1 }] } }));
    expect(text).toContain('"soft": 18446744073709551615');
    expect(JSON.parse(text).process.rlimits[0].type).toBe('RLIMIT_CORE');
  });
});

describe('seccompForTarget', () => {
  const profile: SeccompProfile = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 38,
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] }],
    syscalls: [
      { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [] },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['cacheflush'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
      { names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_CHROOT'] } },
      { names: ['newsyscall'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.0' } },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    ],
  };
  const target = { arch: 'amd64', capabilities: ['CAP_SYS_CHROOT'], kernel: { major: 6, minor: 1 } };
  it('keeps our arch and its sub-arches and the rules that apply', () => {
    const s = seccompForTarget(profile, target);
    expect(s.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(s.defaultErrnoRet).toBe(38);
    expect(s.syscalls.flatMap((c) => c.names)).toEqual(['read', 'write', 'arch_prctl', 'chroot', 'personality']);
    expect(s.syscalls.find((c) => c.names.includes('chroot'))?.action).toBe('SCMP_ACT_ALLOW');
    expect(s.syscalls.at(-1)?.args).toEqual([{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }]);
  });
  it('leaves out the sub-architectures the kernel cannot run', () => {
    expect(seccompForTarget(profile, { ...target, unsupportedArches: ['SCMP_ARCH_X32'] }).architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    expect(seccompForTarget(profile, { ...target, unsupportedArches: ['SCMP_ARCH_X32', 'SCMP_ARCH_X86'] }).architectures).toEqual(['SCMP_ARCH_X86_64']);
  });
  it("reads which compat ABIs a kernel's configuration leaves out", () => {
    expect(unsupportedCompatArches('CONFIG_IA32_EMULATION=y\n# CONFIG_X86_X32_ABI is not set\n')).toEqual(['SCMP_ARCH_X32']);
    expect(unsupportedCompatArches('CONFIG_IA32_EMULATION=y\nCONFIG_X86_X32_ABI=y\n')).toEqual([]);
    expect(unsupportedCompatArches('# CONFIG_IA32_EMULATION is not set\n')).toEqual(['SCMP_ARCH_X32', 'SCMP_ARCH_X86']);
    // Nothing to read: nothing assumed.
    expect(unsupportedCompatArches('')).toEqual([]);
  });
  it('denies with the exclude rule when the capability is missing', () => {
    const s = seccompForTarget(profile, { ...target, capabilities: [] });
    expect(s.syscalls.filter((c) => c.names.includes('chroot'))).toEqual([{ names: ['chroot'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }]);
    expect(seccompForTarget(profile, { ...target, kernel: { major: 7, minor: 0 } }).syscalls.flatMap((c) => c.names)).toContain('newsyscall');
  });
  it('is applied to unprivileged containers with their final capabilities', () => {
    const s = spec({ capabilities: { drop: ['SYS_CHROOT'] } }, { seccomp: { profile, arch: 'amd64', kernel: { major: 6, minor: 1 } } });
    expect(s.linux.seccomp?.syscalls.find((c) => c.names.includes('chroot'))?.action).toBe('SCMP_ACT_ERRNO');
  });
});
