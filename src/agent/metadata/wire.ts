/**
 * The task metadata endpoint's response shapes, as ECS's agent writes them (PascalCase for metadata,
 * Docker's snake_case for stats). Optional members are left out of the JSON when absent, as ECS's
 * `omitempty` does. v3 is v4 without the members v4 added (marked below).
 */

/** `${ECS_CONTAINER_METADATA_URI_V4}/task`. */
export interface TaskMetadata {
  /** The cluster's ARN. */
  readonly Cluster: string;
  readonly TaskARN: string;
  readonly Family: string;
  readonly Revision: string;
  readonly DesiredStatus: string;
  readonly KnownStatus: string;
  readonly Containers: ContainerMetadata[];
  /** Task-level size, when the task definition (or RunTask) sets one: vCPUs and MiB. */
  readonly Limits?: { readonly CPU?: number; readonly Memory?: number };
  readonly PullStartedAt?: string;
  readonly PullStoppedAt?: string;
  readonly ExecutionStoppedAt?: string;
  readonly AvailabilityZone?: string;
  /** `/taskWithTags` only, and only when the lookup worked (else an entry in Errors, v4). */
  readonly TaskTags?: Record<string, string>;
  readonly ContainerInstanceTags?: Record<string, string>;
  /** v4. */
  readonly LaunchType?: string;
  /** v4, when the task belongs to a service. */
  readonly ServiceName?: string;
  /** v4: what went wrong fetching tags. */
  readonly Errors?: MetadataError[];
}

/** `${ECS_CONTAINER_METADATA_URI_V4}`, and each of a task's Containers. */
export interface ContainerMetadata {
  /** The runtime's id for the container (Docker's id on ECS; berth's runc id). */
  readonly DockerId: string;
  readonly Name: string;
  readonly DockerName: string;
  readonly Image: string;
  readonly ImageID: string;
  readonly Ports?: PortMetadata[];
  readonly Labels?: Record<string, string>;
  readonly DesiredStatus: string;
  readonly KnownStatus: string;
  readonly ExitCode?: number;
  /** CPU units and the hard memory limit in MiB (0 when there is none). */
  readonly Limits: { readonly CPU: number; readonly Memory: number };
  readonly CreatedAt?: string;
  readonly StartedAt?: string;
  readonly FinishedAt?: string;
  readonly Type: 'NORMAL';
  readonly Networks?: NetworkMetadata[];
  readonly Health?: HealthMetadata;
  /** v4. */
  readonly LogDriver?: string;
  readonly LogOptions?: Record<string, string>;
  readonly ContainerARN?: string;
}

export interface PortMetadata {
  readonly ContainerPort: number;
  readonly Protocol: string;
  readonly HostPort: number;
  /** v4. */
  readonly HostIp?: string;
}

export interface NetworkMetadata {
  /** bridge, host, awsvpc or none. */
  readonly NetworkMode: string;
  /** The container's own address (the task's, awsvpc); `[""]` for host and none networking, as ECS writes it. */
  readonly IPv4Addresses: string[];
  /** awsvpc: the task's interface. */
  readonly AttachmentIndex?: number;
  readonly MACAddress?: string;
  readonly PrivateDNSName?: string;
}

/** ECS writes this one member-set in lower case. */
export interface HealthMetadata {
  readonly status?: 'HEALTHY' | 'UNHEALTHY';
}

export interface MetadataError {
  readonly ErrorField: string;
  readonly ErrorCode?: string;
  readonly ErrorMessage: string;
  readonly StatusCode?: number;
  readonly RequestId?: string;
  readonly ResourceARN: string;
}

/** Docker's ContainerStats (API 1.30+), as `/stats` and each value of `/task/stats` carry it. */
export interface DockerStats {
  readonly read: string;
  readonly preread: string;
  readonly pids_stats: { readonly current?: number; readonly limit?: number };
  readonly blkio_stats: Record<BlkioStatName, BlkioStatEntry[]>;
  /** Windows only: always 0. */
  readonly num_procs: number;
  /** Windows only: always empty. */
  readonly storage_stats: Record<string, never>;
  readonly cpu_stats: CpuStats;
  readonly precpu_stats: CpuStats;
  readonly memory_stats: MemoryStats;
  /** Docker's container name, with its leading slash. */
  readonly name: string;
  readonly id: string;
  /** Per interface, for containers with a network namespace of their own. */
  readonly networks?: Record<string, InterfaceStats>;
  /** v4: bytes per second since the previous reading, all interfaces together. */
  readonly network_rate_stats?: { readonly rx_bytes_per_sec: number; readonly tx_bytes_per_sec: number };
}

export const blkioStatNames = [
  'io_service_bytes_recursive',
  'io_serviced_recursive',
  'io_queue_recursive',
  'io_service_time_recursive',
  'io_wait_time_recursive',
  'io_merged_recursive',
  'io_time_recursive',
  'sectors_recursive',
] as const;
export type BlkioStatName = (typeof blkioStatNames)[number];

export interface BlkioStatEntry {
  readonly major: number;
  readonly minor: number;
  readonly op: string;
  readonly value: number;
}

export interface CpuStats {
  readonly cpu_usage: {
    readonly total_usage: number;
    readonly percpu_usage?: number[];
    readonly usage_in_kernelmode: number;
    readonly usage_in_usermode: number;
  };
  readonly system_cpu_usage?: number;
  readonly online_cpus?: number;
  readonly throttling_data: { readonly periods: number; readonly throttled_periods: number; readonly throttled_time: number };
}

export interface MemoryStats {
  readonly usage?: number;
  readonly max_usage?: number;
  readonly stats?: Record<string, number>;
  readonly failcnt?: number;
  readonly limit?: number;
}

export interface InterfaceStats {
  readonly rx_bytes: number;
  readonly rx_packets: number;
  readonly rx_errors: number;
  readonly rx_dropped: number;
  readonly tx_bytes: number;
  readonly tx_packets: number;
  readonly tx_errors: number;
  readonly tx_dropped: number;
}
