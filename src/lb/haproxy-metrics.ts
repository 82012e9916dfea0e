/**
 * HAProxy's own counters passed through as operators' metrics (`berth lb --metrics-listen`): every row of
 * `show stat` (frontends, backends and servers) read over the admin socket at scrape time, as `berth_haproxy_*`
 * series labelled by proxy (HAProxy's frontend/backend name, see haproxy-config.ts), server and row type.
 */
import type { MetricsRegistry } from '../process/prometheus.js';

/** One row of `show stat`, by column name (the CSV header names them: pxname, svname, stot, bin, hrsp_2xx…). */
export type StatRow = Readonly<Record<string, string>>;

/** Parse every row of `show stat` CSV, FRONTEND and BACKEND rows included. */
export function parseStatRows(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header?.startsWith('# ')) throw new Error(`not a show stat answer: ${csv.slice(0, 200)}`);
  const cols = header.slice(2).split(',');
  return lines.map((l) => {
    const f = l.split(',');
    return Object.fromEntries(cols.map((c, i) => [c, f[i] ?? '']).filter(([c]) => c !== ''));
  });
}

type RowType = 'frontend' | 'backend' | 'server';
const typeOf = (row: StatRow): RowType => (row.svname === 'FRONTEND' ? 'frontend' : row.svname === 'BACKEND' ? 'backend' : 'server');
const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));

/** HTTP response classes HAProxy counts (`hrsp_1xx` … `hrsp_other`). */
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;

/**
 * Register the `berth_haproxy_*` families on `registry`, filled from `readStat()` (the `show stat` answer) at
 * each scrape. An HAProxy that does not answer (starting, reloading) sets `berth_haproxy_up` 0 and leaves the
 * rest empty for that scrape rather than failing it.
 */
export function haproxyMetrics(registry: MetricsRegistry, readStat: () => Promise<string>): void {
  const labels = ['proxy', 'server', 'type'];
  const up = registry.gauge('berth_haproxy_up', "Whether HAProxy's admin socket answered this scrape.");
  const sessions = registry.counter('berth_haproxy_sessions_total', 'Sessions (connections) handled, HAProxy stot.', labels);
  const current = registry.gauge('berth_haproxy_current_sessions', 'Sessions open now, HAProxy scur.', labels);
  const bytesIn = registry.counter('berth_haproxy_bytes_in_total', 'Bytes received, HAProxy bin.', labels);
  const bytesOut = registry.counter('berth_haproxy_bytes_out_total', 'Bytes sent, HAProxy bout.', labels);
  const responses = registry.counter('berth_haproxy_http_responses_total', 'HTTP responses by status class, HAProxy hrsp_<class> (HTTP proxies only).', [...labels, 'code']);
  const serverUp = registry.gauge('berth_haproxy_server_up', 'Whether a backend or server is UP (1) or not (0), from its status.', labels);
  registry.onCollect(async () => {
    for (const m of [sessions, current, bytesIn, bytesOut, responses, serverUp]) m.reset();
    let rows: StatRow[];
    try {
      rows = parseStatRows(await readStat());
    } catch {
      up.set({}, 0);
      return;
    }
    up.set({}, 1);
    for (const row of rows) {
      const type = typeOf(row);
      const l = { proxy: row.pxname ?? '', server: type === 'server' ? (row.svname ?? '') : '', type };
      const set = (m: { set(labels: Record<string, string>, v: number): void }, v: number | undefined, extra: Record<string, string> = {}) => {
        if (v !== undefined && Number.isFinite(v)) m.set({ ...l, ...extra }, v);
      };
      set(sessions, num(row.stot));
      set(current, num(row.scur));
      set(bytesIn, num(row.bin));
      set(bytesOut, num(row.bout));
      for (const code of CLASSES) set(responses, num(row[`hrsp_${code}`]), { code });
      if (type !== 'frontend' && row.status) set(serverUp, row.status.startsWith('UP') ? 1 : 0);
    }
  });
}
