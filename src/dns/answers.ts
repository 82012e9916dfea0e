/**
 * The resolver's answers, as a pure function of the directory and the question (dns-packet's record shapes, no
 * sockets). For a name inside a DNS namespace:
 *
 *   <service>.<namespace>              A / AAAA / CNAME / SRV of the service's records, TTL from its DnsConfig
 *   <instance>.<service>.<namespace>   A / AAAA of one instance (the targets SRV answers name, as Cloud Map does)
 *   <namespace>                        SOA (and NODATA for other types)
 *   anything else inside               NXDOMAIN, with the SOA for negative caching
 *
 * Names outside every namespace are not answered here: the server forwards them upstream. MULTIVALUE answers
 * carry up to 8 healthy instances (a random 8 when there are more, as Route 53 does); WEIGHTED answers carry one,
 * drawn at random (berth's instances have no weights: each is equally likely).
 */
import type { Answer, SrvAnswer, StringAnswer } from 'dns-packet';
import { reportedHealth, servesTraffic } from '../cloudmap/health.js';
import { CNAME, IPV4, IPV6, PORT } from '../cloudmap/instance-attributes.js';
import type { InstanceRecord, NamespaceRecord, RecordType } from '../state/records/cloudmap.js';
import type { Directory, ServedService } from './directory.js';

/** Route 53's limit of records in a multivalue answer. */
export const MULTIVALUE_LIMIT = 8;

export type Resolution =
  | { readonly kind: 'forward' }
  | {
      readonly kind: 'answer';
      readonly rcode: 'NOERROR' | 'NXDOMAIN';
      readonly answers: Answer[];
      readonly authorities: Answer[];
      readonly additionals: Answer[];
    };

/** `random()` in [0, 1): injectable so tests see which instances were picked. */
export function resolve(directory: Directory, qname: string, qtype: string, random: () => number = Math.random): Resolution {
  const name = normalize(qname);
  const labels = name.split('.');
  // The longest namespace that is a suffix of the name (namespaces may nest: a.example and example).
  for (let i = 0; i < labels.length; i++) {
    const ns = directory.namespace(labels.slice(i).join('.'));
    if (!ns) continue;
    const soa = soaOf(ns);
    const nodata = (): Resolution => ({ kind: 'answer', rcode: 'NOERROR', answers: [], authorities: [soa], additionals: [] });
    if (i === 0) return qtype === 'SOA' ? { kind: 'answer', rcode: 'NOERROR', answers: [soa], authorities: [], additionals: [] } : nodata();
    const rest = labels.slice(0, i);
    const served = directory.service(ns.id, rest.join('.'));
    if (served) return serviceAnswer(served, name, qtype, random) ?? nodata();
    if (rest.length >= 2) {
      const owner = directory.service(ns.id, rest.slice(1).join('.'));
      const instance = owner?.instance(rest[0]!);
      if (owner && instance) return instanceAnswer(owner, instance, name, qtype) ?? nodata();
    }
    return { kind: 'answer', rcode: 'NXDOMAIN', answers: [], authorities: [soa], additionals: [] };
  }
  return { kind: 'forward' };
}

/** Lower case, no trailing dot: how names are compared. */
export function normalize(name: string): string {
  return (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
}

function ttlOf(served: ServedService, type: RecordType): number | undefined {
  return served.service.dns?.records.find((r) => r.Type === type)?.TTL;
}

/**
 * Up to `n` of `all`, a random subset in random order when there are more. Few of many (8 of 1,000) draws
 * indices until it has n distinct ones, so a query never copies the whole list; otherwise a partial
 * Fisher–Yates shuffle of a copy.
 */
export function pick<T>(all: readonly T[], n: number, random: () => number): T[] {
  if (all.length <= n) return [...all];
  if (all.length >= 4 * n) {
    const taken = new Set<number>();
    const out: T[] = [];
    while (out.length < n) {
      const i = Math.floor(random() * all.length);
      if (taken.has(i)) continue;
      taken.add(i);
      out.push(all[i]!);
    }
    return out;
  }
  const copy = [...all];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

function chosen(served: ServedService, random: () => number): InstanceRecord[] {
  const limit = served.service.dns!.routingPolicy === 'WEIGHTED' ? 1 : MULTIVALUE_LIMIT;
  return pick(served.healthy, limit, random);
}

function addressRecords(instances: readonly InstanceRecord[], nameOf: (i: InstanceRecord) => string, type: 'A' | 'AAAA', ttl: number): StringAnswer[] {
  const attribute = type === 'A' ? IPV4 : IPV6;
  return instances.filter((i) => i.attributes[attribute] !== undefined).map((i) => ({ type, name: nameOf(i), ttl, class: 'IN', data: i.attributes[attribute]! }));
}

function serviceAnswer(served: ServedService, name: string, qtype: string, random: () => number): Resolution | undefined {
  const cnameTtl = ttlOf(served, 'CNAME');
  if (cnameTtl !== undefined) {
    // A CNAME answers every type (RFC 1034 3.6.2); the client follows it.
    const [one] = chosen(served, random);
    const target = one?.attributes[CNAME];
    if (!target) return undefined;
    return answer([{ type: 'CNAME', name, ttl: cnameTtl, class: 'IN', data: target }]);
  }
  if (qtype === 'A' || qtype === 'AAAA') {
    const ttl = ttlOf(served, qtype);
    if (ttl === undefined) return undefined;
    const records = addressRecords(chosen(served, random), () => name, qtype, ttl);
    return records.length ? answer(records) : undefined;
  }
  if (qtype === 'SRV') {
    const ttl = ttlOf(served, 'SRV');
    if (ttl === undefined) return undefined;
    const picked = chosen(served, random).filter((i) => i.attributes[PORT] !== undefined);
    if (!picked.length) return undefined;
    const targetOf = (i: InstanceRecord) => `${i.id.toLowerCase()}.${name}`;
    const srv: SrvAnswer[] = picked.map((i) => ({ type: 'SRV', name, ttl, class: 'IN', data: { priority: 1, weight: 1, port: Number(i.attributes[PORT]), target: targetOf(i) } }));
    // The targets' addresses, so the client needs no second query (TTL of the service's A/AAAA record, else the SRV's).
    const additionals = [
      ...addressRecords(picked, targetOf, 'A', ttlOf(served, 'A') ?? ttl),
      ...addressRecords(picked, targetOf, 'AAAA', ttlOf(served, 'AAAA') ?? ttl),
    ];
    return { kind: 'answer', rcode: 'NOERROR', answers: srv, authorities: [], additionals };
  }
  return undefined;
}

function instanceAnswer(served: ServedService, instance: InstanceRecord, name: string, qtype: string): Resolution | undefined {
  if (qtype !== 'A' && qtype !== 'AAAA') return undefined;
  // Only instances that are answered have names: an unhealthy one is as absent by name as in the lists.
  if (!servesTraffic(reportedHealth(served.service, instance))) return undefined;
  const ttl = ttlOf(served, qtype) ?? ttlOf(served, 'SRV');
  if (ttl === undefined) return undefined;
  const records = addressRecords([instance], () => name, qtype, ttl);
  return records.length ? answer(records) : undefined;
}

function answer(answers: Answer[]): Resolution {
  return { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals: [] };
}

/** The namespace's SOA, as Route 53's hosted zones have one; its TTL is the negative-caching time. */
function soaOf(ns: NamespaceRecord): Answer {
  const ttl = ns.soaTtl ?? 15;
  return {
    type: 'SOA',
    name: ns.name,
    ttl,
    class: 'IN',
    data: { mname: `ns.${ns.name}`, rname: `hostmaster.${ns.name}`, serial: 1, refresh: 7200, retry: 900, expire: 1209600, minimum: ttl },
  };
}
