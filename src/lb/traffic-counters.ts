/**
 * A node's traffic since its last report, from HAProxy's own counters (pure). Every report period the reporter reads
 * `show info;show stat` over the admin socket: the worker's pid (`show info`), then per server of each backend its
 * cumulative `req_tot`, `hrsp_2xx` … `hrsp_5xx` and `rtime` (the average response time over its last 1,024 requests,
 * in ms). What a report carries is the difference from the *baseline*, the reading the last acknowledged report
 * was computed from:
 *
 *   baseline ──read──▶ reading ──trafficSince──▶ per target group: requests, codes, response time ──report──▶
 *       ▲                                                                                           │ acknowledged
 *       └────────────────────────────── the reading becomes the baseline ◀──────────────────────────┘
 *
 * Counters restart from zero whenever HAProxy's worker does (a reload, a restart after a crash, a node taking
 * over): a reading whose pid is not the baseline's counts from zero, as does a server the baseline does not know (added
 * since) or one whose count went down (deleted and added again). So nothing is counted twice. The driver has the
 * reporter take a reading just before it reloads or deletes a server (traffic-reporter.ts), so what is lost is only
 * what an old worker answers after the reload (the last answer on each idle keep-alive connection, requests in
 * flight) and what a crashed HAProxy served since the last reading.
 *
 * Servers, not backends, are counted: a backend's `hrsp_*` include the answers HAProxy makes itself for it (503
 * when no server is up, 504 on a timeout), which are not the *target's* codes CloudWatch's HTTPCode_Target_* count.
 */
import { parseStatRows } from './haproxy-metrics.js';

/** One server's cumulative counters. */
export interface ServerCounters {
  readonly requests: number;
  readonly http2xx: number;
  readonly http3xx: number;
  readonly http4xx: number;
  readonly http5xx: number;
  /** HAProxy's average response time over the server's last 1,024 requests, ms. */
  readonly responseTimeMs: number;
}

/** One reading of the counters of a worker. */
export interface CounterReading {
  /** The worker's pid: counters are per worker process. */
  readonly pid: string;
  /** By `<backend>/<server>`. */
  readonly servers: ReadonlyMap<string, ServerCounters & { readonly backend: string }>;
}

/** A target group's traffic over one report (the wire shape of BerthLoadBalancerNode.ReportTraffic's entries). */
export interface TargetGroupTraffic {
  readonly TargetGroupArn: string;
  readonly Requests: number;
  readonly Http2xx: number;
  readonly Http3xx: number;
  readonly Http4xx: number;
  readonly Http5xx: number;
  /** Σ over servers of (their average response time × their requests), seconds: TargetResponseTime's Sum. */
  readonly ResponseTimeSum: number;
  /** The least and greatest of the servers' average response times (seconds), over servers that had requests. */
  readonly ResponseTimeMin?: number;
  readonly ResponseTimeMax?: number;
}

/** `a` and `b` together (the same target group's traffic over two stretches of time). */
export function addTraffic(a: TargetGroupTraffic, b: TargetGroupTraffic): TargetGroupTraffic {
  const min = [a.ResponseTimeMin, b.ResponseTimeMin].filter((v): v is number => v !== undefined);
  const max = [a.ResponseTimeMax, b.ResponseTimeMax].filter((v): v is number => v !== undefined);
  return {
    TargetGroupArn: a.TargetGroupArn,
    Requests: a.Requests + b.Requests,
    Http2xx: a.Http2xx + b.Http2xx,
    Http3xx: a.Http3xx + b.Http3xx,
    Http4xx: a.Http4xx + b.Http4xx,
    Http5xx: a.Http5xx + b.Http5xx,
    ResponseTimeSum: a.ResponseTimeSum + b.ResponseTimeSum,
    ...(min.length > 0 ? { ResponseTimeMin: Math.min(...min) } : {}),
    ...(max.length > 0 ? { ResponseTimeMax: Math.max(...max) } : {}),
  };
}

const num = (v: string | undefined): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/**
 * Parse the answer to `show info;show stat`. Server rows without `req_tot` (TCP backends: no HTTP counters) are
 * left out.
 */
export function parseCounterReading(text: string): CounterReading {
  const pid = /^Pid: *(\d+)$/m.exec(text)?.[1];
  if (!pid) throw new Error(`show info gave no Pid: ${text.slice(0, 200)}`);
  const at = text.indexOf('\n# ');
  if (at < 0) throw new Error(`no show stat answer after show info: ${text.slice(0, 200)}`);
  const servers = new Map<string, ServerCounters & { backend: string }>();
  for (const row of parseStatRows(text.slice(at + 1))) {
    if (row.svname === 'FRONTEND' || row.svname === 'BACKEND' || !row.pxname || !row.svname) continue;
    const requests = num(row.req_tot);
    if (requests === undefined) continue;
    servers.set(`${row.pxname}/${row.svname}`, {
      backend: row.pxname,
      requests,
      http2xx: num(row.hrsp_2xx) ?? 0,
      http3xx: num(row.hrsp_3xx) ?? 0,
      http4xx: num(row.hrsp_4xx) ?? 0,
      http5xx: num(row.hrsp_5xx) ?? 0,
      responseTimeMs: num(row.rtime) ?? 0,
    });
  }
  return { pid, servers };
}

/** What a server did since the baseline (from zero when the counters restarted). */
function serverDelta(before: ServerCounters | undefined, now: ServerCounters): ServerCounters {
  if (!before || now.requests < before.requests) return now;
  const d = (k: 'requests' | 'http2xx' | 'http3xx' | 'http4xx' | 'http5xx') => Math.max(0, now[k] - before[k]);
  return { requests: d('requests'), http2xx: d('http2xx'), http3xx: d('http3xx'), http4xx: d('http4xx'), http5xx: d('http5xx'), responseTimeMs: now.responseTimeMs };
}

/**
 * Each served target group's traffic since `baseline` (undefined: none yet, everything counts). `targetGroupOf`
 * names the target group ARN a backend serves (undefined: not one to report, e.g. a TCP group's).
 */
export function trafficSince(
  baseline: CounterReading | undefined,
  reading: CounterReading,
  targetGroupOf: (backend: string) => string | undefined,
): TargetGroupTraffic[] {
  const sameWorker = baseline !== undefined && baseline.pid === reading.pid;
  const out = new Map<string, { -readonly [K in keyof TargetGroupTraffic]: TargetGroupTraffic[K] }>();
  const entry = (arn: string) => {
    let e = out.get(arn);
    if (!e) out.set(arn, (e = { TargetGroupArn: arn, Requests: 0, Http2xx: 0, Http3xx: 0, Http4xx: 0, Http5xx: 0, ResponseTimeSum: 0 }));
    return e;
  };
  for (const [key, now] of reading.servers) {
    const arn = targetGroupOf(now.backend);
    if (arn === undefined) continue;
    const e = entry(arn);
    const d = serverDelta(sameWorker ? baseline.servers.get(key) : undefined, now);
    e.Requests += d.requests;
    e.Http2xx += d.http2xx;
    e.Http3xx += d.http3xx;
    e.Http4xx += d.http4xx;
    e.Http5xx += d.http5xx;
    if (d.requests > 0) {
      const seconds = d.responseTimeMs / 1000;
      e.ResponseTimeSum += seconds * d.requests;
      e.ResponseTimeMin = Math.min(e.ResponseTimeMin ?? Infinity, seconds);
      e.ResponseTimeMax = Math.max(e.ResponseTimeMax ?? -Infinity, seconds);
    }
  }
  return [...out.values()].sort((a, b) => a.TargetGroupArn.localeCompare(b.TargetGroupArn));
}
