/**
 * A metric as a line of block characters (pure), for `berth metrics`: one character per period, its height the
 * value's place between the series' minimum and maximum, a space where the period has no datapoint.
 */
const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** One block per value (undefined: no datapoint, a space); a flat series is drawn at the lowest block. */
export function sparkline(values: readonly (number | undefined)[]): string {
  const present = values.filter((v): v is number => v !== undefined);
  if (present.length === 0) return ' '.repeat(values.length);
  const min = Math.min(...present);
  const span = Math.max(...present) - min;
  return values
    .map((v) => {
      if (v === undefined) return ' ';
      if (span === 0) return BLOCKS[0];
      return BLOCKS[Math.min(BLOCKS.length - 1, Math.floor(((v - min) / span) * BLOCKS.length))];
    })
    .join('');
}

/** A datapoint as GetMetricStatistics answers it: the period's start and the statistic's value. */
export interface Point {
  readonly at: Date;
  readonly value: number;
}

/**
 * The values of `points` laid on the periods from `start` (inclusive) to `end` (exclusive), `periodS` seconds
 * each; a period without a datapoint is undefined. Points outside the window are dropped.
 */
export function onPeriods(points: readonly Point[], start: Date, end: Date, periodS: number): (number | undefined)[] {
  const periodMs = periodS * 1000;
  const slots = Math.max(0, Math.ceil((end.getTime() - start.getTime()) / periodMs));
  const out: (number | undefined)[] = Array.from({ length: slots }, () => undefined);
  for (const p of points) {
    const slot = Math.floor((p.at.getTime() - start.getTime()) / periodMs);
    if (slot >= 0 && slot < slots) out[slot] = p.value;
  }
  return out;
}

/** A number short enough for a summary line (up to 4 significant digits, no exponent for ordinary sizes). */
export function shortNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e6) return String(n);
  return Number(n.toPrecision(4)).toString();
}

/** The chart `berth metrics` prints: a title, the line, and min/max/last over the window. */
export function metricChart(title: string, values: readonly (number | undefined)[], unit?: string): string[] {
  const present = values.filter((v): v is number => v !== undefined);
  const suffix = unit && unit !== 'None' ? ` ${unit}` : '';
  const summary =
    present.length === 0
      ? 'no datapoints in this window'
      : `min ${shortNumber(Math.min(...present))}${suffix} · max ${shortNumber(Math.max(...present))}${suffix} · last ${shortNumber(present[present.length - 1]!)}${suffix}`;
  return [title, `│${sparkline(values)}│`, summary];
}
