/**
 * How the `AWS/ECS` utilization figures of one period reach one writer when several replicas receive them. Each agent
 * publishes to the replica its session is on, so with several replicas a service's or a cluster's tasks are split
 * among them; a ratio (Σ used / Σ reserved, or / Σ registered) computed per replica and merged as statistic sets
 * would be wrong (two replicas' cluster percentages would average instead of adding up). So:
 *
 *   replica: period P complete (P end + grace) ──► put  metrics/ecs-figures/P/<replica>  {cluster → task figures}
 *   leader:  P end + 2 × grace ──► read metrics/ecs-figures/P/*, delete them and move the "combined until" mark to P
 *            in one transaction ──► one datapoint set per cluster from every replica's figures ──► metric store
 *
 * At most once: the keys go, in the leader's fenced transaction, before the datapoints are written, so a leader
 * killed in between loses that period rather than writing it twice (a new leader's writer rows would add to the
 * old one's). Figures arriving for a period at or before the mark (a replica slower than the grace) are deleted
 * unread: written later, they would make a second datapoint of the same period from part of its tasks.
 */
import type { BackgroundLog } from '../process/background.js';
import { startPeriodic } from '../process/periodic.js';
import type { Sample } from './metric-store.js';
import { clusterSamples, type ClusterCapacity, type TaskFigures } from './ecs-utilization.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';

const PREFIX = 'metrics/ecs-figures/';
const MARK = 'metrics/ecs-figures-combined';

/** Periods sort by key: epoch seconds, fixed width. */
const periodPart = (startS: number) => String(Math.floor(startS)).padStart(12, '0');
export const figureKeys = {
  figures: (startS: number, replica: string) => `${PREFIX}${periodPart(startS)}/${encodeURIComponent(replica)}`,
  all: () => PREFIX,
  mark: () => MARK,
};

/** One replica's figures of one period, by cluster. */
export type ClusterFigures = Readonly<Record<string, readonly TaskFigures[]>>;

/** The period start (epoch seconds) a figures key is for. */
export function periodOfKey(key: string): number {
  return Number(key.slice(PREFIX.length, PREFIX.length + 12));
}

/** A stored figures value, checked (a malformed one is skipped, never written as metrics). */
export function parseClusterFigures(value: string): ClusterFigures | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const out: Record<string, TaskFigures[]> = {};
  for (const [cluster, list] of Object.entries(parsed)) {
    if (!Array.isArray(list)) return undefined;
    const ok = list.every(
      (f: Partial<TaskFigures>) =>
        typeof f?.taskArn === 'string' &&
        (f.serviceName === undefined || typeof f.serviceName === 'string') &&
        [f.cpuUsed, f.memoryUsed, f.cpuReserved, f.memoryReserved].every((n) => typeof n === 'number' && Number.isFinite(n)),
    );
    if (!ok) return undefined;
    out[cluster] = list as TaskFigures[];
  }
  return out;
}

/** Every replica's figures of one period, one list per cluster; a task named twice counts once (the last read). */
export function mergeFigures(parts: readonly ClusterFigures[]): Map<string, TaskFigures[]> {
  const byCluster = new Map<string, Map<string, TaskFigures>>();
  for (const part of parts) {
    for (const [cluster, list] of Object.entries(part)) {
      let byTask = byCluster.get(cluster);
      if (!byTask) byCluster.set(cluster, (byTask = new Map()));
      for (const f of list) byTask.set(f.taskArn, f);
    }
  }
  return new Map([...byCluster].map(([cluster, byTask]) => [cluster, [...byTask.values()]]));
}

/** A replica hands its complete period's figures to the leader. */
export async function publishFigures(store: Store, replica: string, startS: number, figures: ClusterFigures): Promise<void> {
  if (Object.keys(figures).length === 0) return;
  await transact(store, async (tx) => tx.putJson(figureKeys.figures(startS, replica), figures));
}

export interface CombineOptions {
  /** The leader's term store (fenced). */
  readonly store: Store;
  readonly capacity: (cluster: string) => ClusterCapacity | undefined;
  readonly write: (samples: readonly Sample[]) => Promise<void>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** The period, seconds (60; shorter only under the test-only time scale, then written high-resolution). */
  readonly periodS: number;
  /** How long after a period ends replicas publish it; the leader waits twice that. */
  readonly graceMs: number;
}

/**
 * One pass of the leader: every period whose replicas have all had their grace is taken out of the store (with the
 * mark moved) and written as datapoints. Returns the periods written.
 */
export async function combineDue(o: CombineOptions): Promise<number[]> {
  const { entries } = await o.store.range(PREFIX);
  const dueBefore = (o.now() - 2 * o.graceMs) / 1000 - o.periodS;
  const periods = [...new Set(entries.map((e) => periodOfKey(e.key)))].filter((p) => p <= dueBefore).sort((a, b) => a - b);
  if (periods.length === 0) return [];
  const taken = await transact(o.store, async (tx) => {
    const mark = Number((await tx.get(MARK))?.value ?? '-1');
    const parts = new Map<number, ClusterFigures[]>();
    for (const p of periods) {
      const { entries: keys } = await tx.range(`${PREFIX}${periodPart(p)}/`);
      for (const e of keys) {
        // Read through the transaction so that a replica's late rewrite of the key makes this pass run again.
        const entry = await tx.get(e.key);
        tx.delete(e.key);
        const figures = entry && p > mark ? parseClusterFigures(entry.value) : undefined;
        if (figures) parts.set(p, [...(parts.get(p) ?? []), figures]);
      }
    }
    tx.put(MARK, String(Math.max(mark, ...periods)));
    return parts;
  });
  const samples: Sample[] = [];
  for (const [p, parts] of [...taken].sort(([a], [b]) => a - b)) {
    for (const [cluster, tasks] of mergeFigures(parts)) samples.push(...clusterSamples(cluster, p, tasks, o.capacity(cluster), o.periodS < 60));
  }
  if (samples.length) await o.write(samples);
  return [...taken.keys()];
}

/** The leader's duty: combine what is due every `intervalMs` (default the grace, at most 5 s). */
export function startUtilizationCombiner(options: CombineOptions & { readonly log: BackgroundLog; readonly intervalMs?: number }): { stop(): Promise<void> } {
  return startPeriodic({
    log: options.log,
    what: 'combine AWS/ECS utilization figures',
    intervalMs: options.intervalMs ?? Math.min(options.graceMs, 5_000),
    run: () => combineDue(options),
  });
}
