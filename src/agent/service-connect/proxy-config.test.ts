import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingressName, initialSlots, MIN_SLOTS, planSlots, renderProxyConfig, slotCount, structureOf } from './proxy-config.js';
import type { IngressListener } from './ingress.js';
import type { ProxyView } from './proxy-view.js';

const ns = 'arn:aws:servicediscovery:us-east-1:000000000000:namespace/ns-1';
const view = (backends: { address: string; port: number }[], extra: ProxyView['endpoints'] = []): ProxyView => ({
  endpoints: [{ namespace: ns, dnsName: 'backend', port: 8080, mode: 'http', backends }, ...extra],
});
const a = { address: '10.0.0.1', port: 32768 };
const b = { address: '10.0.0.2', port: 32769 };
const c = { address: '10.0.0.3', port: 32770 };
const ingress: IngressListener = {
  taskArn: 'arn:aws:ecs:us-east-1:000000000000:task/default/0123abcd',
  netns: `sc-cfg-test-${process.pid}`,
  address: '10.0.0.9',
  port: 9000,
  mode: 'tcp',
  target: { address: '10.0.0.9', port: 80 },
};
const options = { bindAddress: '169.254.170.3', adminSocket: '/run/sc/admin.sock', serverStateFile: '/run/sc/servers.state' };

describe('the Service Connect proxy configuration', () => {
  it('one frontend per alias port on the proxy address, retries that redispatch, tasks in slots, free slots disabled', () => {
    const v = view([a, b]);
    const text = renderProxyConfig(v, initialSlots(v), options);
    expect(text).toContain('\n  timeout http-keep-alive 300s\n  use_backend sc_backend_8080 if { req.hdr(host),field(1,:) -i backend }\n  default_backend sc_backend_8080');
    expect(text).toMatch(/retries 3\n  option redispatch 1\n/);
    expect(text).toContain('backend sc_backend_8080\n  mode http\n  option http-keep-alive\n  retry-on conn-failure empty-response\n');
    expect(text).toContain('  server s1 10.0.0.1:32768\n  server s2 10.0.0.2:32769\n  server s3 127.0.0.1:1 disabled');
    expect(text.match(/server s\d+ /g)).toHaveLength(MIN_SLOTS);
    expect(text).toContain('timeout server 15s');
  });

  it('two aliases on one port: chosen by Host only (no default backend); a per-request timeout per alias (0: none)', () => {
    const v = view([a], [{ namespace: ns, dnsName: 'other', port: 8080, mode: 'http', backends: [b], perRequestTimeoutSeconds: 0 }]);
    const text = renderProxyConfig(v, initialSlots(v), options);
    expect(text).not.toContain('default_backend');
    expect(text).toContain('use_backend sc_other_8080 if { req.hdr(host),field(1,:) -i other }');
    expect(text).toMatch(/backend sc_other_8080\n  mode http\n  option http-keep-alive\n  retry-on conn-failure empty-response\n  balance roundrobin\n  timeout server 86400s/);
  });

  it('HAProxy 2.6 accepts it (haproxy -c), an ingress listener in a real network namespace included, without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-cfg-'));
    // HAProxy opens the namespace while it reads the configuration: one made for the check (needs root, as the agent).
    execFileSync('ip', ['netns', 'add', ingress.netns]);
    try {
      const v = view([a, b], [{ namespace: ns, dnsName: 'other.internal', port: 9090, mode: 'tcp', backends: [] }, { namespace: ns, dnsName: 'grpc', port: 50051, mode: 'h2', backends: [c] }]);
      writeFileSync(join(dir, 'h.cfg'), renderProxyConfig(v, initialSlots(v), { ...options, adminSocket: join(dir, 'a.sock'), serverStateFile: join(dir, 's') }, [ingress]));
      const said = execFileSync('haproxy', ['-c', '-f', join(dir, 'h.cfg')], { stdio: 'pipe', encoding: 'utf8' });
      expect(said).not.toMatch(/WARNING/);
    } finally {
      execFileSync('ip', ['netns', 'delete', ingress.netns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a TCP alias: mode tcp, no Host rule, retries with redispatch, its idle timeout (default 1 hour) on both sides', () => {
    const v: ProxyView = { endpoints: [{ namespace: ns, dnsName: 'db', port: 5432, mode: 'tcp', backends: [a] }, { namespace: ns, dnsName: 'cache', port: 6379, mode: 'tcp', backends: [b], idleTimeoutSeconds: 30 }] };
    const text = renderProxyConfig(v, initialSlots(v), options);
    expect(text).toContain('frontend sc_port_5432\n  bind 169.254.170.3:5432\n  mode tcp\n  timeout client 3600s\n  default_backend sc_db_5432');
    expect(text).toContain('backend sc_db_5432\n  mode tcp\n  balance roundrobin\n  timeout server 3600s');
    expect(text).toContain('backend sc_cache_6379\n  mode tcp\n  balance roundrobin\n  timeout server 30s');
    expect(text).toContain('frontend sc_port_6379\n  bind 169.254.170.3:6379\n  mode tcp\n  timeout client 30s');
    expect(text).toMatch(/defaults\n  mode tcp[^]*retries 3\n  option redispatch 1\n/);
    expect(text).not.toContain('req.hdr(host)');
    expect(text).not.toContain('empty-response');
  });

  it('an HTTP alias: mode http, retried on connection failures and empty responses, idle 5 minutes; http2/grpc as h2', () => {
    const v: ProxyView = { endpoints: [{ namespace: ns, dnsName: 'web', port: 80, mode: 'http', backends: [a] }, { namespace: ns, dnsName: 'rpc', port: 50051, mode: 'h2', backends: [b] }] };
    const text = renderProxyConfig(v, initialSlots(v), options);
    expect(text).toContain('frontend sc_port_80\n  bind 169.254.170.3:80\n  mode http\n  option http-keep-alive\n  option idle-close-on-response\n  timeout client 300s\n  timeout http-keep-alive 300s');
    expect(text).toContain('backend sc_web_80\n  mode http\n  option http-keep-alive\n  retry-on conn-failure empty-response\n  balance roundrobin\n  timeout server 15s');
    expect(text).toContain('  bind 169.254.170.3:50051 proto h2\n  mode http');
    expect(text).toContain('  server s1 10.0.0.2:32769 proto h2');
    expect(text).toContain('  server s2 127.0.0.1:1 disabled proto h2');
  });

  it("an ingress listener: bound in the task's namespace on the override port, to its container port; part of the structure", () => {
    const v = view([a]);
    const text = renderProxyConfig(v, initialSlots(v), options, [ingress]);
    expect(ingressName(ingress)).toBe('sc_in_0123abcd_9000');
    expect(text).toContain(`listen sc_in_0123abcd_9000\n  bind 10.0.0.9:9000 namespace ${ingress.netns}\n  mode tcp\n  timeout client 86400s\n  timeout server 86400s\n  server task 10.0.0.9:80`);
    expect(structureOf(v, [ingress])).not.toBe(structureOf(v));
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
    expect(planSlots(slots, view([a], [{ namespace: ns, dnsName: 'x', port: 1, mode: 'tcp', backends: [] }]))).toBeUndefined();
    const many = Array.from({ length: MIN_SLOTS + 1 }, (_, i) => ({ address: `10.0.1.${i}`, port: 80 }));
    expect(planSlots(slots, view(many))).toBeUndefined();
    expect(slotCount(MIN_SLOTS + 1)).toBe(64);
    expect(structureOf(view([a]))).toBe(structureOf(view([b, c])));
  });
});
