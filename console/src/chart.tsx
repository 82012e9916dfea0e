import { linePath, project, summary, yTop, type Point } from './chart-geometry.js';

const W = 400;
const H = 110;

/**
 * A small line chart in SVG (no chart library: one line, a few grid lines and labels are all it needs). Named for
 * screen readers with its latest and peak value, which are also written beside it.
 */
export function LineChart({ title, points, from, to, periodMs, testId }: { title: string; points: readonly Point[]; from: number; to: number; periodMs: number; testId?: string }) {
  const top = yTop(points);
  const box = { width: W, height: H, from, to, periodMs };
  const s = summary(points);
  const words = s ? `latest ${s.latest.toFixed(1)} %, peak ${s.peak.toFixed(1)} %` : 'no data yet';
  const minutes = Math.round((to - from) / 60_000);
  return (
    <figure class="chart" data-testid={testId} data-points={points.length}>
      <figcaption>
        <strong>{title}</strong> <span class="muted">{words}</span>
      </figcaption>
      <svg viewBox={`-44 -8 ${W + 52} ${H + 26}`} role="img" aria-label={`${title} over the last ${minutes} minutes: ${words}`}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line class="chart-grid" x1={0} x2={W} y1={H - f * H} y2={H - f * H} />
            <text class="chart-label" x={-6} y={H - f * H + 4} text-anchor="end">
              {Math.round(top * f)}%
            </text>
          </g>
        ))}
        <text class="chart-label" x={0} y={H + 16}>
          {new Date(from).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
        </text>
        <text class="chart-label" x={W} y={H + 16} text-anchor="end">
          {new Date(to).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}
        </text>
        <path class="chart-line" d={linePath(points, box, top)} />
        {/* A dot on each point, so a lone point (the first minute, or one between gaps) shows too. */}
        {project(points, box, top).map((p) => (
          <circle key={p.x} class="chart-dot" cx={p.x} cy={p.y} r={2.5} />
        ))}
      </svg>
    </figure>
  );
}
