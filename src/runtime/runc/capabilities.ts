import { InvalidContainerSpecError } from '../errors.js';

/** Every Linux capability, in bit order (the index is the bit in /proc/<pid>/status's CapEff). */
export const LINUX_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** A Linux capability's name as the OCI spec writes it (`CAP_…`). */
export type Capability = (typeof LINUX_CAPABILITIES)[number];

/** Docker's default set (moby's oci/caps DefaultCapabilities), which ECS containers get on EC2. */
export const DOCKER_DEFAULT_CAPABILITIES: readonly Capability[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

const known = new Set<string>(LINUX_CAPABILITIES);

/**
 * `net_admin`, `NET_ADMIN` and `CAP_NET_ADMIN` all name CAP_NET_ADMIN (ECS sends the bare upper-case form);
 * `ALL` stays `ALL`. Throws {@link InvalidContainerSpecError} naming an unknown capability.
 */
export function normalizeCapability(name: string, field: string): Capability | 'ALL' {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!known.has(full)) throw new InvalidContainerSpecError(`${field}: unknown capability "${name}"`);
  return full as Capability;
}

/**
 * The capability set after Docker's rules (moby's TweakCapabilities): privileged gets everything; `ALL` in
 * `add` means every capability except those dropped; `ALL` in `drop` means only those added; otherwise the
 * defaults minus `drop` plus `add`. "Everything" is what the host can grant (`available`, the agent's own
 * bounding set): asking to add one beyond it is an error naming it. The result is in bit order.
 */
export function resolveCapabilities(options: {
  readonly privileged?: boolean;
  readonly add?: readonly string[];
  readonly drop?: readonly string[];
  readonly available?: readonly Capability[];
}): Capability[] {
  const available = options.available ?? LINUX_CAPABILITIES;
  if (options.privileged) return LINUX_CAPABILITIES.filter((c) => available.includes(c));
  const add = (options.add ?? []).map((c, i) => normalizeCapability(c, `capabilities.add[${i}]`));
  const drop = (options.drop ?? []).map((c, i) => normalizeCapability(c, `capabilities.drop[${i}]`));
  add.forEach((c, i) => {
    if (c !== 'ALL' && !available.includes(c)) throw new InvalidContainerSpecError(`capabilities.add[${i}]: ${c} is not available on this host`);
  });
  let result: Set<string>;
  if (add.includes('ALL')) {
    result = new Set(available.filter((c) => !drop.includes(c)));
  } else if (drop.includes('ALL')) {
    result = new Set(add);
  } else {
    result = new Set(DOCKER_DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)));
    for (const c of add) result.add(c);
  }
  return LINUX_CAPABILITIES.filter((c) => result.has(c));
}

/** The capabilities in a mask as /proc/<pid>/status prints it (CapBnd of the agent: what it can grant). */
export function capabilitiesFromMask(hex: string): Capability[] {
  const mask = BigInt(`0x${hex.trim()}`);
  return LINUX_CAPABILITIES.filter((_c, bit) => (mask >> BigInt(bit)) & 1n);
}

/** The bit mask of `caps`, as /proc/<pid>/status prints CapEff (16 hex digits). */
export function capabilityMask(caps: readonly Capability[]): string {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(LINUX_CAPABILITIES.indexOf(c));
  return mask.toString(16).padStart(16, '0');
}
