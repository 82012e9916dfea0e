import { MetricsRegistry } from '../process/prometheus.js';
import type { Span } from '../process/spans.js';
import type { TaskState } from './task-engine/task-state.js';

/**
 * The agent's operators' metrics (`BERTH_METRICS_LISTEN`, docs/operations.md): tasks by known status and
 * running containers, read from the task engine at scrape time, and the durations of task-start spans
 * (image pull, rootfs, network, runc create…, the steps of process/spans.ts) as each start finishes.
 */
export interface AgentMetrics {
  readonly registry: MetricsRegistry;
  /** Give to StartSpans: observes each finished start's spans. */
  readonly observeSpans: (spans: readonly Span[]) => void;
  /** Read the engine's tasks at each scrape. */
  watch(tasks: () => readonly TaskState[]): void;
}

/** Task-start steps run from about a millisecond (a netns) to minutes (a large image pull). */
const SPAN_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

export function agentMetrics(): AgentMetrics {
  const registry = new MetricsRegistry();
  const tasks = registry.gauge('berth_agent_tasks', "Tasks this agent manages, by the agent's known status.", ['known_status']);
  const running = registry.gauge('berth_agent_containers_running', 'Containers this agent knows to be RUNNING.');
  const spans = registry.histogram('berth_agent_task_start_span_seconds', 'Durations of the steps of task starts on this agent, by step.', ['span'], SPAN_BUCKETS);
  return {
    registry,
    // Instants (ms 0: the payload arrived, a report was wanted) mark time, they are not durations.
    observeSpans: (list) => {
      for (const s of list) if (s.ms > 0) spans.observe({ span: s.name }, s.ms / 1000);
    },
    watch(read) {
      registry.onCollect(() => {
        const byStatus = new Map<string, number>();
        let containers = 0;
        for (const t of read()) {
          byStatus.set(t.known, (byStatus.get(t.known) ?? 0) + 1);
          containers += t.containers.filter((c) => c.known === 'RUNNING').length;
        }
        tasks.reset();
        for (const [known_status, n] of byStatus) tasks.set({ known_status }, n);
        running.set({}, containers);
      });
    },
  };
}
