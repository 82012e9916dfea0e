/**
 * `ECS/ContainerInsights` counts, for clusters whose `containerInsights` setting is `enabled` or `enhanced`, as
 * CloudWatch Container Insights publishes them for ECS: per ClusterName ContainerInstanceCount, TaskCount (running
 * tasks) and ServiceCount (ACTIVE services); per ClusterName+ServiceName DesiredTaskCount, RunningTaskCount,
 * PendingTaskCount, DeploymentCount and TaskSetCount. The documented scaling pattern "backlog per task" divides a
 * queue's ApproximateNumberOfMessagesVisible by RunningTaskCount, so a service's counts are published at 0 too.
 *
 * The leader writes one datapoint per series a minute, stamped with the minute's start, from the state at that
 * moment. At most once: the minute's mark moves in the leader's fenced transaction before the datapoints are
 * written, so a leader killed in between loses that minute rather than writing it twice.
 *
 *   tick ──► minute M > mark? ──► txn: mark = M (compare) ──► read clusters, services ──► samples at M ──► store
 */
import type { BackgroundLog } from '../process/background.js';
import { startPeriodic } from '../process/periodic.js';
import { clusterUsage } from '../api/ecs/cluster-usage.js';
import { keys } from '../state/keys.js';
import { parseClusterRecord } from '../state/records/clusters.js';
import { parseServiceRecord, type ServiceRecord } from '../state/records/services.js';
import { rangePages } from '../store/range-pages.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { singleValueSample, type Sample } from './metric-store.js';
import { seriesRef } from './series.js';

export const INSIGHTS_NAMESPACE = 'ECS/ContainerInsights';
const MARK = 'metrics/container-insights-minute';

/** A cluster's counts at one moment. */
export interface ClusterCounts {
  readonly clusterName: string;
  readonly containerInstances: number;
  readonly runningTasks: number;
  readonly activeServices: number;
  readonly services: readonly Pick<ServiceRecord, 'serviceName' | 'status' | 'desiredCount' | 'runningCount' | 'pendingCount' | 'deployments' | 'taskSets'>[];
}

/** The datapoints of one cluster's counts at `atMs` (pure); `highRes` for a period under a minute (tests' time scale). */
export function insightsSamples(c: ClusterCounts, atMs: number, highRes = false): Sample[] {
  const count = (series: Sample['series'], value: number) => singleValueSample(series, 'Count', atMs, value, highRes);
  const cluster = [{ Name: 'ClusterName', Value: c.clusterName }];
  const out = [
    count(seriesRef(INSIGHTS_NAMESPACE, 'ContainerInstanceCount', cluster), c.containerInstances),
    count(seriesRef(INSIGHTS_NAMESPACE, 'TaskCount', cluster), c.runningTasks),
    count(seriesRef(INSIGHTS_NAMESPACE, 'ServiceCount', cluster), c.activeServices),
  ];
  for (const s of c.services) {
    if (s.status !== 'ACTIVE' || s.serviceName === undefined) continue;
    const dims = [...cluster, { Name: 'ServiceName', Value: s.serviceName }];
    out.push(
      count(seriesRef(INSIGHTS_NAMESPACE, 'DesiredTaskCount', dims), s.desiredCount ?? 0),
      count(seriesRef(INSIGHTS_NAMESPACE, 'RunningTaskCount', dims), s.runningCount ?? 0),
      count(seriesRef(INSIGHTS_NAMESPACE, 'PendingTaskCount', dims), s.pendingCount ?? 0),
      count(seriesRef(INSIGHTS_NAMESPACE, 'DeploymentCount', dims), s.deployments?.length ?? 0),
      count(seriesRef(INSIGHTS_NAMESPACE, 'TaskSetCount', dims), s.taskSets?.length ?? 0),
    );
  }
  return out;
}

/** Whether a cluster's settings turn Container Insights on. */
export function insightsEnabled(settings: readonly { name?: string; value?: string }[] | undefined): boolean {
  const value = settings?.find((s) => s.name === 'containerInsights')?.value;
  return value === 'enabled' || value === 'enhanced';
}

export interface InsightsPublisherOptions {
  /** The leader's fenced store. */
  readonly store: Store;
  readonly write: (samples: Sample[]) => Promise<unknown>;
  readonly now: () => number;
  readonly log: BackgroundLog;
  /** Between checks for a new period (default 5 s). */
  readonly intervalMs?: number;
  /** The period, 60 s as AWS's; shorter only under a test's time scale (then written high-resolution). */
  readonly periodS?: number;
}

/**
 * Publishes the current minute's counts unless it has been published already; returns how many datapoints it wrote
 * (0 when the minute was done).
 */
export async function publishInsightsMinute(options: Pick<InsightsPublisherOptions, 'store' | 'write' | 'now' | 'periodS'>): Promise<number> {
  const periodMs = (options.periodS ?? 60) * 1000;
  const minute = Math.floor(options.now() / periodMs) * periodMs;
  const claimed = await transact(options.store, async (tx) => {
    const mark = await tx.get(MARK);
    if (mark && Number(mark.value) >= minute) return false;
    tx.put(MARK, String(minute));
    return true;
  });
  if (!claimed) return 0;
  const samples: Sample[] = [];
  for await (const page of rangePages(options.store, keys.clusters(), 200)) {
    for (const entry of page) {
      const cluster = parseClusterRecord(entry.value, entry.key);
      if (cluster.status !== 'ACTIVE' || !insightsEnabled(cluster.settings)) continue;
      const [usage, services] = await Promise.all([clusterUsage(options.store, cluster.clusterName), servicesOf(options.store, cluster.clusterName)]);
      samples.push(
        ...insightsSamples(
          {
            clusterName: cluster.clusterName,
            containerInstances: usage.registeredContainerInstancesCount,
            runningTasks: usage.runningTasksCount,
            activeServices: usage.activeServicesCount,
            services,
          },
          minute,
          periodMs < 60_000,
        ),
      );
    }
  }
  if (samples.length > 0) await options.write(samples);
  return samples.length;
}

async function servicesOf(store: Store, cluster: string): Promise<ServiceRecord[]> {
  const out: ServiceRecord[] = [];
  for await (const page of rangePages(store, keys.servicesOf(cluster), 200)) out.push(...page.map((e) => parseServiceRecord(e.value, e.key)));
  return out;
}

/** The leader's duty: a check every few seconds, a write once a minute. */
export function startInsightsPublisher(options: InsightsPublisherOptions): { stop(): Promise<void> } {
  return startPeriodic({ log: options.log, what: 'Container Insights counts', intervalMs: options.intervalMs ?? 5_000, run: () => publishInsightsMinute(options) });
}
