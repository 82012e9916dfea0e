import { describe, expect, it } from 'vitest';
import type { ContainerStats } from '../../runtime/runtime.js';
import { formatStats, ZERO_TIME } from './format-stats.js';

const reading = (at: number, cpu: number, rx: number, extra: Partial<ContainerStats> = {}): ContainerStats => ({
  cpuUsageNanos: cpu,
  memoryUsageBytes: 5 << 20,
  memoryLimitBytes: 64 << 20,
  readAt: at,
  cpu: { percpuNanos: [cpu / 2, cpu / 2], userNanos: cpu * 0.7, systemNanos: cpu * 0.3, throttling: { periods: 4, throttledPeriods: 1, throttledTimeNanos: 99 } },
  memory: { maxUsageBytes: 6 << 20, failcnt: 0, stat: { rss: 4096, cache: 8192 } },
  pids: { current: 2, limit: 50 },
  blkio: { serviceBytes: [{ major: 8, minor: 0, op: 'Read', value: 10 }], serviced: [{ major: 8, minor: 0, op: 'Read', value: 1 }] },
  systemCpuNanos: cpu * 100,
  networks: { eth0: { rxBytes: rx, rxPackets: 3, rxErrors: 0, rxDropped: 0, txBytes: rx / 2, txPackets: 2, txErrors: 0, txDropped: 0 } },
  ...extra,
});

describe("Docker-shaped stats", () => {
  const base = { id: 'abc-app', onlineCpus: 2, hostMemoryBytes: 8 << 30, networkRates: true };

  it("gives the current and the previous reading, and v4's network rates", () => {
    const s = formatStats({ ...base, current: reading(Date.UTC(2026, 0, 1, 0, 0, 2), 2_000_000, 3000), previous: reading(Date.UTC(2026, 0, 1, 0, 0, 1), 1_000_000, 1000) });
    expect(s).toMatchObject({
      read: '2026-01-01T00:00:02.000Z',
      preread: '2026-01-01T00:00:01.000Z',
      name: '/abc-app',
      id: 'abc-app',
      num_procs: 0,
      storage_stats: {},
      pids_stats: { current: 2, limit: 50 },
      cpu_stats: {
        cpu_usage: { total_usage: 2_000_000, percpu_usage: [1_000_000, 1_000_000], usage_in_kernelmode: 600_000, usage_in_usermode: 1_400_000 },
        system_cpu_usage: 200_000_000,
        online_cpus: 2,
        throttling_data: { periods: 4, throttled_periods: 1, throttled_time: 99 },
      },
      precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 100_000_000 },
      memory_stats: { usage: 5 << 20, max_usage: 6 << 20, failcnt: 0, limit: 64 << 20, stats: { rss: 4096, cache: 8192 } },
      networks: { eth0: { rx_bytes: 3000, rx_packets: 3, tx_bytes: 1500, tx_packets: 2, rx_errors: 0, rx_dropped: 0, tx_errors: 0, tx_dropped: 0 } },
      network_rate_stats: { rx_bytes_per_sec: 2000, tx_bytes_per_sec: 1000 },
    });
    expect(s.blkio_stats.io_service_bytes_recursive).toEqual([{ major: 8, minor: 0, op: 'Read', value: 10 }]);
    expect(s.blkio_stats.io_queue_recursive).toEqual([]);
  });

  it("has zeros before the first previous reading, as Docker's first sample does", () => {
    const s = formatStats({ ...base, current: reading(1_000, 5, 10) });
    expect(s.preread).toBe(ZERO_TIME);
    expect(s.precpu_stats).toEqual({ cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });
    expect(s).not.toHaveProperty('network_rate_stats');
  });

  it('reports the host memory as the limit of an unlimited container, and no networks for host networking', () => {
    const s = formatStats({ ...base, networkRates: false, current: reading(1_000, 5, 10, { memoryLimitBytes: undefined, networks: undefined }) });
    expect(s.memory_stats.limit).toBe(8 << 30);
    expect(s).not.toHaveProperty('networks');
    expect(s).not.toHaveProperty('network_rate_stats');
  });
});
