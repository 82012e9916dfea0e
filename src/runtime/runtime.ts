/**
 * What the agent's task engine needs from a container runtime. The runc implementation (runtime/runc/)
 * runs each container under conmon, which outlives the agent: containers keep running when the agent is
 * killed, and their exit status waits on disk until a restarted agent reads it.
 *
 * Container lifecycle:  create ──▶ created ──start──▶ running ──(exit | kill)──▶ stopped ──delete──▶ gone
 */
export interface Runtime {
  /** Prepare the container (bundle, cgroup, namespaces, monitor) without starting its process. */
  create(spec: ContainerSpec): Promise<void>;
  /**
   * Create as {@link create} does, beginning before the spec is complete: its `id` and `logPath` are known
   * now, the rest once `spec` resolves (to a spec with that id and logPath). Meanwhile the runtime may start
   * what needs no spec (runc: the container's monitor), so that this overlaps the caller's preparation of
   * the root filesystem, files and network. When `spec` rejects, whatever was begun is removed and its
   * error is thrown as it is. Optional: without it, await the spec and call create.
   */
  createEarly?(early: { readonly id: string; readonly logPath: string }, spec: Promise<ContainerSpec>): Promise<void>;
  /**
   * Whether create takes a {@link ContainerSpec.rootfsOverlay}: the runtime then mounts the overlay as the
   * container's root itself, inside the container's own mount namespace (runc: the first of the spec's mounts),
   * so no mount process runs on the start's path and nothing is mounted on the host (the mount goes with the
   * container's last process). A runtime without it refuses such a spec with InvalidContainerSpecError.
   */
  readonly mountsRootfsOverlay?: boolean;
  /** Start the created container's process. */
  start(id: string): Promise<{ pid: number }>;
  /**
   * Send a signal to the container's init process. A stopped container is not an error. As pid 1 of its
   * namespace, that process only receives signals it handles (and SIGKILL): hence `init` for programs that
   * do not handle SIGTERM.
   */
  kill(id: string, signal: 'SIGTERM' | 'SIGKILL' | NodeJS.Signals): Promise<void>;
  /** Resolves when the container's process has exited (at once if it already has). */
  wait(id: string): Promise<ExitStatus>;
  /** The container's current state, or undefined if the runtime knows no such container. */
  state(id: string): Promise<ContainerState | undefined>;
  /**
   * Remove the container and everything the runtime holds for it (stopping it first if needed): runtime
   * state, bundle, monitor, cgroups. Idempotent. The log file at `logPath` stays: it is the caller's.
   */
  delete(id: string): Promise<void>;
  /** Ids of every container this runtime holds, for recovery after an agent restart. */
  list(): Promise<string[]>;
  /** CPU and memory figures from the container's cgroups, for the metadata endpoint. */
  stats?(id: string): Promise<ContainerStats | undefined>;
  /**
   * Run a command inside the running container (a health check): its namespaces, environment and user.
   * Resolves with the exit code; past `timeoutMs` the command is killed and `timedOut` is true.
   */
  exec(id: string, args: readonly string[], options: { readonly timeoutMs: number }): Promise<{ exitCode: number; timedOut: boolean }>;
  /**
   * The command line that runs `args` inside the running container in the foreground, for the caller to run with its
   * own stdio (an ECS Exec session): with `tty`, the command gets a terminal of its own, sized as the caller's stdin
   * terminal is and resized when that one is. The command's pid is written to `pidFile`: a host pid the caller may
   * kill when `hostPid` (runc), one inside the sandbox otherwise (runsc). Optional: a runtime without it has no ECS Exec.
   */
  execCommandLine?(id: string, args: readonly string[], options: { readonly tty: boolean; readonly pidFile: string }): Promise<{ file: string; args: string[]; hostPid: boolean }>;
}

/** What the runtime knows of a container now. */
export interface ContainerState {
  readonly status: 'created' | 'running' | 'stopped';
  readonly pid?: number;
  readonly exit?: ExitStatus;
  readonly labels: Readonly<Record<string, string>>;
}

/** How a container's process ended. */
export interface ExitStatus {
  /**
   * The process's exit code; 128 + signal number when a signal ended it (as Docker reports); 255 when it
   * cannot be known (the container's monitor was killed before it could record the exit).
   */
  readonly exitCode: number;
  /** The kernel's OOM killer ended it (reported as OutOfMemoryError). */
  readonly oomKilled: boolean;
  /** Epoch milliseconds. */
  readonly exitedAt: number;
}

/** Cumulative CPU time and current memory use, from the container's cgroups. */
export interface ContainerStats extends ContainerStatDetails {
  readonly cpuUsageNanos: number;
  readonly memoryUsageBytes: number;
  readonly memoryLimitBytes?: number;
  readonly readAt: number;
}

/**
 * What a runtime may add for Docker-shaped stats (the task metadata endpoint's `/stats`). Every part is
 * optional: a runtime, or a cgroup version, that cannot tell leaves it out.
 */
export interface ContainerStatDetails {
  readonly cpu?: {
    readonly percpuNanos?: readonly number[];
    readonly userNanos?: number;
    readonly systemNanos?: number;
    readonly throttling?: { readonly periods: number; readonly throttledPeriods: number; readonly throttledTimeNanos: number };
  };
  readonly memory?: {
    readonly maxUsageBytes?: number;
    readonly failcnt?: number;
    /** memory.stat as the kernel names it (cache, rss, total_inactive_file, …). */
    readonly stat: Readonly<Record<string, number>>;
  };
  readonly pids?: { readonly current: number; readonly limit?: number };
  readonly blkio?: { readonly serviceBytes: readonly BlkioEntry[]; readonly serviced: readonly BlkioEntry[] };
  /** The host's CPU time (all CPUs) read at the same moment, for Docker's system_cpu_usage. */
  readonly systemCpuNanos?: number;
  /** Interface counters of the container's own network namespace, by interface; absent for host networking. */
  readonly networks?: Readonly<Record<string, NetworkCounters>>;
}

/** One line of a blkio statistic: a device, an operation (Read, Write, Sync, Async, Discard) and a count. */
export interface BlkioEntry {
  readonly major: number;
  readonly minor: number;
  readonly op: string;
  readonly value: number;
}

export interface NetworkCounters {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDropped: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDropped: number;
}

/** The CFS period a container's CPU quota is given in (100 ms, Docker's and the ECS agent's). */
export const CPU_PERIOD_MICROS = 100_000;

/** Everything needed to run one container; the runtime turns it into an OCI runtime spec. */
export interface ContainerSpec {
  /** Unique on the host; also the runc container id. */
  readonly id: string;
  /**
   * Names in `process.env` whose values are secrets: the runtime gives them to the container and keeps them
   * nowhere else once it is created (runc: config.json is rewritten without them after `runc create`).
   */
  readonly secretEnvNames?: readonly string[];
  /**
   * The prepared root filesystem (an overlay mounted on the host); with {@link rootfsOverlay}, an empty
   * directory the runtime mounts that overlay over.
   */
  readonly rootfs: string;
  /** The root as an overlay for the runtime to mount (only a runtime that {@link Runtime.mountsRootfsOverlay}). */
  readonly rootfsOverlay?: RootfsOverlay;
  readonly process: {
    readonly args: readonly string[];
    /** `NAME=value` pairs. */
    readonly env: readonly string[];
    readonly cwd: string;
    readonly uid: number;
    readonly gid: number;
    readonly additionalGids?: readonly number[];
    /** ECS ulimit names (`nofile`) or OCI ones (`RLIMIT_NOFILE`); -1 means unlimited. */
    readonly rlimits?: readonly { readonly type: string; readonly soft: number; readonly hard: number }[];
  };
  readonly hostname?: string;
  readonly readonlyRootfs?: boolean;
  /** All capabilities, no seccomp, devices allowed: Docker's --privileged. */
  readonly privileged?: boolean;
  readonly capabilities?: { readonly add?: readonly string[]; readonly drop?: readonly string[] };
  /** Run a tiny init as PID 1 that reaps zombies and forwards signals (Docker's --init). */
  readonly init?: boolean;
  /**
   * The network namespace to join: a path (e.g. /var/run/netns/berth-…), 'host' for the host's, or
   * undefined for a new, empty one (loopback only).
   */
  readonly network?: string;
  /** Files bind-mounted read-only over the image's: /etc/hosts, /etc/resolv.conf, /etc/hostname. */
  readonly etcFiles?: { readonly hosts?: string; readonly resolvConf?: string; readonly hostname?: string };
  readonly mounts?: readonly Mount[];
  readonly sharedMemoryBytes?: number;
  readonly resources: {
    /** cpu.shares; Docker's minimum of 2 applies. */
    readonly cpuShares?: number;
    /** A hard CPU ceiling: CFS quota in µs of CPU time per {@link CPU_PERIOD_MICROS} (cpu.max). */
    readonly cpuQuotaMicros?: number;
    /** memory.limit_in_bytes (the hard limit). */
    readonly memoryLimitBytes?: number;
    /** memory.soft_limit_in_bytes. */
    readonly memoryReservationBytes?: number;
    readonly pidsLimit?: number;
  };
  /**
   * Where stdout and stderr go, in the CRI ("k8s-file") log format that conmon writes:
   * `<RFC 3339 time with nanoseconds> <stdout|stderr> <F|P> <text>` per line, P marking a partial line.
   */
  readonly logPath: string;
  /** Kept with the container and returned by state(), so a restarted agent can tell what it is. */
  readonly labels: Readonly<Record<string, string>>;
  readonly sysctls?: Readonly<Record<string, string>>;
  /**
   * The task-level cgroup the container's cgroup goes in (`<parent>/<name>/<id>`), with the whole task's hard
   * limits: all the task's containers together are held to them (a Fargate task's size). Every container of the
   * task names the same group with the same limits.
   */
  readonly taskCgroup?: TaskCgroup;
}

/** A cgroup holding all of one task's containers, with the task's limits (runtime/runc/task-cgroup.ts). */
export interface TaskCgroup {
  /** The task's id: letters, digits, '-', '_' and '.' only. */
  readonly name: string;
  /** CFS quota of the whole task, µs of CPU time per {@link CPU_PERIOD_MICROS}. */
  readonly cpuQuotaMicros?: number;
  /** Hard memory limit of the whole task (and its memory+swap: no swap). */
  readonly memoryLimitBytes?: number;
}

/** An overlay of layer directories (absolute paths). */
export interface RootfsOverlay {
  /** Read-only layers, the top one first. */
  readonly lowerdirs: readonly string[];
  /** Where the container's writes go, and overlayfs's work directory beside it (same filesystem). */
  readonly upperdir: string;
  readonly workdir: string;
}

/** A bind mount of a host path or a tmpfs inside the container. */
export interface Mount {
  readonly destination: string;
  readonly source: string;
  readonly type: 'bind' | 'tmpfs';
  readonly readOnly?: boolean;
  /** Extra mount options (tmpfs size=…, noexec, …). */
  readonly options?: readonly string[];
}
