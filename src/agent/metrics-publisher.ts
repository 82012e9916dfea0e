import type { PublishMetricsRequest, TaskMetric } from '../model/acs.js';
import { background, type BackgroundLog } from '../process/background.js';
import type { ContainerStats } from '../runtime/runtime.js';
import type { TimerHandle, Timers } from './task-engine/timers.js';

/**
 * Every interval (a minute, as ECS publishes), reads the cgroup figures of the host's running tasks and sends them to
 * the control plane over the session as a PublishMetricsRequest; the control plane turns them into AWS/ECS
 * CPUUtilization/MemoryUtilization against the tasks' reservations (docs/metrics.md). CPU is the average over the
 * interval (the CPU time between two readings of the same container), so a task's first figures come one interval
 * after it started; memory is the last reading.
 */
export interface PublishedTask {
  readonly arn: string;
  readonly runtimeIds: readonly string[];
}

export interface MetricsPublisherOptions {
  /** The host's RUNNING tasks now. */
  readonly tasks: () => readonly PublishedTask[];
  readonly stats: (runtimeId: string) => Promise<ContainerStats | undefined>;
  /** Sends the frame (dropped while the session is down: the next interval sends fresh figures). */
  readonly send: (message: PublishMetricsRequest) => void;
  readonly intervalMs: number;
  readonly timers: Timers;
  readonly log: BackgroundLog;
}

/** One container's reading and the one before it. */
export interface ContainerReading {
  readonly current: ContainerStats;
  readonly previous?: ContainerStats;
}

/** CPU units (1024 per CPU) used on average between two readings; undefined without a usable earlier reading. */
export function cpuUnitsBetween(previous: ContainerStats | undefined, current: ContainerStats): number | undefined {
  if (!previous || current.readAt <= previous.readAt || current.cpuUsageNanos < previous.cpuUsageNanos) return undefined;
  const cpuNanos = current.cpuUsageNanos - previous.cpuUsageNanos;
  const wallNanos = (current.readAt - previous.readAt) * 1_000_000;
  return (cpuNanos / wallNanos) * 1024;
}

/** MiB in use: usage less the inactive page cache (cgroup v2 `inactive_file`, v1 `total_inactive_file`), as `docker stats`. */
export function memoryMiB(stats: ContainerStats): number {
  const stat = stats.memory?.stat ?? {};
  const inactive = stat.inactive_file ?? stat.total_inactive_file ?? 0;
  return Math.max(0, stats.memoryUsageBytes - inactive) / (1024 * 1024);
}

/** A task's figures from its containers' readings; undefined when no container has two readings yet. */
export function taskMetric(arn: string, readings: readonly ContainerReading[]): TaskMetric | undefined {
  let cpu = 0;
  let anyCpu = false;
  for (const r of readings) {
    const units = cpuUnitsBetween(r.previous, r.current);
    if (units === undefined) continue;
    anyCpu = true;
    cpu += units;
  }
  if (!anyCpu) return undefined;
  return { taskArn: arn, cpuUsed: cpu, memoryUsed: readings.reduce((s, r) => s + memoryMiB(r.current), 0) };
}

export class MetricsPublisher {
  private readonly last = new Map<string, ContainerStats>();
  private timer?: TimerHandle;
  private stopped = false;

  constructor(private readonly o: MetricsPublisherOptions) {}

  /** Takes the first readings now (the baseline of the first interval) and publishes every interval after. */
  start(): void {
    if (this.o.intervalMs <= 0) return;
    this.run();
  }

  stop(): void {
    this.stopped = true;
    this.o.timers.clearTimeout(this.timer);
  }

  private run(): void {
    void background(this.o.log, 'publish task metrics', () => this.publish()).finally(() => {
      if (!this.stopped) this.timer = this.o.timers.setTimeout(() => this.run(), this.o.intervalMs);
    });
  }

  /** Read every running task's containers, send the figures of those with an earlier reading. */
  async publish(): Promise<void> {
    const taskMetrics: TaskMetric[] = [];
    const seen = new Set<string>();
    for (const task of this.o.tasks()) {
      const readings: ContainerReading[] = [];
      for (const id of task.runtimeIds) {
        seen.add(id);
        const current = await this.o.stats(id).catch(() => undefined);
        if (!current) continue;
        const previous = this.last.get(id);
        this.last.set(id, current);
        readings.push(previous ? { current, previous } : { current });
      }
      const metric = taskMetric(task.arn, readings);
      if (metric) taskMetrics.push(metric);
    }
    for (const id of this.last.keys()) if (!seen.has(id)) this.last.delete(id);
    if (taskMetrics.length > 0 && !this.stopped) this.o.send({ timestamp: Date.now(), taskMetrics });
  }
}
