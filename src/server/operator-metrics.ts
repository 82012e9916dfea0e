import type { ObserveRequest } from '../api/request-metrics.js';
import { DEFAULT_BUCKETS, MetricsRegistry } from '../process/prometheus.js';
import type { ClusterCache } from '../state/cluster-cache.js';
import type { TxnOutcome } from '../store/timed-store.js';

/**
 * The control plane's operators' metrics (`berth server --metrics-listen`), see docs/operations.md:
 * API requests by service, action and status and their latency, store transaction latency, the service
 * controller's queue depth and tasks by last status (read from the informer cache at scrape time).
 */
export interface ServerMetrics {
  readonly registry: MetricsRegistry;
  readonly observeRequest: ObserveRequest;
  readonly observeTxn: (seconds: number, outcome: TxnOutcome) => void;
  /** Read the informer cache and the controller's queue at each scrape (set once they exist). */
  watch(sources: { readonly cache: ClusterCache; readonly queueDepth: () => number }): void;
}

/** Store transactions are mostly sub-millisecond on SQLite and a few ms on etcd: finer low buckets than the default. */
const TXN_BUCKETS = [0.0005, 0.001, 0.0025, ...DEFAULT_BUCKETS] as const;

export function serverMetrics(): ServerMetrics {
  const registry = new MetricsRegistry();
  const requests = registry.counter('berth_api_requests_total', 'API requests answered, by API (signing name), action and HTTP status.', ['service', 'action', 'status']);
  const latency = registry.histogram('berth_api_request_duration_seconds', 'Time from a request arriving to its answer, by API and action.', ['service', 'action'], TXN_BUCKETS);
  const txns = registry.histogram('berth_store_txn_duration_seconds', 'Store transaction latency, by outcome (succeeded, compare_failed, error).', ['outcome'], TXN_BUCKETS);
  const queue = registry.gauge('berth_controller_queue_depth', 'Keys queued or being processed by a controller (0 on a replica that does not lead).', ['controller']);
  const tasks = registry.gauge('berth_tasks', 'Tasks in the informer cache, by cluster and last status.', ['cluster', 'last_status']);
  return {
    registry,
    observeRequest: ({ service, action }, status, seconds) => {
      requests.inc({ service, action, status: String(status) });
      latency.observe({ service, action }, seconds);
    },
    observeTxn: (seconds, outcome) => txns.observe({ outcome }, seconds),
    watch({ cache, queueDepth }) {
      registry.onCollect(() => {
        queue.set({ controller: 'service' }, queueDepth());
        const counts = new Map<string, { cluster: string; last_status: string; n: number }>();
        for (const { value } of cache.tasks.cache.values()) {
          const last_status = value.task.lastStatus ?? 'UNKNOWN';
          const key = `${value.cluster}\u0000${last_status}`;
          const c = counts.get(key) ?? { cluster: value.cluster, last_status, n: 0 };
          c.n++;
          counts.set(key, c);
        }
        tasks.reset();
        for (const { n, ...labels } of counts.values()) tasks.set(labels, n);
      });
    },
  };
}
