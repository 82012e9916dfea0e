/**
 * Docker's defaults for a container (moby's oci/defaults.go and daemon/oci_linux.go), which ECS containers
 * on EC2 get and which berth reproduces so that images behave the same.
 */
import type { OciDeviceRule, OciMount } from './oci-spec.js';

/** /dev/shm's size when the task definition sets no sharedMemorySize. */
export const DEFAULT_SHM_BYTES = 64 * 1024 * 1024;

/** Docker's floor for cpu.shares (the kernel's minimum is 2). */
export const MIN_CPU_SHARES = 2;

/** The file systems every container gets; `/dev/shm`'s size is filled in per container. */
export function defaultMounts(options: { readonly shmBytes: number; readonly privileged: boolean }): OciMount[] {
  const sysOptions = options.privileged ? ['nosuid', 'noexec', 'nodev'] : ['nosuid', 'noexec', 'nodev', 'ro'];
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysOptions },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: [...sysOptions.filter((o) => o !== 'ro'), options.privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${options.shmBytes}`] },
  ];
}

/** Paths hidden from unprivileged containers (an empty file or tmpfs is mounted over them). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

/** Paths unprivileged containers see read-only. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/**
 * The device cgroup rules: deny everything, then allow mknod of any device and use of the few devices a
 * container has (null, zero, full, random, urandom, tty, ptmx, pseudo-terminals, tun).
 */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/** Privileged containers may use every device. */
export const PRIVILEGED_DEVICE_RULES: readonly OciDeviceRule[] = [{ allow: true, access: 'rwm' }];
