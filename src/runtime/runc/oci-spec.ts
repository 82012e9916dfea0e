/**
 * The part of the OCI runtime spec (config.json, runtime-spec 1.0.2, what runc 1.1 reads) that berth
 * writes. Field names are the spec's; see opencontainers/runtime-spec config.md and config-linux.md.
 */
export interface OciSpec {
  readonly ociVersion: string;
  readonly process: OciProcess;
  readonly root: { readonly path: string; readonly readonly: boolean };
  readonly hostname?: string;
  readonly mounts: readonly OciMount[];
  readonly annotations?: Readonly<Record<string, string>>;
  readonly linux: OciLinux;
}

/** `process`: what runs, as whom, with which capabilities and limits. */
export interface OciProcess {
  readonly terminal: boolean;
  readonly user: { readonly uid: number; readonly gid: number; readonly additionalGids?: readonly number[] };
  readonly args: readonly string[];
  readonly env: readonly string[];
  readonly cwd: string;
  readonly capabilities: {
    readonly bounding: readonly string[];
    readonly effective: readonly string[];
    readonly permitted: readonly string[];
    readonly inheritable?: readonly string[];
    readonly ambient?: readonly string[];
  };
  readonly rlimits?: readonly OciRlimit[];
  readonly noNewPrivileges: boolean;
  readonly oomScoreAdj?: number;
}

/** Limits are uint64 in the spec; RLIM_INFINITY (2^64-1) does not fit a JS number, hence bigint. */
export interface OciRlimit {
  readonly type: string;
  readonly soft: bigint;
  readonly hard: bigint;
}

/** One entry of `mounts`. */
export interface OciMount {
  readonly destination: string;
  readonly type: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** `linux`: namespaces, cgroup, resources and the security settings. */
export interface OciLinux {
  readonly namespaces: readonly OciNamespace[];
  readonly cgroupsPath: string;
  readonly resources: OciResources;
  readonly sysctl?: Readonly<Record<string, string>>;
  readonly seccomp?: OciSeccomp;
  readonly maskedPaths?: readonly string[];
  readonly readonlyPaths?: readonly string[];
}

/** A namespace to create, or to join when `path` is given. */
export interface OciNamespace {
  readonly type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup';
  readonly path?: string;
}

/** `linux.resources`: the cgroup settings (v1 names). */
export interface OciResources {
  readonly devices: readonly OciDeviceRule[];
  readonly memory?: { readonly limit?: number; readonly reservation?: number; readonly swap?: number };
  readonly cpu?: { readonly shares?: number; readonly quota?: number; readonly period?: number };
  readonly pids?: { readonly limit: number };
}

/** A device cgroup rule; no major/minor means any. */
export interface OciDeviceRule {
  readonly allow: boolean;
  readonly type?: 'a' | 'b' | 'c';
  readonly major?: number;
  readonly minor?: number;
  readonly access: string;
}

/** `linux.seccomp`: a default action and per-syscall rules. */
export interface OciSeccomp {
  readonly defaultAction: string;
  readonly defaultErrnoRet?: number;
  readonly architectures: readonly string[];
  readonly syscalls: readonly OciSyscall[];
}

/** A seccomp rule for some syscalls, optionally only for certain argument values. */
export interface OciSyscall {
  readonly names: readonly string[];
  readonly action: string;
  readonly errnoRet?: number;
  readonly args?: readonly OciSyscallArg[];
}

/** A condition on one syscall argument. */
export interface OciSyscallArg {
  readonly index: number;
  /** uint64 in the spec; the profiles berth reads stay well inside JS's safe integers. */
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: string;
}

/** config.json text for `spec`: JSON, with bigint written as the exact integer it holds. */
export function serializeOciSpec(spec: OciSpec): string {
  const marker = '\u0000u64:';
  const json = JSON.stringify(spec, (_key, value: unknown) => (typeof value === 'bigint' ? `${marker}${value}` : value), 2);
  return json.replace(/"\\u0000u64:(\d+)"/g, '$1');
}
