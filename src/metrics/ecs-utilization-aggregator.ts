import type { ClusterFigures } from './ecs-figures-exchange.js';
import type { TaskFigures } from './ecs-utilization.js';

/**
 * Groups the figures agents publish to this replica (each agent once a minute, at its own offset) into whole minutes
 * per cluster and, once a minute can receive nothing more, hands that minute's figures on: to the leader, which
 * combines every replica's figures of the minute into its `AWS/ECS` datapoints (ecs-figures-exchange.ts).
 *
 *   figures for minute M (by arrival time) ──► bucket M ──(now ≥ M + 60 s + grace)──► publish(M, cluster → figures)
 *
 * A task reported twice in one minute (an agent's interval drifting across a boundary) counts once, with its latest
 * figures. A minute without any figure for a cluster publishes nothing, as ECS sends no metrics for resources without
 * running tasks.
 */
export interface AggregatorOptions {
  /** Hands one complete minute's figures on (ecs-figures-exchange.ts publishFigures). */
  readonly publish: (startS: number, figures: ClusterFigures) => Promise<void>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A minute is handed on this long after it ends (default 5 s): a figure sent at its last second still arrives. */
  readonly graceMs?: number;
  /**
   * The period in seconds (default 60, ECS's). Shorter only under the test-only time scale (BERTH_TIME_SCALE,
   * docs/autoscaling.md).
   */
  readonly periodS?: number;
  /** Called with a failed hand-over (the minute is not retried: its datapoints would be late anyway). */
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

  /** The figures of every minute complete by now (removed from memory), oldest first; the caller hands them on. */
  due(): { startS: number; figures: ClusterFigures }[] {
    const out: { startS: number; figures: ClusterFigures }[] = [];
    for (const [minute, byCluster] of [...this.buckets].sort(([a], [b]) => a - b)) {
      if (this.o.now() < (minute + this.periodS) * 1000 + this.graceMs) break;
      this.buckets.delete(minute);
      out.push({ startS: minute, figures: Object.fromEntries([...byCluster].map(([cluster, byTask]) => [cluster, [...byTask.values()]])) });
    }
    return out;
  }

  /** Hand on what is due every `everyMs` (default 5 s). */
  start(everyMs = 5_000): void {
    this.timer = setInterval(() => this.flush(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Hand on what is due now. */
  flush(): void {
    for (const { startS, figures } of this.due()) this.o.publish(startS, figures).catch((error: unknown) => this.o.onError?.(error));
  }
}
