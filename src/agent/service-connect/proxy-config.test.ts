import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialSlots, MIN_SLOTS, planSlots, renderProxyConfig, slotCount, structureOf } from './proxy-config.js';
import type { ProxyView } from './proxy-view.js';

const ns = 'arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-1';
const view = (backends: { address: string; port: number }[], extra: ProxyView['endpoints'] = []): ProxyView => ({
  endpoints: [{ namespace: ns, dnsName: 'backend', port: 8080, backends }, ...extra],
});
const a = { address: '10.0.0.1', port: 32768 };
const b = { address: '10.0.0.2', port: 32769 };
const c = { address: '10.0.0.3', port: 32770 };
const options = { bindAddress: '169.254.170.3', adminSocket: '/run/sc/admin.sock', serverStateFile: '/run/sc/servers.state' };

describe('the Service Connect proxy configuration', () => {
  it('one frontend per alias port on the proxy address, retries that redispatch, tasks in slots, free slots disabled', () => {
    const v = view([a, b]);
    const text = renderProxyConfig(v, initialSlots(v), options);
    expect(text).toContain('frontend sc_port_8080\n  bind 169.254.170.3:8080\n  use_backend sc_backend_8080 if { req.hdr(host),field(1,:) -i backend }\n  default_backend sc_backend_8080');
    expect(text).toMatch(/retries 3\n  option redispatch 1\n  retry-on conn-failure empty-response/);
    expect(text).toContain('  server s1 10.0.0.1:32768\n  server s2 10.0.0.2:32769\n  server s3 127.0.0.1:1 disabled');
    expect(text.match(/server s\d+ /g)).toHaveLength(MIN_SLOTS);
    expect(text).toContain('timeout server 15s');
  });

  it('two aliases on one port: chosen by Host only (no default backend); a per-request timeout per alias (0: none)', () => {
    const v = view([a], [{ namespace: ns, dnsName: 'other', port: 8080, backends: [b], perRequestTimeoutSeconds: 0 }]);
    const text = renderProxyConfig(v, initialSlots(v), options);
    expect(text).not.toContain('default_backend');
    expect(text).toContain('use_backend sc_other_8080 if { req.hdr(host),field(1,:) -i other }');
    expect(text).toMatch(/backend sc_other_8080\n  balance roundrobin\n  timeout server 86400s/);
  });

  it('HAProxy 2.6 accepts it (haproxy -c)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-cfg-'));
    try {
      const v = view([a, b], [{ namespace: ns, dnsName: 'other.internal', port: 9090, backends: [] }]);
      writeFileSync(join(dir, 'h.cfg'), renderProxyConfig(v, initialSlots(v), { ...options, adminSocket: join(dir, 'a.sock'), serverStateFile: join(dir, 's') }));
      execFileSync('haproxy', ['-c', '-f', join(dir, 'h.cfg')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a task change is runtime commands on slots: the gone one to maint, the new one into a free slot', () => {
    const before = view([a, b]);
    const plan = planSlots(initialSlots(before), view([b, c]))!;
    expect(plan.commands).toEqual([
      'set server sc_backend_8080/s1 state maint',
      'set server sc_backend_8080/s1 addr 10.0.0.3 port 32770',
      'set server sc_backend_8080/s1 state ready',
    ]);
    expect(plan.slots.get('sc_backend_8080')!.slice(0, 3)).toEqual([c, b, undefined]);
    expect(planSlots(plan.slots, view([b, c]))!.commands).toEqual([]);
  });

  it('a new alias, or more tasks than slots, needs a new configuration', () => {
    const slots = initialSlots(view([a]));
    expect(planSlots(slots, view([a], [{ namespace: ns, dnsName: 'x', port: 1, backends: [] }]))).toBeUndefined();
    const many = Array.from({ length: MIN_SLOTS + 1 }, (_, i) => ({ address: `10.0.1.${i}`, port: 80 }));
    expect(planSlots(slots, view(many))).toBeUndefined();
    expect(slotCount(MIN_SLOTS + 1)).toBe(64);
    expect(structureOf(view([a]))).toBe(structureOf(view([b, c])));
  });
});
