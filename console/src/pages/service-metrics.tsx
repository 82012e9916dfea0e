import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { Point } from '../chart-geometry.js';
import { LineChart } from '../chart.js';
import { ErrorNote, Loading } from '../components.js';
import { metricsClient } from '../metrics-api.js';
import { usePoll } from '../poll.js';
import { useSession } from '../session.js';

/** The window the charts show, and the period of their points (AWS/ECS publishes a point a minute). */
const WINDOW_MS = 60 * 60_000;
const PERIOD_S = 60;
/** New points come once a minute: reading every 15 s shows one soon after it is written. */
const REFRESH_MS = 15_000;

/**
 * A service's CPU and memory utilization from the metrics API: CloudWatch GetMetricData on AWS/ECS CPUUtilization
 * and MemoryUtilization (Average, by ClusterName and ServiceName), the last hour, as berth publishes them from the
 * agents' figures (used of reserved, per minute).
 */
export default function ServiceMetrics({ cluster, service }: { cluster: string; service: string }) {
  const { session } = useSession();
  const polled = usePoll(
    async () => {
      const to = Date.now();
      const from = to - WINDOW_MS;
      const dimensions = [
        { Name: 'ClusterName', Value: cluster },
        { Name: 'ServiceName', Value: service },
      ];
      const query = (Id: string, MetricName: string) => ({ Id, MetricStat: { Metric: { Namespace: 'AWS/ECS', MetricName, Dimensions: dimensions }, Period: PERIOD_S, Stat: 'Average' } });
      const out = await metricsClient(session).send(
        new GetMetricDataCommand({ StartTime: new Date(from), EndTime: new Date(to), MetricDataQueries: [query('cpu', 'CPUUtilization'), query('memory', 'MemoryUtilization')] }),
      );
      const series = (id: string): Point[] => {
        const r = out.MetricDataResults?.find((m) => m.Id === id);
        return (r?.Timestamps ?? []).map((t, i) => ({ t: t.getTime(), v: r?.Values?.[i] ?? 0 }));
      };
      return { from, to, cpu: series('cpu'), memory: series('memory') };
    },
    [session, cluster, service],
    REFRESH_MS,
  );
  const d = polled.data;
  return (
    <>
      <ErrorNote error={polled.error} what="read the service's metrics" />
      {!d ? (
        polled.error ? null : <Loading what="the metrics" />
      ) : (
        <div class="charts">
          <LineChart title="CPU utilization" testId="chart-cpu" points={d.cpu} from={d.from} to={d.to} periodMs={PERIOD_S * 1000} />
          <LineChart title="Memory utilization" testId="chart-memory" points={d.memory} from={d.from} to={d.to} periodMs={PERIOD_S * 1000} />
        </div>
      )}
      <p class="muted small">AWS/ECS, average of the service's tasks (used of reserved), one point a minute.</p>
    </>
  );
}
