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
 * drawn at random (berth's instances have no weights: each is equally likely). `plan` leaves that draw open (the
 * server keeps plans encoded between queries, answer-cache.ts, and draws per query); `resolve` is plan + draw.
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

/** What one instance adds to an answer when it is drawn: its records (none when it lacks the attribute) and their glue. */
export interface Candidate {
  readonly answers: readonly Answer[];
  readonly additionals: readonly Answer[];
}

/**
 * An answer before its random part: either fixed (a {@link Resolution}), or `count` candidates to be drawn from
 * more (a service with more healthy instances than MULTIVALUE's 8 or WEIGHTED's 1) — `nodata` when the drawn ones
 * have no records. The DNS server keeps plans' encodings between queries (answer-cache.ts) and draws per query.
 */
export type Plan =
  | Resolution
  | { readonly kind: 'drawn'; readonly candidates: readonly Candidate[]; readonly count: number; readonly nodata: Resolution };

/** `random()` in [0, 1): injectable so tests see which instances were picked. */
export function resolve(directory: Directory, qname: string, qtype: string, random: () => number = Math.random): Resolution {
  return draw(plan(directory, qname, qtype), random);
}

/** A plan made concrete: `count` of its candidates drawn at random. */
export function draw(p: Plan, random: () => number): Resolution {
  if (p.kind !== 'drawn') return p;
  const picked = pick(p.candidates, p.count, random);
  const answers = picked.flatMap((c) => c.answers);
  return answers.length ? { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals: picked.flatMap((c) => c.additionals) } : p.nodata;
}

/** The answer to a question, its random part left open (no randomness here: the same directory, the same plan). */
export function plan(directory: Directory, qname: string, qtype: string): Plan {
  const name = normalize(qname);
  const labels = name.split('.');
  // The longest namespace that is a suffix of the name (namespaces may nest: a.example and example).
  for (let i = 0; i < labels.length; i++) {
    const ns = directory.namespace(labels.slice(i).join('.'));
    if (!ns) continue;
    const soa = soaOf(ns);
    const nodata: Resolution = { kind: 'answer', rcode: 'NOERROR', answers: [], authorities: [soa], additionals: [] };
    if (i === 0) return qtype === 'SOA' ? { kind: 'answer', rcode: 'NOERROR', answers: [soa], authorities: [], additionals: [] } : nodata;
    const rest = labels.slice(0, i);
    const served = directory.service(ns.id, rest.join('.'));
    if (served) return serviceAnswer(served, name, qtype, nodata);
    if (rest.length >= 2) {
      const owner = directory.service(ns.id, rest.slice(1).join('.'));
      const instance = owner?.instance(rest[0]!);
      if (owner && instance) return instanceAnswer(owner, instance, name, qtype) ?? nodata;
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

/** How many of a service's instances one answer carries. */
function limitOf(served: ServedService): number {
  return served.service.dns!.routingPolicy === 'WEIGHTED' ? 1 : MULTIVALUE_LIMIT;
}

function addressRecords(instances: readonly InstanceRecord[], nameOf: (i: InstanceRecord) => string, type: 'A' | 'AAAA', ttl: number): StringAnswer[] {
  const attribute = type === 'A' ? IPV4 : IPV6;
  return instances.filter((i) => i.attributes[attribute] !== undefined).map((i) => ({ type, name: nameOf(i), ttl, class: 'IN', data: i.attributes[attribute]! }));
}

/**
 * The service's answer: each healthy instance a candidate; all of them when they fit the routing policy's limit
 * (a fixed answer, in the directory's stable order), else a draw of `limit` of them per query.
 */
function serviceAnswer(served: ServedService, name: string, qtype: string, nodata: Resolution): Plan {
  const candidates = serviceCandidates(served, name, qtype);
  if (!candidates) return nodata;
  // A CNAME names one target (RFC 1034 3.6.2), whatever the routing policy.
  const count = ttlOf(served, 'CNAME') !== undefined ? 1 : limitOf(served);
  const p: Plan = { kind: 'drawn', candidates, count, nodata };
  return candidates.length > count ? p : draw(p, Math.random);
}

/** Per healthy instance, what it adds to this question's answer; undefined when the service has no such record. */
function serviceCandidates(served: ServedService, name: string, qtype: string): Candidate[] | undefined {
  const cnameTtl = ttlOf(served, 'CNAME');
  if (cnameTtl !== undefined) {
    // A CNAME answers every type; the client follows it.
    return served.healthy.map((i) => ({ answers: i.attributes[CNAME] ? [{ type: 'CNAME', name, ttl: cnameTtl, class: 'IN', data: i.attributes[CNAME] }] : [], additionals: [] }));
  }
  if (qtype === 'A' || qtype === 'AAAA') {
    const ttl = ttlOf(served, qtype);
    if (ttl === undefined) return undefined;
    return served.healthy.map((i) => ({ answers: addressRecords([i], () => name, qtype, ttl), additionals: [] }));
  }
  if (qtype === 'SRV') {
    const ttl = ttlOf(served, 'SRV');
    if (ttl === undefined) return undefined;
    const aTtl = ttlOf(served, 'A') ?? ttl;
    const aaaaTtl = ttlOf(served, 'AAAA') ?? ttl;
    return served.healthy.map((i) => {
      if (i.attributes[PORT] === undefined) return { answers: [], additionals: [] };
      const target = `${i.id.toLowerCase()}.${name}`;
      const srv: SrvAnswer = { type: 'SRV', name, ttl, class: 'IN', data: { priority: 1, weight: 1, port: Number(i.attributes[PORT]), target } };
      // The target's addresses, so the client needs no second query (TTL of the service's A/AAAA record, else the SRV's).
      return { answers: [srv], additionals: [...addressRecords([i], () => target, 'A', aTtl), ...addressRecords([i], () => target, 'AAAA', aaaaTtl)] };
    });
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
