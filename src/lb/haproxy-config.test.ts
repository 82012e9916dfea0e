import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesiredState, Listener } from './desired.js';
import { globRegex, quote, renderConfig, serverArgs, type RenderOptions } from './haproxy-config.js';
import { labDir, requireHaproxy, targetGroup } from './testing/lb-lab.js';

let lab: ReturnType<typeof labDir>;
let options: RenderOptions;
beforeAll(() => {
  requireHaproxy();
  lab = labDir();
  options = { bindAddress: '127.0.0.1', adminSocket: join(lab.dir, 'admin.sock'), serverStateFile: join(lab.dir, 'state'), cookieKey: 'k' };
});
afterAll(() => lab?.cleanup());

/** `haproxy -c` on the rendered text: '' when valid, else HAProxy's alerts. */
function check(text: string): string {
  const file = join(lab.dir, 'check.cfg');
  writeFileSync(file, text);
  try {
    execFileSync('haproxy', ['-c', '-f', file], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

const everyCondition: Listener = {
  id: 'l-80',
  port: 18080,
  protocol: 'HTTP',
  defaultAction: { type: 'fixed-response', statusCode: 404, contentType: 'text/plain', messageBody: "it's not here" },
  rules: [
    { id: 'r1', priority: 10, conditions: [{ field: 'path-pattern', values: ['/api/*', '/v?/x.json'] }], action: { type: 'forward', targetGroups: [{ targetGroupId: 'a', weight: 1 }] } },
    { id: 'r2', priority: 5, conditions: [{ field: 'host-header', values: ['*.example.com'] }, { field: 'http-request-method', values: ['GET', 'HEAD'] }], action: { type: 'forward', targetGroups: [{ targetGroupId: 'a', weight: 80 }, { targetGroupId: 'b', weight: 20 }] } },
    { id: 'r3', priority: 20, conditions: [{ field: 'http-header', httpHeaderName: 'X-Canary', values: ['yes', "o'k"] }], action: { type: 'redirect', statusCode: 'HTTP_301', protocol: 'HTTPS', host: 'new.#{host}', path: '/moved/#{path}' } },
    { id: 'r4', priority: 30, conditions: [{ field: 'query-string', values: [{ key: 'v', value: '2*' }, { value: 'beta' }] }, { field: 'source-ip', values: ['10.0.0.0/8', '127.0.0.1/32'] }], action: { type: 'fixed-response', statusCode: 503 } },
  ],
};

const kitchenSink: DesiredState = {
  loadBalancers: [
    { id: 'lb1', name: 'web', type: 'application', listeners: [everyCondition] },
    { id: 'lb2', name: 'tcp', type: 'network', listeners: [{ id: 'l-90', port: 18090, protocol: 'TCP', defaultAction: { type: 'forward', targetGroups: [{ targetGroupId: 'c', weight: 1 }, { targetGroupId: 'd', weight: 3 }] }, rules: [] }] },
  ],
  targetGroups: [
    targetGroup('a', [{ address: '127.0.0.1', port: 9001 }], { attributes: { stickiness: { enabled: true, type: 'lb_cookie', durationSeconds: 600 }, slowStartSeconds: 30 } }),
    targetGroup('b', [{ address: '::1', port: 9002 }], { attributes: { algorithm: 'least_outstanding_requests' }, healthCheck: { protocol: 'HTTP', path: '/', port: 8081, intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 3, matcher: '200-299,302' } }),
    targetGroup('c', [{ address: '127.0.0.1', port: 9003 }], { protocol: 'TCP', healthCheck: { protocol: 'TCP', path: '/', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3, matcher: '200-399' } }),
    targetGroup('d', [], { protocol: 'TCP' }),
  ],
};

describe('renderConfig', () => {
  it('renders every condition, action, attribute and an NLB listener as a configuration HAProxy accepts', () => {
    const text = renderConfig(kitchenSink, options);
    expect(check(text)).toBe('');
    // Priority order, not the order given.
    const sets = text.split('\n').filter((l) => l.includes('set-var(txn.berth_rule)'));
    expect(sets.map((l) => /int\((\d)\)/.exec(l)?.[1])).toEqual(['1', '2', '3', '4']);
    expect(sets[0]).toContain('r1_c0 r1_c1');
    expect(text).toContain("http-check expect rstatus '^(200|201|");
    expect(text).toContain('|299|302)$');
    expect(text).toContain('balance leastconn');
    expect(text).toContain('mode tcp');
  });

  it('is refused by HAProxy when broken, so the check can fail', () => {
    expect(check(`${renderConfig(kitchenSink, options)}\nfrontend broken\n  bind 127.0.0.1:1\n  use_backend nowhere\n`)).toMatch(/ALERT/);
  });

  it('an empty state is still a configuration HAProxy runs (the admin socket is its listener)', () => {
    expect(check(renderConfig({ loadBalancers: [], targetGroups: [] }, options))).toBe('');
  });

  it('server arguments carry the health check settings and slow start', () => {
    const tg = kitchenSink.targetGroups[1]!;
    expect(serverArgs(tg)).toBe('check inter 10s rise 3 fall 3 weight 100 port 8081');
    expect(serverArgs(kitchenSink.targetGroups[0]!, 0)).toBe('check inter 1s rise 2 fall 2 weight 0 slowstart 30s');
  });
});

describe('globRegex and quote', () => {
  it('anchors, turns * and ? into wildcards and escapes the rest', () => {
    expect(globRegex('/api/*.json')).toBe('^/api/.*\\.json$');
    expect(new RegExp(globRegex('/v?/(x)+')).test('/v1/(x)+')).toBe(true);
    expect(new RegExp(globRegex('/v?/(x)+')).test('/v1/xx')).toBe(false);
  });
  it("single-quotes, a quote inside closed and escaped", () => {
    expect(quote("it's")).toBe("'it'\\''s'");
  });
});
