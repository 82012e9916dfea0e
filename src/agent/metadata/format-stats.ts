/**
 * Docker-shaped container stats (what `docker stats` and ECS's `/stats` return) from two readings of a
 * container's cgroups. Pure.
 *
 * What berth can say, and what it cannot:
 * - cpu_stats: total, per-CPU (cgroup v1), user and kernel time, throttling, the host's CPU time and
 *   online CPUs; precpu_stats: the same from the previous reading (zeros before the first, as Docker's
 *   first streamed sample has).
 * - memory_stats: usage, max_usage, failcnt (v1), memory.stat, limit (the host's memory when unlimited).
 * - pids_stats, blkio_stats (io_service_bytes and io_serviced only; the CFQ-only lists are empty).
 * - networks: for containers with a network namespace of their own (bridge); none for host networking,
 *   as Docker. network_rate_stats (v4) when there is a previous reading with networks.
 * - num_procs and storage_stats are Windows-only in Docker: always 0 and {}.
 */
import type { ContainerStats } from '../../runtime/runtime.js';
import { blkioStatNames, type BlkioStatName, type CpuStats, type DockerStats, type InterfaceStats } from './wire.js';

/** Docker's zero time, its `preread` before there is a previous reading. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface StatsInput {
  /** The runtime's id (Docker's id on ECS). */
  readonly id: string;
  readonly current: ContainerStats;
  readonly previous?: ContainerStats;
  /** Online CPUs of the host. */
  readonly onlineCpus: number;
  /** The host's memory, reported as the limit of a container without one (as Docker does). */
  readonly hostMemoryBytes: number;
  /** v4 adds network_rate_stats. */
  readonly networkRates: boolean;
}

function cpuStats(s: ContainerStats | undefined, onlineCpus: number): CpuStats {
  const throttling = s?.cpu?.throttling;
  const percpu = s?.cpu?.percpuNanos;
  return {
    cpu_usage: {
      total_usage: s?.cpuUsageNanos ?? 0,
      ...(percpu?.length ? { percpu_usage: [...percpu] } : {}),
      usage_in_kernelmode: s?.cpu?.systemNanos ?? 0,
      usage_in_usermode: s?.cpu?.userNanos ?? 0,
    },
    ...(s?.systemCpuNanos !== undefined ? { system_cpu_usage: s.systemCpuNanos } : {}),
    ...(s ? { online_cpus: onlineCpus } : {}),
    throttling_data: {
      periods: throttling?.periods ?? 0,
      throttled_periods: throttling?.throttledPeriods ?? 0,
      throttled_time: throttling?.throttledTimeNanos ?? 0,
    },
  };
}

function networks(s: ContainerStats): Record<string, InterfaceStats> | undefined {
  if (!s.networks) return undefined;
  return Object.fromEntries(
    Object.entries(s.networks).map(([name, n]) => [
      name,
      {
        rx_bytes: n.rxBytes,
        rx_packets: n.rxPackets,
        rx_errors: n.rxErrors,
        rx_dropped: n.rxDropped,
        tx_bytes: n.txBytes,
        tx_packets: n.txPackets,
        tx_errors: n.txErrors,
        tx_dropped: n.txDropped,
      },
    ]),
  );
}

/** Bytes per second received and sent, all interfaces together, between two readings. */
function networkRates(current: ContainerStats, previous: ContainerStats | undefined): DockerStats['network_rate_stats'] {
  if (!current.networks || !previous?.networks) return undefined;
  const seconds = (current.readAt - previous.readAt) / 1000;
  if (seconds <= 0) return undefined;
  const sum = (s: ContainerStats, key: 'rxBytes' | 'txBytes') => Object.values(s.networks ?? {}).reduce((a, n) => a + n[key], 0);
  const rate = (key: 'rxBytes' | 'txBytes') => Math.max(0, (sum(current, key) - sum(previous, key)) / seconds);
  return { rx_bytes_per_sec: rate('rxBytes'), tx_bytes_per_sec: rate('txBytes') };
}

/** One container's stats in Docker's shape. */
export function formatStats(input: StatsInput): DockerStats {
  const { current, previous } = input;
  const blkio = Object.fromEntries(blkioStatNames.map((n) => [n, []])) as unknown as Record<BlkioStatName, DockerStats['blkio_stats'][BlkioStatName]>;
  if (current.blkio) {
    blkio.io_service_bytes_recursive = current.blkio.serviceBytes.map((e) => ({ ...e }));
    blkio.io_serviced_recursive = current.blkio.serviced.map((e) => ({ ...e }));
  }
  const memory = current.memory;
  const nets = networks(current);
  const rates = input.networkRates ? networkRates(current, previous) : undefined;
  return {
    read: new Date(current.readAt).toISOString(),
    preread: previous ? new Date(previous.readAt).toISOString() : ZERO_TIME,
    pids_stats: current.pids ? { current: current.pids.current, ...(current.pids.limit !== undefined ? { limit: current.pids.limit } : {}) } : {},
    blkio_stats: blkio,
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(current, input.onlineCpus),
    precpu_stats: cpuStats(previous, input.onlineCpus),
    memory_stats: {
      usage: current.memoryUsageBytes,
      ...(memory?.maxUsageBytes !== undefined ? { max_usage: memory.maxUsageBytes } : {}),
      ...(memory ? { stats: { ...memory.stat } } : {}),
      ...(memory?.failcnt !== undefined ? { failcnt: memory.failcnt } : {}),
      limit: current.memoryLimitBytes ?? input.hostMemoryBytes,
    },
    name: `/${input.id}`,
    id: input.id,
    ...(nets ? { networks: nets } : {}),
    ...(rates ? { network_rate_stats: rates } : {}),
  };
}
