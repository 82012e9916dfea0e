import type { Aggregate } from './aggregate.js';
import { percentile, type Sketch } from './sketch.js';

/**
 * The statistics berth computes from a period's aggregate: CloudWatch's five and percentiles `pNN` / `pNN.NN`
 * (from the period's sketch: within 1 %, see sketch.ts). Other extended statistics CloudWatch has (trimmed mean
 * `tmNN`, `wmNN`, `tcNN`, `tsNN`, `PR(…)`, `IQM`) are refused by name.
 */
export type Statistic = { readonly kind: 'SampleCount' | 'Average' | 'Sum' | 'Minimum' | 'Maximum' } | { readonly kind: 'percentile'; readonly p: number };

const SIMPLE = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);
const PERCENTILE = /^p(\d{1,2}(?:\.\d{1,2})?|100)$/;

/** The statistic `name` names, or undefined when berth does not compute it. */
export function parseStatistic(name: string): Statistic | undefined {
  if (SIMPLE.has(name)) return { kind: name as 'SampleCount' };
  const m = PERCENTILE.exec(name);
  if (!m) return undefined;
  const p = Number(m[1]);
  return p >= 0 && p <= 100 ? { kind: 'percentile', p } : undefined;
}

/** The statistic's value over `agg`; undefined when it has none (a percentile of data sent only as statistic sets). */
export function statisticOf(stat: Statistic, agg: Aggregate): number | undefined {
  switch (stat.kind) {
    case 'SampleCount':
      return agg.count;
    case 'Sum':
      return agg.sum;
    case 'Average':
      return agg.count === 0 ? undefined : agg.sum / agg.count;
    case 'Minimum':
      return agg.min;
    case 'Maximum':
      return agg.max;
    case 'percentile':
      return agg.sketch ? percentile(agg.sketch, stat.p, agg.min, agg.max) : undefined;
  }
}

/** The statistic of every period of `dense` (NaN where it has none), into `out` (of `dense.length`): the array form GetMetricData reads. */
export function statisticOfPeriods(
  stat: Statistic,
  dense: { readonly length: number; readonly count: Float64Array; readonly sum: Float64Array; readonly min: Float64Array; readonly max: Float64Array; readonly sketches?: readonly (Sketch | undefined)[] },
  out = new Float64Array(dense.length),
): Float64Array {
  out.fill(NaN);
  for (let i = 0; i < dense.length; i++) {
    const n = dense.count[i]!;
    if (n === 0) continue;
    switch (stat.kind) {
      case 'SampleCount':
        out[i] = n;
        break;
      case 'Sum':
        out[i] = dense.sum[i]!;
        break;
      case 'Average':
        out[i] = dense.sum[i]! / n;
        break;
      case 'Minimum':
        out[i] = dense.min[i]!;
        break;
      case 'Maximum':
        out[i] = dense.max[i]!;
        break;
      case 'percentile': {
        const sketch = dense.sketches?.[i];
        const v = sketch ? percentile(sketch, stat.p, dense.min[i]!, dense.max[i]!) : undefined;
        if (v !== undefined) out[i] = v;
      }
    }
  }
  return out;
}
