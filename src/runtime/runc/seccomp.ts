import { RuntimeError } from '../errors.js';
import { checkShape, type ShapeSchema } from './json-shape-check.js';
import type { OciSeccomp, OciSyscall } from './oci-spec.js';

/**
 * A seccomp profile in the format Docker and containers/common ship (moby's `types.Seccomp`): the OCI
 * fields plus `archMap` and per-rule `includes`/`excludes` filters on architecture, capabilities and
 * kernel version. Debian's golang-github-containers-common installs Docker's default one at
 * /usr/share/containers/seccomp.json.
 */
export interface SeccompProfile {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures?: readonly string[];
  readonly archMap?: readonly { readonly architecture: string; readonly subArchitectures?: readonly string[] | null }[] | null;
  readonly syscalls?: readonly SeccompRule[] | null;
}

/** One rule of a Docker-format profile. */
export interface SeccompRule {
  readonly name?: string;
  readonly names?: readonly string[] | null;
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly { readonly index: number; readonly value: number; readonly valueTwo?: number; readonly op: string }[] | null;
  readonly includes?: SeccompFilter | null;
  readonly excludes?: SeccompFilter | null;
}

/** When a rule applies (`includes`) or does not (`excludes`). */
export interface SeccompFilter {
  readonly caps?: readonly string[] | null;
  /** Go architecture names: amd64, arm64, x86, x32, … */
  readonly arches?: readonly string[] | null;
  /** `major.minor`: the rule applies from this kernel on (includes) or below it (excludes). */
  readonly minKernel?: string | null;
}

/** Where the profile is applied: Go's name for the CPU architecture, the capability bounding set, the kernel. */
export interface SeccompTarget {
  readonly arch: string;
  readonly capabilities: readonly string[];
  readonly kernel: { readonly major: number; readonly minor: number };
  /**
   * Sub-architectures (libseccomp names) the kernel cannot run, known from its build configuration: no
   * process can make their system calls, so the filter need not describe them. Each architecture is a
   * whole filter runc compiles in every container's init (about 5 ms of CPU here); a system call of an
   * architecture left out meets the filter's bad-architecture action (the thread is killed), stricter
   * than the errno it got before.
   */
  readonly unsupportedArches?: readonly string[];
}

/**
 * The compat ABIs an x86_64 kernel's configuration (/proc/config.gz or /boot/config-<release>) leaves
 * out, as libseccomp names them: SCMP_ARCH_X32 without CONFIG_X86_X32_ABI, SCMP_ARCH_X86 without
 * CONFIG_IA32_EMULATION. Pure; an empty text (no configuration to read) leaves nothing out.
 */
export function unsupportedCompatArches(kernelConfig: string): string[] {
  if (!kernelConfig.trim()) return [];
  const set = (option: string) => new RegExp(`^${option}=y$`, 'm').test(kernelConfig);
  return [...(set('CONFIG_X86_X32_ABI') ? [] : ['SCMP_ARCH_X32']), ...(set('CONFIG_IA32_EMULATION') ? [] : ['SCMP_ARCH_X86'])];
}

const stringList = { type: ['array', 'null'], items: { type: 'string' } } as const;
const filterSchema = {
  type: ['object', 'null'],
  properties: { caps: stringList, arches: stringList, minKernel: { type: ['string', 'null'], pattern: '^\\d+\\.\\d+' } },
} as const;
const profileSchema = {
  type: 'object',
  required: ['defaultAction'],
  properties: {
    defaultAction: { type: 'string', pattern: '^SCMP_ACT_' },
    defaultErrnoRet: { type: 'integer', minimum: 0 },
    architectures: stringList,
    archMap: {
      type: ['array', 'null'],
      items: { type: 'object', required: ['architecture'], properties: { architecture: { type: 'string' }, subArchitectures: stringList } },
    },
    syscalls: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['action'],
        properties: {
          name: { type: 'string' },
          names: stringList,
          action: { type: 'string', pattern: '^SCMP_ACT_' },
          errnoRet: { type: 'integer', minimum: 0 },
          args: {
            type: ['array', 'null'],
            items: {
              type: 'object',
              required: ['index', 'value', 'op'],
              properties: { index: { type: 'integer', minimum: 0, maximum: 5 }, value: { type: 'integer', minimum: 0 }, valueTwo: { type: 'integer', minimum: 0 }, op: { type: 'string', pattern: '^SCMP_CMP_' } },
            },
          },
          includes: filterSchema,
          excludes: filterSchema,
        },
      },
    },
  },
} as const satisfies ShapeSchema;

/** Check that `value` (parsed JSON from `source`) is a seccomp profile; the error names the bad field. */
export function parseSeccompProfile(value: unknown, source: string): SeccompProfile {
  const problem = checkShape(value, profileSchema);
  if (problem) throw new RuntimeError(`seccomp profile ${source}: ${problem.path || '(root)'} ${problem.message}`);
  return value as SeccompProfile;
}

/** The seccomp architecture libseccomp names for a Go architecture. */
const NATIVE_ARCH: Readonly<Record<string, string>> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  '386': 'SCMP_ARCH_X86',
  arm: 'SCMP_ARCH_ARM',
  s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
};

/** Go's name for Node's `process.arch`. */
export function goArch(nodeArch: string): string {
  return ({ x64: 'amd64', ia32: '386' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

function kernelAtLeast(kernel: SeccompTarget['kernel'], min: string): boolean {
  const [major = 0, minor = 0] = min.split('.').map((n) => Number.parseInt(n, 10));
  return kernel.major > major || (kernel.major === major && kernel.minor >= minor);
}

/**
 * The OCI `linux.seccomp` for `profile` on `target`, filtering rules as Docker does (moby's setupSeccomp):
 * a rule is dropped when an excluded arch is ours, an excluded capability is in the bounding set or the
 * kernel is at least the excluded minKernel; and unless every included arch/capability/minKernel holds.
 */
export function seccompForTarget(profile: SeccompProfile, target: SeccompTarget): OciSeccomp {
  const native = NATIVE_ARCH[target.arch];
  let architectures: string[];
  if (profile.archMap && profile.archMap.length > 0) {
    if (!native) throw new RuntimeError(`seccomp: no seccomp architecture known for ${target.arch}`);
    const entry = profile.archMap.find((a) => a.architecture === native);
    const unsupported = new Set(target.unsupportedArches);
    architectures = entry ? [native, ...(entry.subArchitectures ?? []).filter((a) => !unsupported.has(a))] : [];
  } else {
    architectures = [...(profile.architectures ?? [])];
  }
  const caps = new Set(target.capabilities);
  const syscalls: OciSyscall[] = [];
  for (const rule of profile.syscalls ?? []) {
    const ex = rule.excludes ?? {};
    if (ex.arches?.includes(target.arch)) continue;
    if (ex.caps?.some((c) => caps.has(c))) continue;
    if (ex.minKernel && kernelAtLeast(target.kernel, ex.minKernel)) continue;
    const inc = rule.includes ?? {};
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(target.arch)) continue;
    if (inc.caps && !inc.caps.every((c) => caps.has(c))) continue;
    if (inc.minKernel && !kernelAtLeast(target.kernel, inc.minKernel)) continue;
    const names = [...(rule.names ?? []), ...(rule.name ? [rule.name] : [])];
    if (names.length === 0) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args && rule.args.length > 0
        ? { args: rule.args.map((a) => ({ index: a.index, value: a.value, ...(a.valueTwo ? { valueTwo: a.valueTwo } : {}), op: a.op })) }
        : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    architectures,
    syscalls,
  };
}
