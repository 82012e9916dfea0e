/**
 * Operators' metrics in the Prometheus text exposition format (version 0.0.4): counters, gauges and
 * histograms with labels, rendered on demand. Written here rather than taken from a library because the
 * format is a few lines of text per series and the processes must not grow a dependency for it
 * (node_modules is shared and fixed this round); the format's rules followed are those of
 * https://prometheus.io/docs/instrumenting/exposition_formats/ (label values escape `\`, `"` and newline;
 * HELP escapes `\` and newline; histogram buckets are cumulative and end with `le="+Inf"`).
 *
 * Recording is a Map lookup by the joined label values; rendering walks the series. Gauges whose value is
 * read from elsewhere (a queue's length, a cache's tasks) are filled by collectors run before each render.
 */

/** What a label set looks like when recording: one value per declared label name. */
export type Labels = Readonly<Record<string, string>>;

/** The content type of a scrape answer. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Default histogram buckets, in seconds: Prometheus clients' defaults (5 ms … 10 s). */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** A label value as the format wants it inside double quotes. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A HELP text: backslash and newline escaped (quotes stay). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value: Go's float formatting for the special values, JavaScript's shortest form otherwise. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

abstract class Metric {
  protected readonly series = new Map<string, { labels: readonly string[] }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name '${name}'`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || l === 'le') throw new Error(`invalid label name '${l}' of ${name}`);
    }
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram';

  /** The label values in declared order; throws on a missing or unknown label (a programming error). */
  protected values(labels: Labels): string[] {
    const keys = Object.keys(labels);
    if (keys.length !== this.labelNames.length || keys.some((k) => !this.labelNames.includes(k))) {
      throw new Error(`${this.name} takes labels ${this.labelNames.join(', ') || '(none)'}, got ${keys.join(', ') || '(none)'}`);
    }
    return this.labelNames.map((n) => labels[n]!);
  }

  protected key(values: readonly string[]): string {
    return values.join('\u0000');
  }

  /** `{a="x",b="y"}` with `extra` pairs appended (a histogram's `le`); empty for no labels. */
  protected labelText(values: readonly string[], extra: readonly (readonly [string, string])[] = []): string {
    const pairs = this.labelNames.map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`);
    for (const [n, v] of extra) pairs.push(`${n}="${escapeLabelValue(v)}"`);
    return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  }

  /** HELP, TYPE and the samples. */
  render(): string {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    this.samples(lines);
    return lines.join('\n');
  }

  protected abstract samples(into: string[]): void;
}

/** A value that only goes up (requests served). */
export class Counter extends Metric {
  readonly type = 'counter' as const;
  private readonly counts = new Map<string, { values: string[]; n: number }>();

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${by})`);
    const values = this.values(labels);
    const k = this.key(values);
    const s = this.counts.get(k);
    if (s) s.n += by;
    else this.counts.set(k, { values, n: by });
  }

  /**
   * Set a series to a total kept elsewhere (HAProxy's own counters, read at scrape time). The source may
   * restart from zero (a reload); Prometheus' rate() treats a drop as a counter reset.
   */
  set(labels: Labels, total: number): void {
    const values = this.values(labels);
    this.counts.set(this.key(values), { values, n: total });
  }

  /** Forget every series (before setting the totals of a fresh read). */
  reset(): void {
    this.counts.clear();
  }

  /** The current count of one series (0 if never incremented). */
  get(labels: Labels = {}): number {
    return this.counts.get(this.key(this.values(labels)))?.n ?? 0;
  }

  protected samples(into: string[]): void {
    for (const s of this.counts.values()) into.push(`${this.name}${this.labelText(s.values)} ${formatValue(s.n)}`);
  }
}

/** A value that goes up and down (a queue's depth, tasks in a state). */
export class Gauge extends Metric {
  readonly type = 'gauge' as const;
  private readonly current = new Map<string, { values: string[]; v: number }>();

  set(labels: Labels, value: number): void {
    const values = this.values(labels);
    this.current.set(this.key(values), { values, v: value });
  }

  get(labels: Labels = {}): number | undefined {
    return this.current.get(this.key(this.values(labels)))?.v;
  }

  /** Forget every series: a collector that recounts (tasks by state) starts from nothing, so a state no task is in any more goes. */
  reset(): void {
    this.current.clear();
  }

  protected samples(into: string[]): void {
    for (const s of this.current.values()) into.push(`${this.name}${this.labelText(s.values)} ${formatValue(s.v)}`);
  }
}

/** Observations counted into cumulative buckets, with their sum and count (latencies, in seconds). */
export class Histogram extends Metric {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  private readonly data = new Map<string, { values: string[]; counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, labelNames);
    const sorted = [...buckets].filter((b) => b !== Infinity);
    for (let i = 1; i < sorted.length; i++) if (!(sorted[i]! > sorted[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    this.buckets = sorted;
  }

  observe(labels: Labels, value: number): void {
    const values = this.values(labels);
    const k = this.key(values);
    let s = this.data.get(k);
    if (!s) this.data.set(k, (s = { values, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    // Per-bucket (not cumulative) counts here; rendering accumulates them.
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Observations of one series so far. */
  count(labels: Labels = {}): number {
    return this.data.get(this.key(this.values(labels)))?.count ?? 0;
  }

  protected samples(into: string[]): void {
    for (const s of this.data.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += s.counts[i]!;
        into.push(`${this.name}_bucket${this.labelText(s.values, [['le', formatValue(b)]])} ${cumulative}`);
      });
      into.push(`${this.name}_bucket${this.labelText(s.values, [['le', '+Inf']])} ${s.count}`);
      into.push(`${this.name}_sum${this.labelText(s.values)} ${formatValue(s.sum)}`);
      into.push(`${this.name}_count${this.labelText(s.values)} ${s.count}`);
    }
  }
}

/** The metrics of one process, rendered together for a scrape. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: (() => void | Promise<void>)[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** Run `collect` before every render (it sets gauges from the state it reads). */
  onCollect(collect: () => void | Promise<void>): void {
    this.collectors.push(collect);
  }

  /** The whole exposition, collectors run first; ends with a newline as the format requires. */
  async render(): Promise<string> {
    for (const c of this.collectors) await c();
    return [...this.metrics.values()].map((m) => m.render()).join('\n') + '\n';
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }
}
