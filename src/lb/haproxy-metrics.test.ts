/**
 * HAProxy's counters passed through to /metrics, against a real HAProxy 2.6 driven by the LbDriver, with Node
 * HTTP servers as targets: requests through a listener move the frontend's and the server's response classes,
 * sessions and bytes; an HAProxy that does not answer shows as berth_haproxy_up 0.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { serveMetrics } from '../process/metrics-listener.js';
import { MetricsRegistry } from '../process/prometheus.js';
import { parseExposition, type Sample } from '../process/testing/exposition-grammar.js';
import { runtimeCommand } from './haproxy-runtime.js';
import { haproxyMetrics, parseStatRows } from './haproxy-metrics.js';
import { LbDriver } from './lb-driver.js';
import { albState, freePort, get, labDir, memoryLog, requireHaproxy, startBackend, targetGroup, until } from './testing/lb-lab.js';

beforeAll(() => {
  requireHaproxy();
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sum = (samples: readonly Sample[], name: string, labels: Record<string, string>) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((n, s) => n + s.value, 0);

describe('berth_haproxy_* metrics', () => {
  it("passes HAProxy's per frontend, backend and server counters through, with labels", async () => {
    const web = await startBackend('web');
    cleanups.push(() => web.close());
    const port = await freePort();
    const lab = labDir();
    const d = new LbDriver({ dir: lab.dir, bindAddress: '127.0.0.1', log: memoryLog(), healthPollMs: 200 });
    cleanups.push(async () => {
      await d.stop();
      lab.cleanup();
    });
    await d.start(
      albState(
        [
          {
            id: 'l1',
            port,
            protocol: 'HTTP',
            defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'a', weight: 1 }] },
            rules: [{ id: 'r-gone', priority: 1, conditions: [{ field: 'path-pattern', values: ['/gone'] }], action: { type: 'fixed-response', statusCode: 410, contentType: 'text/plain', messageBody: 'gone' } }],
          },
        ],
        [targetGroup('a', [web.target])],
      ),
    );
    await until('healthy', () => d.health().some((h) => h.state === 'healthy'));

    const registry = new MetricsRegistry();
    haproxyMetrics(registry, () => runtimeCommand(d.process.paths.adminSocket, 'show stat'));
    const listener = await serveMetrics(registry, '127.0.0.1', 0, () => {});
    cleanups.push(() => listener.close());
    const scrape = async () => parseExposition(await (await fetch(`http://127.0.0.1:${listener.port}/metrics`)).text());

    const before = await scrape();
    expect(sum(before, 'berth_haproxy_up', {})).toBe(1);
    for (let i = 0; i < 3; i++) expect((await get(port, '/')).status).toBe(200);
    expect((await get(port, '/gone')).status).toBe(410);
    const after = await scrape();
    const moved = (name: string, labels: Record<string, string>) => sum(after, name, labels) - sum(before, name, labels);

    expect(moved('berth_haproxy_http_responses_total', { type: 'frontend', code: '2xx' })).toBe(3);
    expect(moved('berth_haproxy_http_responses_total', { type: 'frontend', code: '4xx' })).toBe(1);
    // Only the forwarded requests reach the backend and its server.
    expect(moved('berth_haproxy_http_responses_total', { type: 'backend', code: '2xx' })).toBe(3);
    expect(moved('berth_haproxy_http_responses_total', { type: 'server', code: '2xx' })).toBe(3);
    expect(moved('berth_haproxy_sessions_total', { type: 'server' })).toBe(3);
    expect(moved('berth_haproxy_bytes_out_total', { type: 'frontend' })).toBeGreaterThan(0);
    const server = after.find((s) => s.name === 'berth_haproxy_server_up' && s.labels.type === 'server');
    expect(server?.value).toBe(1);
    expect(server?.labels.server).not.toBe('');
    expect(after.some((s) => s.name === 'berth_haproxy_current_sessions' && s.labels.type === 'frontend')).toBe(true);
  });

  it('an HAProxy that does not answer sets berth_haproxy_up 0 and the scrape still succeeds', async () => {
    const registry = new MetricsRegistry();
    haproxyMetrics(registry, () => Promise.reject(new Error('ENOENT')));
    const samples = parseExposition(await registry.render());
    expect(samples).toEqual([{ name: 'berth_haproxy_up', labels: {}, value: 0 }]);
  });

  it('parses every row of show stat, frontends and backends included', () => {
    const rows = parseStatRows('# pxname,svname,stot,hrsp_2xx,\nfe,FRONTEND,5,4,\nbe,s1,3,3,\nbe,BACKEND,3,3,\n');
    expect(rows).toEqual([
      { pxname: 'fe', svname: 'FRONTEND', stot: '5', hrsp_2xx: '4' },
      { pxname: 'be', svname: 's1', stot: '3', hrsp_2xx: '3' },
      { pxname: 'be', svname: 'BACKEND', stot: '3', hrsp_2xx: '3' },
    ]);
    expect(() => parseStatRows('Unknown command')).toThrow(/not a show stat/);
  });
});
