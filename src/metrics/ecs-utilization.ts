import type { Sample } from './metric-store.js';
import { seriesRef } from './series.js';

/**
 * `AWS/ECS` CPUUtilization and MemoryUtilization as ECS computes them (the "Amazon ECS service utilization metrics"
 * page), from the figures agents publish for their tasks, and the cluster's CPUReservation / MemoryReservation.
 * Pure: no clock, no store. The per-minute buckets and their timer are in ecs-utilization-aggregator.ts.
 *
 * - Per ClusterName+ServiceName: Average = Σ used by the service's tasks × 100 / Σ reserved for them; Minimum and
 *   Maximum are the least and most utilized task (each task's used × 100 / its reservation). Written as one
 *   statistic set per minute whose Sum is Average × SampleCount, so CloudWatch's Average (Sum / SampleCount) is
 *   exactly ECS's ratio even when tasks reserve different amounts.
 * - Per ClusterName: Σ used by every reporting task × 100 / Σ registered on the ACTIVE and DRAINING instances.
 * - CPUReservation / MemoryReservation per ClusterName: Σ reserved by the instances' tasks × 100 / Σ registered.
 *
 * A task that reserves nothing (no task-level cpu and no container cpu, which ECS allows on EC2) adds its use to the
 * numerator and nothing to the denominator and has no per-task value for Minimum/Maximum; a service whose tasks
 * reserve nothing at all gets no datapoint for that metric (there is nothing to divide by).
 */

/** One task's figures over the last publishing interval, with what it reserves (from the control plane's records). */
export interface TaskFigures {
  readonly taskArn: string;
  /** Absent for a task outside any service (it only counts towards the cluster). */
  readonly serviceName?: string;
  /** CPU units (1024 per CPU) used on average over the interval. */
  readonly cpuUsed: number;
  /** MiB in use. */
  readonly memoryUsed: number;
  readonly cpuReserved: number;
  readonly memoryReserved: number;
}

/** A cluster's registered and reserved capacity (ACTIVE and DRAINING instances only). */
export interface ClusterCapacity {
  readonly cpuRegistered: number;
  readonly memoryRegistered: number;
  readonly cpuReserved: number;
  readonly memoryReserved: number;
}

/** A statistic set of one minute. */
export interface StatSet {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/** The service-level statistic set for one resource (undefined: nothing reserved, no datapoint). */
export function serviceUtilization(tasks: readonly TaskFigures[], kind: 'cpu' | 'memory'): StatSet | undefined {
  const used = (t: TaskFigures) => (kind === 'cpu' ? t.cpuUsed : t.memoryUsed);
  const reserved = (t: TaskFigures) => (kind === 'cpu' ? t.cpuReserved : t.memoryReserved);
  const totalReserved = tasks.reduce((s, t) => s + reserved(t), 0);
  if (totalReserved <= 0) return undefined;
  const average = (tasks.reduce((s, t) => s + used(t), 0) * 100) / totalReserved;
  const perTask = tasks.filter((t) => reserved(t) > 0).map((t) => (used(t) * 100) / reserved(t));
  return { count: perTask.length, sum: average * perTask.length, min: Math.min(...perTask), max: Math.max(...perTask) };
}

/** A single-value statistic set (cluster-level figures), undefined when nothing is registered. */
function percent(part: number, whole: number): StatSet | undefined {
  if (whole <= 0) return undefined;
  const v = (part * 100) / whole;
  return { count: 1, sum: v, min: v, max: v };
}

/**
 * Every `AWS/ECS` datapoint of one cluster for one minute (`minuteS`: the minute's start, epoch seconds). `highRes`:
 * only for the test-only time scale's shorter periods (ecs-utilization-aggregator.ts).
 */
export function clusterSamples(cluster: string, minuteS: number, tasks: readonly TaskFigures[], capacity: ClusterCapacity | undefined, highRes = false): Sample[] {
  const out: Sample[] = [];
  const add = (name: string, dims: Record<string, string>, set: StatSet | undefined) => {
    if (!set) return;
    const dimensions = Object.entries(dims).map(([Name, Value]) => ({ Name, Value }));
    out.push({ series: seriesRef('AWS/ECS', name, dimensions), unit: 'Percent', t: minuteS, highRes, ...set });
  };
  const byService = new Map<string, TaskFigures[]>();
  for (const t of tasks) if (t.serviceName !== undefined) byService.set(t.serviceName, [...(byService.get(t.serviceName) ?? []), t]);
  for (const [service, members] of [...byService].sort(([a], [b]) => (a < b ? -1 : 1))) {
    add('CPUUtilization', { ClusterName: cluster, ServiceName: service }, serviceUtilization(members, 'cpu'));
    add('MemoryUtilization', { ClusterName: cluster, ServiceName: service }, serviceUtilization(members, 'memory'));
  }
  if (capacity) {
    add('CPUUtilization', { ClusterName: cluster }, percent(tasks.reduce((s, t) => s + t.cpuUsed, 0), capacity.cpuRegistered));
    add('MemoryUtilization', { ClusterName: cluster }, percent(tasks.reduce((s, t) => s + t.memoryUsed, 0), capacity.memoryRegistered));
    add('CPUReservation', { ClusterName: cluster }, percent(capacity.cpuReserved, capacity.cpuRegistered));
    add('MemoryReservation', { ClusterName: cluster }, percent(capacity.memoryReserved, capacity.memoryRegistered));
  }
  return out;
}
