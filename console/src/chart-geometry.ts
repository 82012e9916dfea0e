/**
 * A time series as an SVG path (chart.tsx draws it): pure, unit-tested. The y axis runs from 0 to 100 % or, when a
 * value goes over (a task using more than it reserved, which ECS on EC2 allows), to the next multiple of 50 above
 * the peak. The line breaks where points are missing (more than 1.5 periods apart) instead of drawing a slope over
 * minutes nobody measured.
 */

export interface Point {
  /** Milliseconds since the epoch. */
  readonly t: number;
  readonly v: number;
}

export interface ChartBox {
  readonly width: number;
  readonly height: number;
  readonly from: number;
  readonly to: number;
  /** The series' period in milliseconds. */
  readonly periodMs: number;
}

/** The top of the y axis: 100, or the next multiple of 50 at or above the peak. */
export function yTop(points: readonly Point[]): number {
  const peak = Math.max(0, ...points.map((p) => p.v));
  return peak <= 100 ? 100 : Math.ceil(peak / 50) * 50;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** The points inside the window, sorted by time, in the box's coordinates (y down), and whether a gap comes before each. */
export function project(points: readonly Point[], box: ChartBox, top = yTop(points)): { x: number; y: number; afterGap: boolean }[] {
  const span = Math.max(1, box.to - box.from);
  const sorted = [...points].filter((p) => p.t >= box.from && p.t <= box.to).sort((a, b) => a.t - b.t);
  return sorted.map((p, i) => ({
    x: round(((p.t - box.from) / span) * box.width),
    y: round(box.height - (Math.max(0, p.v) / top) * box.height),
    afterGap: i === 0 || p.t - sorted[i - 1]!.t > box.periodMs * 1.5,
  }));
}

/** The SVG path of the points in the box: `M x y L x y …`, a new `M` after a gap; '' for none. */
export function linePath(points: readonly Point[], box: ChartBox, top = yTop(points)): string {
  return project(points, box, top)
    .map((p) => `${p.afterGap ? 'M' : 'L'}${p.x} ${p.y}`)
    .join(' ');
}

/** Latest and peak of a series, for the chart's name and the words beside it. */
export function summary(points: readonly Point[]): { latest: number; peak: number } | undefined {
  if (points.length === 0) return undefined;
  const latest = points.reduce((a, b) => (b.t > a.t ? b : a));
  return { latest: latest.v, peak: Math.max(...points.map((p) => p.v)) };
}
