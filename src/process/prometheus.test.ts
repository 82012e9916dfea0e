import { describe, expect, it } from 'vitest';
import { serveMetrics } from './metrics-listener.js';
import { escapeLabelValue, formatValue, MetricsRegistry } from './prometheus.js';
import { parseExposition, sampleValue } from './testing/exposition-grammar.js';

describe('prometheus exposition', () => {
  it('renders counters with labels, HELP and TYPE, and a final newline', async () => {
    const r = new MetricsRegistry();
    const c = r.counter('berth_requests_total', 'Requests.\nServed.', ['service', 'action']);
    c.inc({ service: 'ecs', action: 'RunTask' });
    c.inc({ action: 'RunTask', service: 'ecs' }, 2);
    c.inc({ service: 'ecs', action: 'ListTasks' });
    expect(await r.render()).toBe(
      [
        '# HELP berth_requests_total Requests.\\nServed.',
        '# TYPE berth_requests_total counter',
        'berth_requests_total{service="ecs",action="RunTask"} 3',
        'berth_requests_total{service="ecs",action="ListTasks"} 1',
        '',
      ].join('\n'),
    );
  });

  it('escapes backslash, double quote and newline in label values, and parses back to the same value', async () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    const r = new MetricsRegistry();
    r.gauge('g', 'a gauge', ['v']).set({ v: 'a\\b"c\nd{},=' }, 1.5);
    const text = await r.render();
    expect(text).toContain('g{v="a\\\\b\\"c\\nd{},="} 1.5');
    expect(parseExposition(text)).toEqual([{ name: 'g', labels: { v: 'a\\b"c\nd{},=' }, value: 1.5 }]);
  });

  it('histograms: cumulative buckets, +Inf equal to the count, sum', async () => {
    const r = new MetricsRegistry();
    const h = r.histogram('lat_seconds', 'latency', ['op'], [0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 3, 20]) h.observe({ op: 'txn' }, v);
    const text = await r.render();
    expect(text.split('\n').filter((l) => !l.startsWith('#') && l !== '')).toEqual([
      'lat_seconds_bucket{op="txn",le="0.1"} 2',
      'lat_seconds_bucket{op="txn",le="1"} 3',
      'lat_seconds_bucket{op="txn",le="10"} 4',
      'lat_seconds_bucket{op="txn",le="+Inf"} 5',
      'lat_seconds_sum{op="txn"} 23.65',
      'lat_seconds_count{op="txn"} 5',
    ]);
    const samples = parseExposition(text);
    expect(sampleValue(samples, 'lat_seconds_count', { op: 'txn' })).toBe(5);
  });

  it('special values and unlabelled metrics', async () => {
    expect([NaN, Infinity, -Infinity, 1e-7, 42].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '1e-7', '42']);
    const r = new MetricsRegistry();
    r.gauge('up_things', 'x').set({}, Infinity);
    expect(parseExposition(await r.render())).toEqual([{ name: 'up_things', labels: {}, value: Infinity }]);
  });

  it('collectors set gauges before each render; reset drops series no longer there', async () => {
    const r = new MetricsRegistry();
    const g = r.gauge('tasks', 'tasks by state', ['state']);
    let states: Record<string, number> = { RUNNING: 2, PENDING: 1 };
    r.onCollect(() => {
      g.reset();
      for (const [state, n] of Object.entries(states)) g.set({ state }, n);
    });
    expect(sampleValue(parseExposition(await r.render()), 'tasks', { state: 'PENDING' })).toBe(1);
    states = { RUNNING: 3 };
    const after = parseExposition(await r.render());
    expect(sampleValue(after, 'tasks', { state: 'PENDING' })).toBeUndefined();
    expect(sampleValue(after, 'tasks', { state: 'RUNNING' })).toBe(3);
  });

  it('refuses bad names, wrong label sets, decreasing counters and duplicate metrics', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter('1bad', 'x')).toThrow(/invalid metric name/);
    expect(() => r.counter('ok', 'x', ['le'])).toThrow(/invalid label name/);
    const c = r.counter('c_total', 'x', ['a']);
    expect(() => c.inc({ b: 'x' })).toThrow(/takes labels a/);
    expect(() => c.inc({ a: 'x' }, -1)).toThrow(/only goes up/);
    expect(() => r.gauge('c_total', 'again')).toThrow(/twice/);
    expect(() => r.histogram('h', 'x', [], [1, 0.5])).toThrow(/increase/);
  });

  it('the grammar checker refuses what the format forbids', () => {
    expect(() => parseExposition('x 1\n')).toThrow(/before its TYPE/);
    expect(() => parseExposition('# TYPE x gauge\nx{a="b} 1\n')).toThrow(/not a sample/);
    expect(() => parseExposition('# TYPE x gauge\nx 1')).toThrow(/newline/);
    expect(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow(/cumulative/);
  });

  it('serves GET /metrics on its own listener, 404 elsewhere', async () => {
    const r = new MetricsRegistry();
    r.counter('hits_total', 'hits').inc();
    const listener = await serveMetrics(r, '127.0.0.1', 0, () => {});
    try {
      const res = await fetch(`http://127.0.0.1:${listener.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(sampleValue(parseExposition(await res.text()), 'hits_total')).toBe(1);
      expect((await fetch(`http://127.0.0.1:${listener.port}/other`)).status).toBe(404);
    } finally {
      await listener.close();
    }
  });
});
