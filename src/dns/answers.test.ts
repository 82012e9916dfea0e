import { describe, expect, it } from 'vitest';
import type { InstanceRecord, NamespaceRecord, ServiceRecord } from '../state/records/cloudmap.js';
import { pick, resolve } from './answers.js';
import { Directory } from './directory.js';

const ns = (id: string, name: string, type: NamespaceRecord['type'] = 'DNS_PRIVATE'): NamespaceRecord => ({
  id,
  arn: `arn:${id}`,
  name,
  type,
  createOperationId: 'op',
  httpName: name,
  serviceCount: 0,
  tags: [],
  createDate: 0,
  soaTtl: 15,
});
const svc = (id: string, namespaceId: string, name: string, dns: ServiceRecord['dns'], customHealth = false): ServiceRecord => ({
  id,
  arn: `arn:${id}`,
  name,
  namespaceId,
  ...(dns ? { dns } : {}),
  customHealth,
  type: dns ? 'DNS_HTTP' : 'HTTP',
  attributes: {},
  instanceRevision: 0,
  instanceCount: 0,
  tags: [],
  createDate: 0,
});
const inst = (serviceId: string, id: string, attributes: Record<string, string>, health: InstanceRecord['health'] = 'HEALTHY'): InstanceRecord => ({ id, serviceId, attributes, health });

function directory(): Directory {
  const d = new Directory();
  d.putNamespace(ns('ns-1', 'example.local'));
  d.putNamespace(ns('ns-2', 'public.example.com', 'DNS_PUBLIC'));
  d.putNamespace(ns('ns-3', 'api.http', 'HTTP'));
  d.putService(svc('srv-a', 'ns-1', 'backend', { routingPolicy: 'MULTIVALUE', records: [{ Type: 'A', TTL: 10 }, { Type: 'SRV', TTL: 20 }] }, true));
  d.putService(svc('srv-w', 'ns-1', 'one', { routingPolicy: 'WEIGHTED', records: [{ Type: 'A', TTL: 5 }] }));
  d.putService(svc('srv-c', 'ns-2', 'www', { routingPolicy: 'WEIGHTED', records: [{ Type: 'CNAME', TTL: 30 }] }));
  d.putService(svc('srv-6', 'ns-2', 'v6', { routingPolicy: 'MULTIVALUE', records: [{ Type: 'AAAA', TTL: 7 }] }));
  for (let i = 1; i <= 3; i++) d.putInstance(inst('srv-a', `i-${i}`, { AWS_INSTANCE_IPV4: `10.0.0.${i}`, AWS_INSTANCE_PORT: `${8000 + i}` }));
  d.putInstance(inst('srv-a', 'i-sick', { AWS_INSTANCE_IPV4: '10.0.0.99', AWS_INSTANCE_PORT: '9999' }, 'UNHEALTHY'));
  for (let i = 1; i <= 20; i++) d.putInstance(inst('srv-w', `w-${i}`, { AWS_INSTANCE_IPV4: `10.1.0.${i}` }));
  d.putInstance(inst('srv-c', 'c-1', { AWS_INSTANCE_CNAME: 'elsewhere.example.net' }));
  d.putInstance(inst('srv-6', 'v-1', { AWS_INSTANCE_IPV6: 'fd00::1' }));
  return d;
}

const answered = (r: ReturnType<typeof resolve>) => {
  if (r.kind !== 'answer') throw new Error(`expected an answer, got ${r.kind}`);
  return r;
};

describe('DNS answers from Cloud Map records', () => {
  it('answers A with the healthy instances and the record TTL, case-insensitively, without the unhealthy one', () => {
    const r = answered(resolve(directory(), 'BackEnd.Example.Local.', 'A'));
    expect(r.rcode).toBe('NOERROR');
    expect(r.answers.map((a) => (a as { data: string }).data).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(r.answers.every((a) => (a as { ttl: number }).ttl === 10 && a.name === 'backend.example.local')).toBe(true);
  });

  it('answers SRV with port and instance-named targets, their addresses as additionals; the targets resolve', () => {
    const d = directory();
    const r = answered(resolve(d, 'backend.example.local', 'SRV'));
    const srv = r.answers.map((a) => (a as { data: { port: number; target: string } }).data).sort((x, y) => x.port - y.port);
    expect(srv).toEqual([8001, 8002, 8003].map((port, i) => ({ priority: 1, weight: 1, port, target: `i-${i + 1}.backend.example.local` })));
    expect((r.answers[0] as { ttl: number }).ttl).toBe(20);
    expect(r.additionals.map((a) => `${a.name} ${(a as { data: string }).data}`).sort()).toContain('i-2.backend.example.local 10.0.0.2');
    const target = answered(resolve(d, 'i-2.backend.example.local', 'A'));
    expect(target.answers).toEqual([{ type: 'A', name: 'i-2.backend.example.local', ttl: 10, class: 'IN', data: '10.0.0.2' }]);
    expect(answered(resolve(d, 'i-sick.backend.example.local', 'A')).answers).toEqual([]);
  });

  it('MULTIVALUE answers at most 8, a random subset; WEIGHTED answers one', () => {
    const d = directory();
    d.putService(svc('srv-w', 'ns-1', 'one', { routingPolicy: 'MULTIVALUE', records: [{ Type: 'A', TTL: 5 }] }));
    const seen = new Set<string>();
    for (let n = 0; n < 50; n++) {
      const r = answered(resolve(d, 'one.example.local', 'A'));
      expect(r.answers).toHaveLength(8);
      expect(new Set(r.answers.map((a) => (a as { data: string }).data)).size).toBe(8);
      for (const a of r.answers) seen.add((a as { data: string }).data);
    }
    expect(seen.size).toBeGreaterThan(8);
    d.putService(svc('srv-w', 'ns-1', 'one', { routingPolicy: 'WEIGHTED', records: [{ Type: 'A', TTL: 5 }] }));
    expect(answered(resolve(d, 'one.example.local', 'A', () => 0.5)).answers).toHaveLength(1);
  });

  it('answers CNAME for any type in a public namespace, and AAAA from IPv6 addresses', () => {
    const d = directory();
    expect(answered(resolve(d, 'www.public.example.com', 'A')).answers).toEqual([{ type: 'CNAME', name: 'www.public.example.com', ttl: 30, class: 'IN', data: 'elsewhere.example.net' }]);
    expect(answered(resolve(d, 'v6.public.example.com', 'AAAA')).answers).toEqual([{ type: 'AAAA', name: 'v6.public.example.com', ttl: 7, class: 'IN', data: 'fd00::1' }]);
  });

  it('NXDOMAIN with the SOA inside a namespace; NODATA for a type the service lacks; forward outside', () => {
    const d = directory();
    const nx = answered(resolve(d, 'nothing.example.local', 'A'));
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authorities[0]).toMatchObject({ type: 'SOA', name: 'example.local', ttl: 15 });
    const nodata = answered(resolve(d, 'backend.example.local', 'AAAA'));
    expect(nodata).toMatchObject({ rcode: 'NOERROR', answers: [] });
    expect(answered(resolve(d, 'example.local', 'SOA')).answers[0]).toMatchObject({ type: 'SOA' });
    expect(resolve(d, 'example.com', 'A')).toEqual({ kind: 'forward' });
    // HTTP namespaces have no DNS.
    expect(resolve(d, 'x.api.http', 'A')).toEqual({ kind: 'forward' });
  });

  it('follows deregistration, health and deletion at once', () => {
    const d = directory();
    d.deleteInstance('srv-a', 'i-1');
    d.putInstance(inst('srv-a', 'i-2', { AWS_INSTANCE_IPV4: '10.0.0.2', AWS_INSTANCE_PORT: '8002' }, 'UNHEALTHY'));
    expect(answered(resolve(d, 'backend.example.local', 'A')).answers.map((a) => (a as { data: string }).data)).toEqual(['10.0.0.3']);
    d.deleteService('srv-a');
    expect(answered(resolve(d, 'backend.example.local', 'A')).rcode).toBe('NXDOMAIN');
    d.deleteNamespace('ns-1');
    expect(resolve(d, 'backend.example.local', 'A')).toEqual({ kind: 'forward' });
  });

  it('pick: all when few, n distinct when many', () => {
    expect(pick([1, 2], 8, Math.random)).toEqual([1, 2]);
    const many = Array.from({ length: 100 }, (_, i) => i);
    const got = pick(many, 8, Math.random);
    expect(new Set(got).size).toBe(8);
    // Both ways of drawing: few of many, and most of a few.
    const most = pick(many.slice(0, 10), 8, Math.random);
    expect(new Set(most).size).toBe(8);
    // Every element is drawn over many picks (no element is out of reach).
    const seen = new Set<number>();
    for (let k = 0; k < 500; k++) for (const x of pick(many, 8, Math.random)) seen.add(x);
    expect(seen.size).toBe(100);
  });
});
