import type { CloudWatchClient, Statistic } from '@aws-sdk/client-cloudwatch';
import type { Command } from 'commander';
import { parseSince } from './logs-command.js';
import { contextOf, explain, peopleCommand } from './people/common.js';
import { json, type OutputFormat } from './people/render.js';
import { sdkConfig } from './people/settings.js';
import { metricChart, onPeriods, type Point } from './sparkline.js';

const STATISTICS = ['Average', 'Sum', 'Minimum', 'Maximum', 'SampleCount'] as const;
// Loaded when `berth metrics` runs: main.ts imports every command's module, `berth agent` included.
const cloudWatchSdk = () => import('@aws-sdk/client-cloudwatch');

/** GetMetricStatistics answers at most this many datapoints per call (CloudWatch's limit). */
const MAX_PERIODS = 1440;

/** A refusal `berth metrics` explains to its user. */
export class MetricsCommandError extends Error {
  override readonly name = 'MetricsCommandError';
}

export interface MetricsQuery {
  readonly namespace: string;
  readonly metric: string;
  readonly dimensions: readonly { readonly Name: string; readonly Value: string }[];
  /** A statistic or a percentile (p50, p99.9). */
  readonly stat: string;
  readonly periodS: number;
  readonly sinceMs: number;
}

/** `Name=Value` → a dimension (the value may hold `=`). */
export function parseDimension(text: string): { Name: string; Value: string } {
  const at = text.indexOf('=');
  if (at <= 0 || at === text.length - 1) throw new MetricsCommandError(`--dimension: '${text}' is not Name=Value`);
  return { Name: text.slice(0, at), Value: text.slice(at + 1) };
}

/** Reads the metric over the window ending now and returns the chart's lines. */
export async function metricLines(cw: CloudWatchClient, q: MetricsQuery, now = new Date()): Promise<string[]> {
  return (await metricSeries(cw, q, now)).lines;
}

/** The metric's points over whole periods, and its chart. */
async function metricSeries(cw: CloudWatchClient, q: MetricsQuery, now: Date) {
  const periodMs = q.periodS * 1000;
  // Whole periods, so that each character is one of CloudWatch's periods.
  const end = new Date(Math.floor(now.getTime() / periodMs) * periodMs + periodMs);
  const start = new Date(end.getTime() - Math.ceil(q.sinceMs / periodMs) * periodMs);
  const percentile = /^p\d+(\.\d+)?$/.test(q.stat);
  const out = await cw.send(
    new (await cloudWatchSdk()).GetMetricStatisticsCommand({
      Namespace: q.namespace,
      MetricName: q.metric,
      Dimensions: [...q.dimensions],
      StartTime: start,
      EndTime: end,
      Period: q.periodS,
      ...(percentile ? { ExtendedStatistics: [q.stat] } : { Statistics: [q.stat as Statistic] }),
    }),
  );
  const points: Point[] = (out.Datapoints ?? []).flatMap((d) => {
    const value = percentile ? d.ExtendedStatistics?.[q.stat] : (d[q.stat as Statistic] as number | undefined);
    return d.Timestamp && value !== undefined ? [{ at: d.Timestamp, value }] : [];
  });
  const unit = out.Datapoints?.find((d) => d.Unit)?.Unit;
  const dims = q.dimensions.map((d) => `${d.Name}=${d.Value}`).join(', ');
  const title = `${q.namespace} ${q.metric}${dims ? ` (${dims})` : ''} ${q.stat}, ${q.periodS} s periods, ${start.toISOString()} → ${end.toISOString()}`;
  return { title, unit, points, lines: metricChart(title, onPeriods(points, start, end, q.periodS), unit) };
}

interface MetricsFlags {
  endpoint?: string;
  region?: string;
  output: OutputFormat;
  namespace: string;
  metric: string;
  dimension: string[];
  stat: string;
  period: string;
  since: string;
}

/** `berth metrics`: a metric from the control plane's CloudWatch API as a terminal sparkline. */
export function metricsCommand(): Command {
  return peopleCommand('metrics', 'print a metric (CloudWatch API) as a small terminal chart: one character per period', { cluster: false })
    .requiredOption('--namespace <ns>', 'the metric namespace, e.g. AWS/ECS or your own')
    .requiredOption('--metric <name>', 'the metric name, e.g. CPUUtilization')
    .option('--dimension <Name=Value>', 'a dimension of the metric (repeat for several)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--stat <stat>', `${STATISTICS.join(', ')} or a percentile like p99`, 'Average')
    .option('--period <seconds>', 'seconds per character (1, 5, 10, 30 or a multiple of 60)', '60')
    .option('--since <duration>', 'how far back (90s, 10m, 3h, 2d)', '1h')
    .action(async (flags: MetricsFlags) => {
      const ctx = contextOf(flags);
      const periodS = Number(flags.period);
      if (!Number.isInteger(periodS) || periodS <= 0) throw new MetricsCommandError(`--period: '${flags.period}' is not a whole number of seconds`);
      if (!(STATISTICS as readonly string[]).includes(flags.stat) && !/^p\d+(\.\d+)?$/.test(flags.stat))
        throw new MetricsCommandError(`--stat: '${flags.stat}' is none of ${STATISTICS.join(', ')} nor a percentile like p99`);
      const sinceMs = parseSince(flags.since);
      if (sinceMs / (periodS * 1000) > MAX_PERIODS) throw new MetricsCommandError(`--since ${flags.since} is more than ${MAX_PERIODS} periods of ${periodS} s: give a longer --period`);
      const cw = new (await cloudWatchSdk()).CloudWatchClient(sdkConfig(ctx.settings));
      try {
        const series = await metricSeries(cw, { namespace: flags.namespace, metric: flags.metric, dimensions: flags.dimension.map(parseDimension), stat: flags.stat, periodS, sinceMs }, new Date());
        ctx.out(ctx.output === 'json' ? json({ title: series.title, unit: series.unit, datapoints: series.points }) : `${series.lines.join('\n')}\n`);
      } catch (error) {
        throw explain(error, ctx);
      } finally {
        cw.destroy();
      }
    });
}
