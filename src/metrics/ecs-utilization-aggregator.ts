import type { Sample } from './metric-store.js';
import { clusterSamples, type ClusterCapacity, type TaskFigures } from './ecs-utilization.js';

/**
 * Groups the figures agents publish (each agent once a minute, at its own offset) into whole minutes per cluster and,
 * once a minute can receive nothing more, writes that minute's `AWS/ECS` datapoints (ecs-utilization.ts).
 *
 *   figures for minute M (by arrival time) ──► bucket M ──(now ≥ M + 60 s + grace)──► samples ──► write
 *
 * A task reported twice in one minute (an agent's interval drifting across a boundary) counts once, with its latest
 * figures. A minute without any figure for a cluster writes nothing, as ECS sends no metrics for resources without
 * running tasks.
 */
export interface AggregatorOptions {
  /** Writes one minute's samples (the metric store's put). */
  readonly write: (samples: readonly Sample[]) => Promise<void>;
  /** The cluster's registered and reserved capacity, read when its minute is written. */
  readonly capacity: (cluster: string) => ClusterCapacity | undefined;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A minute is written this long after it ends (default 5 s): a figure sent at its last second still arrives. */
  readonly graceMs?: number;
  /**
   * The datapoints' period in seconds (default 60, ECS's). Shorter only under the test-only time scale
   * (BERTH_TIME_SCALE, docs/autoscaling.md): the datapoints are then written high-resolution, so alarms of that
   * period can read them.
   */
  readonly periodS?: number;
  /** Called with a failed write (the minute is not retried: its samples would be a minute late anyway). */
  readonly onError?: (error: unknown) => void;
}

export class UtilizationAggregator {
  /** minute (period) start (epoch s) → cluster → task ARN → figures. */
  private readonly buckets = new Map<number, Map<string, Map<string, TaskFigures>>>();
  private timer?: NodeJS.Timeout;
  private readonly graceMs: number;
  private readonly periodS: number;

  constructor(private readonly o: AggregatorOptions) {
    this.graceMs = o.graceMs ?? 5_000;
    this.periodS = o.periodS ?? 60;
  }

  /** Figures for a cluster's tasks, received now. */
  add(cluster: string, figures: readonly TaskFigures[]): void {
    const minute = Math.floor(this.o.now() / 1000 / this.periodS) * this.periodS;
    let byCluster = this.buckets.get(minute);
    if (!byCluster) this.buckets.set(minute, (byCluster = new Map()));
    let byTask = byCluster.get(cluster);
    if (!byTask) byCluster.set(cluster, (byTask = new Map()));
    for (const f of figures) byTask.set(f.taskArn, f);
  }

  /** The samples of every minute complete by now (removed from memory); the caller writes them. */
  due(): Sample[] {
    const out: Sample[] = [];
    for (const [minute, byCluster] of [...this.buckets].sort(([a], [b]) => a - b)) {
      if (this.o.now() < (minute + this.periodS) * 1000 + this.graceMs) break;
      this.buckets.delete(minute);
      for (const [cluster, byTask] of byCluster) out.push(...clusterSamples(cluster, minute, [...byTask.values()], this.o.capacity(cluster), this.periodS < 60));
    }
    return out;
  }

  /** Write what is due every `everyMs` (default 5 s). */
  start(everyMs = 5_000): void {
    this.timer = setInterval(() => this.flush(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Write what is due now. */
  flush(): void {
    const samples = this.due();
    if (samples.length === 0) return;
    this.o.write(samples).catch((error: unknown) => this.o.onError?.(error));
  }
}
