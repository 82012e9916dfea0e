import { describe, expect, it } from 'vitest';
import { addTraffic, parseCounterReading, trafficSince, type CounterReading } from './traffic-counters.js';

const HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,status,weight,rtime,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,req_tot,';

/** A `show info;show stat` answer as HAProxy 2.6 gives it (abridged columns, the same names). */
function answer(pid: number, rows: readonly string[]): string {
  return [`Name: HAProxy`, `Version: 2.6.12`, `Pid: ${pid}`, `Uptime_sec: 3`, '', HEADER, ...rows, '', ''].join('\n');
}
/** A server row: requests, 2xx, 3xx, 4xx, 5xx, rtime ms. */
const server = (backend: string, name: string, req: number, c2: number, c3: number, c4: number, c5: number, rtime: number) =>
  `${backend},${name},0,0,0,1,,${req},0,0,UP,100,${rtime},0,${c2},${c3},${c4},${c5},0,${req},`;
const BACKEND_ROW = (backend: string) => `${backend},BACKEND,0,0,0,1,,999,0,0,UP,100,1,0,999,0,0,0,0,999,`;
const FRONTEND_ROW = 'l_1,FRONTEND,,,0,1,,999,0,0,OPEN,,,0,999,0,0,0,0,999,';
const TCP_SERVER = 'tg_tcp,t_10_0_0_1_80,0,0,0,1,,42,0,0,UP,100,0,,,,,,,,';

const ARN = (id: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/g${id}/${id}`;
const groups = new Map([
  ['tg_a', ARN('a')],
  ['tg_b', ARN('b')],
]);
const of = (backend: string) => groups.get(backend);

describe('parseCounterReading', () => {
  it("reads the worker's pid and every HTTP server's counters, leaving frontends, backends and TCP servers out", () => {
    const r = parseCounterReading(answer(41, [FRONTEND_ROW, server('tg_a', 't1', 10, 7, 1, 1, 1, 12), BACKEND_ROW('tg_a'), TCP_SERVER]));
    expect(r.pid).toBe('41');
    expect([...r.servers]).toEqual([['tg_a/t1', { backend: 'tg_a', requests: 10, http2xx: 7, http3xx: 1, http4xx: 1, http5xx: 1, responseTimeMs: 12 }]]);
  });

  it('refuses an answer without a pid or without stats', () => {
    expect(() => parseCounterReading(`${HEADER}\n`)).toThrow(/Pid/);
    expect(() => parseCounterReading('Pid: 3\n')).toThrow(/show stat/);
  });
});

describe('trafficSince', () => {
  const read = (pid: number, rows: string[]): CounterReading => parseCounterReading(answer(pid, rows));

  it('counts everything the first time, then the difference, per target group, with the response time weighted by requests', () => {
    const first = read(7, [server('tg_a', 't1', 10, 8, 0, 2, 0, 20), server('tg_a', 't2', 5, 5, 0, 0, 0, 40)]);
    expect(trafficSince(undefined, first, of)).toEqual([
      { TargetGroupArn: ARN('a'), Requests: 15, Http2xx: 13, Http3xx: 0, Http4xx: 2, Http5xx: 0, ResponseTimeSum: 10 * 0.02 + 5 * 0.04, ResponseTimeMin: 0.02, ResponseTimeMax: 0.04 },
    ]);
    const second = read(7, [server('tg_a', 't1', 16, 12, 0, 2, 2, 30), server('tg_a', 't2', 5, 5, 0, 0, 0, 40), server('tg_b', 't3', 3, 3, 0, 0, 0, 10)]);
    const [a, b] = trafficSince(first, second, of);
    // t2 served nothing since: it weighs nothing in the response time.
    expect(a).toEqual({ TargetGroupArn: ARN('a'), Requests: 6, Http2xx: 4, Http3xx: 0, Http4xx: 0, Http5xx: 2, ResponseTimeSum: 6 * 0.03, ResponseTimeMin: 0.03, ResponseTimeMax: 0.03 });
    // t3 is new since the baseline: everything it counted is new.
    expect(b).toMatchObject({ Requests: 3, Http2xx: 3 });
  });

  it('counts from zero after the worker changed (a reload or restart resets its counters), never a negative', () => {
    const before = read(7, [server('tg_a', 't1', 100, 100, 0, 0, 0, 5)]);
    // The new worker has already served more than the old one's last count: only the pid tells.
    const after = read(8, [server('tg_a', 't1', 130, 130, 0, 0, 0, 5)]);
    expect(trafficSince(before, after, of)[0]).toMatchObject({ Requests: 130, Http2xx: 130 });
    const fewer = read(8, [server('tg_a', 't1', 4, 4, 0, 0, 0, 5)]);
    expect(trafficSince(after, fewer, of)[0]).toMatchObject({ Requests: 4, Http2xx: 4 });
  });

  it('counts a server deleted and added again (its count went down) from zero, and drops a deleted one', () => {
    const before = read(7, [server('tg_a', 't1', 50, 50, 0, 0, 0, 5), server('tg_a', 't2', 20, 20, 0, 0, 0, 5)]);
    const after = read(7, [server('tg_a', 't1', 3, 3, 0, 0, 0, 5)]);
    expect(trafficSince(before, after, of)[0]).toMatchObject({ Requests: 3, Http2xx: 3 });
  });

  it('leaves out backends that are no served group', () => {
    const r = read(7, [server('tg_other', 't1', 50, 50, 0, 0, 0, 5)]);
    expect(trafficSince(undefined, r, of)).toEqual([]);
  });
});

describe('addTraffic', () => {
  it('adds counts and sums, keeps the least minimum and the greatest maximum', () => {
    const t = (requests: number, min?: number, max?: number) => ({
      TargetGroupArn: 'arn',
      Requests: requests,
      Http2xx: requests,
      Http3xx: 0,
      Http4xx: 1,
      Http5xx: 0,
      ResponseTimeSum: requests / 10,
      ...(min !== undefined ? { ResponseTimeMin: min } : {}),
      ...(max !== undefined ? { ResponseTimeMax: max } : {}),
    });
    expect(addTraffic(t(10, 0.02, 0.05), t(5, 0.01, 0.03))).toEqual({ TargetGroupArn: 'arn', Requests: 15, Http2xx: 15, Http3xx: 0, Http4xx: 2, Http5xx: 0, ResponseTimeSum: 1.5, ResponseTimeMin: 0.01, ResponseTimeMax: 0.05 });
    expect(addTraffic(t(0), t(5, 0.01, 0.03))).toMatchObject({ Requests: 5, ResponseTimeMin: 0.01, ResponseTimeMax: 0.03 });
    expect(addTraffic(t(0), t(0))).not.toHaveProperty('ResponseTimeMin');
  });
});
