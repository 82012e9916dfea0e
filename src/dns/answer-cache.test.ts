import dnsPacket, { type Question } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import type { InstanceRecord, NamespaceRecord, ServiceRecord } from '../state/records/cloudmap.js';
import { AnswerCache, encodeAnswer } from './answer-cache.js';
import { resolve } from './answers.js';
import { Directory } from './directory.js';

const ns = (id: string, name: string): NamespaceRecord => ({ id, arn: `arn:${id}`, name, type: 'DNS_PRIVATE', createOperationId: 'op', httpName: name, serviceCount: 0, tags: [], createDate: 0, soaTtl: 15 });
const svc = (id: string, name: string, dns: ServiceRecord['dns']): ServiceRecord => ({
  id,
  arn: `arn:${id}`,
  name,
  namespaceId: 'ns-1',
  ...(dns ? { dns } : {}),
  customHealth: false,
  type: 'DNS_HTTP',
  attributes: {},
  instanceRevision: 0,
  instanceCount: 0,
  tags: [],
  createDate: 0,
});
const inst = (serviceId: string, id: string, attributes: Record<string, string>): InstanceRecord => ({ id, serviceId, attributes, health: 'HEALTHY' });

function directory(): Directory {
  const d = new Directory();
  d.putNamespace(ns('ns-1', 'example.local'));
  d.putService(svc('srv-few', 'few', { routingPolicy: 'MULTIVALUE', records: [{ Type: 'A', TTL: 10 }, { Type: 'AAAA', TTL: 10 }, { Type: 'SRV', TTL: 20 }] }));
  d.putService(svc('srv-many', 'm', { routingPolicy: 'MULTIVALUE', records: [{ Type: 'A', TTL: 5 }, { Type: 'SRV', TTL: 5 }] }));
  d.putService(svc('srv-one', 'one', { routingPolicy: 'WEIGHTED', records: [{ Type: 'A', TTL: 5 }] }));
  for (let i = 1; i <= 3; i++) d.putInstance(inst('srv-few', `f-${i}`, { AWS_INSTANCE_IPV4: `10.0.0.${i}`, AWS_INSTANCE_IPV6: `fd00::${i}`, AWS_INSTANCE_PORT: `${8000 + i}` }));
  // 8 SRV records fit in 512 bytes, not with their glue.
  for (let i = 1; i <= 20; i++) d.putInstance(inst('srv-many', `m${i}`, { AWS_INSTANCE_IPV4: `10.1.0.${i}`, AWS_INSTANCE_PORT: `${9000 + i}` }));
  // Long instance ids (ECS task ids): 8 SRV records alone pass 512 bytes (TC without EDNS).
  d.putService(svc('srv-long', 'long', { routingPolicy: 'MULTIVALUE', records: [{ Type: 'SRV', TTL: 5 }] }));
  for (let i = 1; i <= 12; i++) d.putInstance(inst('srv-long', `0123456789abcdef0123456789abcdef-${i}`, { AWS_INSTANCE_IPV4: `10.3.0.${i}`, AWS_INSTANCE_PORT: '80' }));
  for (let i = 1; i <= 5; i++) d.putInstance(inst('srv-one', `o-${i}`, { AWS_INSTANCE_IPV4: `10.2.0.${i}` }));
  return d;
}

/** A repeatable random sequence, so the cache and a fresh encoding draw the same instances. */
function seeded(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function query(name: string, type: Question['type'], edns: boolean, id = 4242): { message: Buffer; question: Question } {
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] } as unknown as dnsPacket.Answer;
  const message = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type, class: 'IN' }], additionals: edns ? [opt] : [] });
  return { message, question: dnsPacket.decode(message).questions![0]! };
}

/** What the server sent before the cache: the resolution encoded afresh for this very query. */
function fresh(d: Directory, name: string, type: Question['type'], edns: boolean, limit: number, random: () => number): Buffer {
  const { question } = query(name, type, edns);
  const r = resolve(d, name, type, random);
  if (r.kind !== 'answer') throw new Error('forwarded');
  return encodeAnswer(4242, question, r, dnsPacket.RECURSION_DESIRED, limit, edns);
}

const cases: [string, Question['type']][] = [
  ['few.example.local', 'A'],
  ['Few.EXAMPLE.local', 'AAAA'],
  ['FEW.example.local', 'SRV'],
  ['f-2.few.example.local', 'A'],
  ['nothing.Example.Local', 'A'],
  ['example.local', 'SOA'],
  ['few.example.local', 'TXT'],
  ['m.example.local', 'A'],
  ['M.example.local', 'SRV'],
  ['one.example.local', 'A'],
  ['long.example.local', 'SRV'],
];

describe('the answer cache', () => {
  it("replies byte for byte as a fresh encoding of the same query would (the query's case, id and RD; EDNS or not; every size limit), asked twice", () => {
    const d = directory();
    for (const edns of [false, true]) {
      for (const limit of [512, 1232, 65535]) {
        for (const [name, type] of cases) {
          const cache = new AnswerCache(d, { random: seeded(7) });
          const random = seeded(7);
          for (let n = 0; n < 2; n++) {
            const q = query(name, type, edns);
            const got = cache.reply(q.message, q.question, dnsPacket.RECURSION_DESIRED, edns, limit);
            expect(got, `${name} ${type} edns=${edns} limit=${limit} #${n}`).toEqual(fresh(d, name, type, edns, limit, random));
          }
        }
      }
    }
  });

  it('keeps the question as asked and fits the limit: 8 SRV with glue lose the glue under 512 bytes, keep it with EDNS', () => {
    const cache = new AnswerCache(directory());
    const plain = query('M.Example.Local', 'SRV', false, 1);
    const small = dnsPacket.decode(cache.reply(plain.message, plain.question, 0, false, 512) as Buffer);
    expect(small).toMatchObject({ id: 1, questions: [{ name: 'M.Example.Local', type: 'SRV' }] });
    expect(small.answers).toHaveLength(8);
    expect(small.additionals).toEqual([]);
    const withEdns = query('m.example.local', 'SRV', true, 2);
    const big = dnsPacket.decode(cache.reply(withEdns.message, withEdns.question, 0, true, 1232) as Buffer);
    expect(big.answers).toHaveLength(8);
    expect(big.additionals!.filter((a) => a.type === 'A')).toHaveLength(8);
    expect(big.additionals!.filter((a) => a.type === 'OPT')).toHaveLength(1);
    const long = query('long.example.local', 'SRV', false, 3);
    const truncated = cache.reply(long.message, long.question, 0, false, 512) as Buffer;
    expect(dnsPacket.decode(truncated)).toMatchObject({ id: 3, flag_tc: true, answers: [] });
  });

  it('draws a new random 8 of the many for each query, reaching every instance', () => {
    const cache = new AnswerCache(directory());
    const seen = new Set<string>();
    for (let n = 0; n < 200; n++) {
      const q = query('m.example.local', 'A', false, n);
      const r = dnsPacket.decode(cache.reply(q.message, q.question, 0, false, 512) as Buffer);
      expect(r.id).toBe(n);
      const addresses = r.answers!.map((a) => (a as { data: string }).data);
      expect(new Set(addresses).size).toBe(8);
      for (const a of addresses) seen.add(a);
    }
    expect(seen.size).toBe(20);
  });

  it('answers a change of the directory at the next query', () => {
    const d = directory();
    const cache = new AnswerCache(d);
    const ask = () => {
      const q = query('f-1.few.example.local', 'A', false);
      const r = dnsPacket.decode(cache.reply(q.message, q.question, 0, false, 512) as Buffer);
      return { rcode: (r as { rcode?: string }).rcode, data: r.answers!.map((a) => (a as { data: string }).data) };
    };
    expect(ask()).toEqual({ rcode: 'NOERROR', data: ['10.0.0.1'] });
    d.putInstance(inst('srv-few', 'f-1', { AWS_INSTANCE_IPV4: '10.0.0.111', AWS_INSTANCE_PORT: '8001' }));
    expect(ask()).toEqual({ rcode: 'NOERROR', data: ['10.0.0.111'] });
    d.deleteInstance('srv-few', 'f-1');
    expect(ask()).toEqual({ rcode: 'NXDOMAIN', data: [] });
  });

  it('forwards names outside the namespaces, and answers a name whose bytes differ from the lower-cased one afresh', () => {
    const d = directory();
    const cache = new AnswerCache(d, { maxEntries: 2 });
    const outside = query('example.com', 'A', false);
    expect(cache.reply(outside.message, outside.question, 0, false, 512)).toBe('forward');
    // Non-ASCII: lower-casing changes its bytes, so the cached question cannot be patched with the query's.
    const odd = query('xÉ.example.local', 'A', false, 9);
    const r = dnsPacket.decode(cache.reply(odd.message, odd.question, 0, false, 512) as Buffer);
    expect(r).toMatchObject({ id: 9, rcode: 'NXDOMAIN', questions: [{ name: 'xÉ.example.local' }] });
    // More names than entries: still right.
    for (let i = 0; i < 5; i++) {
      const q = query(`f-${(i % 3) + 1}.few.example.local`, 'A', false);
      expect(dnsPacket.decode(cache.reply(q.message, q.question, 0, false, 512) as Buffer).answers![0]).toMatchObject({ data: `10.0.0.${(i % 3) + 1}` });
    }
  });
});
