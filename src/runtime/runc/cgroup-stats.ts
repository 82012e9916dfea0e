/**
 * The figures behind Docker-shaped container stats, read from a container's cgroup files and from /proc.
 * The parsers are pure (text in, numbers out) so they are tested on sample text; the readers tolerate
 * missing files: a figure the kernel does not offer is left out, never invented.
 *
 *   cgroup v1                                         cgroup v2
 *   cpuacct.usage_percpu, cpuacct.stat (USER_HZ)      cpu.stat usage_usec, user_usec, system_usec
 *   cpu.stat nr_periods, nr_throttled, throttled_time cpu.stat nr_periods, nr_throttled, throttled_usec
 *   memory.max_usage_in_bytes, failcnt, memory.stat   memory.peak (when the kernel has it), memory.stat
 *   pids.current, pids.max                            pids.current, pids.max
 *   blkio.throttle.io_service{_bytes,d}_recursive     io.stat rbytes, wbytes, rios, wios
 */
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlkioEntry, ContainerStatDetails, NetworkCounters } from '../runtime.js';

/** Linux's USER_HZ: the unit of cpuacct.stat and /proc/stat (100 on every architecture Linux runs containers on). */
export const CLOCK_TICKS_PER_SECOND = 100;
const NANOS_PER_TICK = 1e9 / CLOCK_TICKS_PER_SECOND;

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.stat, cpu.stat, cpuacct.stat) as a map of numbers. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = Number(value);
  }
  return out;
}

/** A single number, `max` for unlimited (undefined then). */
export function parseLimit(text: string | undefined): number | undefined {
  const t = text?.trim();
  return t === undefined || t === '' || t === 'max' || !/^\d+$/.test(t) ? undefined : Number(t);
}

/** blkio.throttle.* recursive files: `8:0 Read 4096` lines; the `Total` line is dropped (Docker does the same). */
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
    if (m) out.push({ major: Number(m[1]), minor: Number(m[2]), op: m[3]!, value: Number(m[4]) });
  }
  return out;
}

/** cgroup v2 io.stat (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 …`) in blkio's terms. */
export function parseIoStat(text: string): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const dm = device && /^(\d+):(\d+)$/.exec(device);
    if (!dm) continue;
    const kv = Object.fromEntries(pairs.map((p) => p.split('=') as [string, string]));
    const at = (op: string, value: string | undefined) => ({ major: Number(dm[1]), minor: Number(dm[2]), op, value: Number(value ?? 0) });
    serviceBytes.push(at('Read', kv.rbytes), at('Write', kv.wbytes));
    serviced.push(at('Read', kv.rios), at('Write', kv.wios));
  }
  return { serviceBytes, serviced };
}

/** The host's CPU time in nanoseconds from /proc/stat's `cpu` line, summed as Docker does (user … softirq). */
export function parseSystemCpuNanos(procStat: string): number | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1, 8).map(Number);
  if (ticks.length < 7 || ticks.some((t) => !Number.isFinite(t))) return undefined;
  return ticks.reduce((a, b) => a + b, 0) * NANOS_PER_TICK;
}

/** /proc/<pid>/net/dev: counters per interface, without the loopback (Docker reports only the others). */
export function parseNetDev(text: string): Record<string, NetworkCounters> {
  const out: Record<string, NetworkCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || m[1] === 'lo') continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    if (f.length < 16) continue;
    out[m[1]!] = {
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrors: f[2]!,
      rxDropped: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrors: f[10]!,
      txDropped: f[11]!,
    };
  }
  return out;
}

/** A container's cgroup directories by controller (v1), or the one v2 directory for all of them. */
export interface CgroupDirs {
  readonly version: 1 | 2;
  readonly cpu?: string;
  readonly cpuacct?: string;
  readonly memory?: string;
  readonly pids?: string;
  readonly blkio?: string;
}

/** What the cgroup files say beyond total CPU and memory use; figures whose files are missing are left out. */
export async function readCgroupDetails(dirs: CgroupDirs): Promise<ContainerStatDetails> {
  return dirs.version === 1 ? readV1(dirs) : readV2(dirs);
}

async function readV1(dirs: CgroupDirs): Promise<ContainerStatDetails> {
  const at = (dir: string | undefined, file: string) => (dir ? readText(join(dir, file)) : Promise.resolve(undefined));
  const [percpu, cpuacctStat, cpuStat, maxUsage, failcnt, memoryStat, pidsCurrent, pidsMax, ioBytes, ioServiced] = await Promise.all([
    at(dirs.cpuacct, 'cpuacct.usage_percpu'),
    at(dirs.cpuacct, 'cpuacct.stat'),
    at(dirs.cpu, 'cpu.stat'),
    at(dirs.memory, 'memory.max_usage_in_bytes'),
    at(dirs.memory, 'memory.failcnt'),
    at(dirs.memory, 'memory.stat'),
    at(dirs.pids, 'pids.current'),
    at(dirs.pids, 'pids.max'),
    at(dirs.blkio, 'blkio.throttle.io_service_bytes_recursive'),
    at(dirs.blkio, 'blkio.throttle.io_serviced_recursive'),
  ]);
  const times = cpuacctStat === undefined ? undefined : parseFlatKeyed(cpuacctStat);
  const throttling = cpuStat === undefined ? undefined : parseFlatKeyed(cpuStat);
  const pidsNow = parseLimit(pidsCurrent);
  const pidsLimit = parseLimit(pidsMax);
  return {
    cpu: {
      ...(percpu !== undefined ? { percpuNanos: percpu.trim().split(/\s+/).filter(Boolean).map(Number) } : {}),
      ...(times?.user !== undefined ? { userNanos: times.user * NANOS_PER_TICK } : {}),
      ...(times?.system !== undefined ? { systemNanos: times.system * NANOS_PER_TICK } : {}),
      ...(throttling
        ? {
            throttling: {
              periods: throttling.nr_periods ?? 0,
              throttledPeriods: throttling.nr_throttled ?? 0,
              throttledTimeNanos: throttling.throttled_time ?? 0,
            },
          }
        : {}),
    },
    memory: {
      ...(parseLimit(maxUsage) !== undefined ? { maxUsageBytes: parseLimit(maxUsage)! } : {}),
      ...(parseLimit(failcnt) !== undefined ? { failcnt: parseLimit(failcnt)! } : {}),
      stat: memoryStat === undefined ? {} : parseFlatKeyed(memoryStat),
    },
    ...(pidsNow !== undefined ? { pids: { current: pidsNow, ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) } } : {}),
    ...(ioBytes !== undefined || ioServiced !== undefined
      ? { blkio: { serviceBytes: parseBlkio(ioBytes ?? ''), serviced: parseBlkio(ioServiced ?? '') } }
      : {}),
  };
}

async function readV2(dirs: CgroupDirs): Promise<ContainerStatDetails> {
  const dir = dirs.memory ?? dirs.cpu ?? dirs.cpuacct;
  if (!dir) return {};
  const [cpuStat, peak, memoryStat, pidsCurrent, pidsMax, ioStat] = await Promise.all(
    ['cpu.stat', 'memory.peak', 'memory.stat', 'pids.current', 'pids.max', 'io.stat'].map((f) => readText(join(dir, f))),
  );
  const cpu = cpuStat === undefined ? undefined : parseFlatKeyed(cpuStat);
  const pidsNow = parseLimit(pidsCurrent);
  const pidsLimit = parseLimit(pidsMax);
  return {
    cpu: {
      ...(cpu?.user_usec !== undefined ? { userNanos: cpu.user_usec * 1000 } : {}),
      ...(cpu?.system_usec !== undefined ? { systemNanos: cpu.system_usec * 1000 } : {}),
      ...(cpu?.nr_periods !== undefined
        ? { throttling: { periods: cpu.nr_periods, throttledPeriods: cpu.nr_throttled ?? 0, throttledTimeNanos: (cpu.throttled_usec ?? 0) * 1000 } }
        : {}),
    },
    memory: { ...(parseLimit(peak) !== undefined ? { maxUsageBytes: parseLimit(peak)! } : {}), stat: memoryStat === undefined ? {} : parseFlatKeyed(memoryStat) },
    ...(pidsNow !== undefined ? { pids: { current: pidsNow, ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) } } : {}),
    ...(ioStat !== undefined ? { blkio: parseIoStat(ioStat) } : {}),
  };
}

/** Host CPU time (/proc/stat) and, when the container has a network namespace of its own, its interface counters. */
export async function readProcDetails(pid: number | undefined): Promise<Pick<ContainerStatDetails, 'systemCpuNanos' | 'networks'>> {
  const [procStat, ownNet, netDev] = await Promise.all([
    readText('/proc/stat'),
    pid === undefined ? undefined : ownNetworkNamespace(pid),
    pid === undefined ? undefined : readText(`/proc/${pid}/net/dev`),
  ]);
  const systemCpuNanos = procStat === undefined ? undefined : parseSystemCpuNanos(procStat);
  return {
    ...(systemCpuNanos !== undefined ? { systemCpuNanos } : {}),
    ...(ownNet && netDev !== undefined ? { networks: parseNetDev(netDev) } : {}),
  };
}

/** Whether `pid` lives in a network namespace other than this process's (host-network containers do not). */
async function ownNetworkNamespace(pid: number): Promise<boolean> {
  try {
    const [theirs, ours] = await Promise.all([readlink(`/proc/${pid}/ns/net`), readlink('/proc/self/ns/net')]);
    return theirs !== ours;
  } catch {
    return false;
  }
}
