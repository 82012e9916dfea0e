/**
 * Encoded answers kept between queries, so that answering a name of berth's namespaces costs a copy, not a
 * resolution and a dns-packet encoding (which took two thirds of the server's time per query). Entries are keyed by
 * the lower-cased name, the type and whether the client spoke EDNS, and are dropped all at once whenever the
 * directory changes (its `version`), so an answer is never older than the watch event that changed it.
 *
 * Every byte comes from dns-packet: an entry is encoded once with id 0 and the question in lower case; a reply is
 * that entry with the query's id, its RD bit, and the query's own question bytes (type, class and the name in the
 * client's case, as resolvers that randomise case expect) copied over the entry's — after checking that those
 * bytes are the entry's name but for ASCII case (a query whose name is compressed or otherwise spelled differently
 * is answered by a fresh encoding instead). Answers drawn at random (a service with more healthy instances than
 * MULTIVALUE's 8 or WEIGHTED's 1) keep each candidate's records encoded by dns-packet and are assembled per query:
 * the entry's header and question, the drawn candidates' records, the OPT record; only the answer and additional
 * counts of the header are written here.
 */
import dnsPacket, { type Answer, type Question } from 'dns-packet';
import { draw, normalize, pick, plan, type Candidate, type Resolution } from './answers.js';
import type { Directory } from './directory.js';

/** dns-packet's encoder of one resource record (exported by the library, absent from its type declarations). */
const record = (dnsPacket as unknown as { answer: { encode(a: Answer): Buffer } }).answer;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4 } as const;

/** What berth offers in its own OPT record and the most it sends over UDP (the DNS flag day's 1232). */
export const EDNS_UDP_SIZE = 1232;
const OPT_RECORD = { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, flags: 0, options: [] } as unknown as Answer;

const HEADER = 12;

interface Fixed {
  readonly kind: 'fixed';
  /** Bytes of the question (name, type, class) after the header: where the query's own are copied. */
  readonly questionLength: number;
  /** The whole answer, without its additional section, and truncated (TC, no records): the first that fits is sent. */
  readonly full: Buffer;
  readonly lean: Buffer | undefined;
  readonly truncated: Buffer;
}

interface Drawn {
  readonly kind: 'drawn';
  readonly questionLength: number;
  /** Header (counts zero but the question's) and question, as dns-packet encodes them. */
  readonly prefix: Buffer;
  readonly candidates: readonly EncodedCandidate[];
  readonly count: number;
  /** The OPT record when the client spoke EDNS, else empty. */
  readonly opt: Buffer;
  readonly nodata: Fixed;
  readonly truncated: Buffer;
}

interface EncodedCandidate {
  readonly answers: Buffer;
  readonly answerCount: number;
  readonly additionals: Buffer;
  readonly additionalCount: number;
}

type Entry = { readonly kind: 'forward' } | Fixed | Drawn;

export interface AnswerCacheOptions {
  /** Entries kept before the cache starts over (names asked inside namespaces: NXDOMAIN ones too). */
  readonly maxEntries?: number;
  readonly random?: () => number;
}

export class AnswerCache {
  private readonly entries = new Map<string, Entry>();
  private version = -1;
  private readonly maxEntries: number;
  private readonly random: () => number;

  constructor(
    private readonly directory: Directory,
    options: AnswerCacheOptions = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.random = options.random ?? Math.random;
  }

  /**
   * The reply to `message` (already decoded: its one `question`, its RD bit, whether it carried an OPT record) that
   * fits in `limit` bytes, or 'forward' for a name outside every namespace.
   */
  reply(message: Buffer, question: Question, rd: number, edns: boolean, limit: number): Buffer | 'forward' {
    const entry = this.entry(question, edns);
    if (entry.kind === 'forward') return 'forward';
    const id = message.readUInt16BE(0);
    if (!sameQuestion(message, entry.kind === 'fixed' ? entry.full : entry.prefix, entry.questionLength)) {
      // A name spelled otherwise than plain labels (compressed, non-ASCII case): encoded afresh.
      const r = draw(plan(this.directory, question.name, question.type), this.random);
      return r.kind === 'forward' ? 'forward' : encodeAnswer(id, question, r, rd, limit, edns);
    }
    // A buffer of this reply's own (sent asynchronously, so never an entry's).
    const reply = entry.kind === 'fixed' ? copyOf(fit(entry, limit)) : this.assemble(entry, limit);
    reply.writeUInt16BE(id, 0);
    reply.writeUInt16BE(reply.readUInt16BE(2) | rd, 2);
    message.copy(reply, HEADER, HEADER, HEADER + entry.questionLength);
    return reply;
  }

  private entry(question: Question, edns: boolean): Entry {
    if (this.version !== this.directory.version) {
      this.entries.clear();
      this.version = this.directory.version;
    }
    const name = normalize(question.name);
    const key = `${edns ? 'e' : '-'}${question.type} ${name}`;
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      entry = build(plan(this.directory, name, question.type), { name, type: question.type, class: question.class ?? 'IN' }, edns);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** `count` candidates drawn for this query, behind the entry's header and question: a new buffer. */
  private assemble(entry: Drawn, limit: number): Buffer {
    const picked = pick(entry.candidates, entry.count, this.random);
    let answers = 0;
    let answerBytes = 0;
    let additionals = 0;
    let additionalBytes = 0;
    for (const c of picked) {
      answers += c.answerCount;
      answerBytes += c.answers.length;
      additionals += c.additionalCount;
      additionalBytes += c.additionals.length;
    }
    if (answers === 0) return copyOf(fit(entry.nodata, limit));
    const base = entry.prefix.length + answerBytes + entry.opt.length;
    // As fit(): the additional section goes first (no TC), then the answers (TC).
    const withAdditionals = base + additionalBytes <= limit;
    if (!withAdditionals && base > limit) return copyOf(entry.truncated);
    const out = Buffer.allocUnsafe(withAdditionals ? base + additionalBytes : base);
    let offset = entry.prefix.copy(out, 0);
    for (const c of picked) offset += c.answers.copy(out, offset);
    if (withAdditionals) for (const c of picked) offset += c.additionals.copy(out, offset);
    entry.opt.copy(out, offset);
    out.writeUInt16BE(answers, 6);
    out.writeUInt16BE((withAdditionals ? additionals : 0) + (entry.opt.length ? 1 : 0), 10);
    return out;
  }
}

function build(p: ReturnType<typeof plan>, question: Question, edns: boolean): Entry {
  if (p.kind === 'forward') return p;
  if (p.kind === 'answer') return fixed(p, question, edns);
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | RCODE.NOERROR;
  const opt = edns ? [OPT_RECORD] : [];
  const prefix = dnsPacket.encode({ type: 'response', id: 0, flags, questions: [question], answers: [] });
  return {
    kind: 'drawn',
    questionLength: questionLength(prefix),
    prefix,
    candidates: p.candidates.map(encodeCandidate),
    count: p.count,
    opt: edns ? record.encode(OPT_RECORD) : Buffer.alloc(0),
    nodata: fixed(p.nodata as Extract<Resolution, { kind: 'answer' }>, question, edns),
    truncated: dnsPacket.encode({ type: 'response', id: 0, flags: flags | dnsPacket.TRUNCATED_RESPONSE, questions: [question], answers: [], additionals: opt }),
  };
}

function encodeCandidate(c: Candidate): EncodedCandidate {
  return {
    answers: Buffer.concat(c.answers.map((a) => record.encode(a))),
    answerCount: c.answers.length,
    additionals: Buffer.concat(c.additionals.map((a) => record.encode(a))),
    additionalCount: c.additionals.length,
  };
}

function fixed(r: Extract<Resolution, { kind: 'answer' }>, question: Question, edns: boolean): Fixed {
  const flags = dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_AVAILABLE | RCODE[r.rcode];
  const opt = edns ? [OPT_RECORD] : [];
  const packet = { type: 'response' as const, id: 0, flags, questions: [question], answers: r.answers, authorities: r.authorities };
  const full = dnsPacket.encode({ ...packet, additionals: [...r.additionals, ...opt] });
  return {
    kind: 'fixed',
    questionLength: questionLength(full),
    full,
    lean: r.additionals.length ? dnsPacket.encode({ ...packet, additionals: opt }) : undefined,
    truncated: dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt }),
  };
}

/**
 * Over UDP an answer larger than the client's buffer loses its additional section first (the SRV targets'
 * addresses, a courtesy: no TC, RFC 2181 §9, since clients that cannot retry over TCP — busybox nslookup, many stub
 * resolvers — would otherwise get nothing); if the answers alone do not fit it goes out truncated (TC), so the
 * client asks again over TCP (RFC 1035).
 */
function fit(entry: Fixed, limit: number): Buffer {
  if (entry.full.length <= limit) return entry.full;
  if (entry.lean && entry.lean.length <= limit) return entry.lean;
  return entry.truncated;
}

function copyOf(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length);
  b.copy(out);
  return out;
}

/** The length of the (one) question of an encoded message: its name's labels, then type and class. */
function questionLength(encoded: Buffer): number {
  let i = HEADER;
  while (encoded[i] !== 0) i += encoded[i]! + 1;
  return i + 1 + 4 - HEADER;
}

/**
 * Whether the query's question is the entry's but for the ASCII case of its name: the same label lengths and bytes,
 * upper-case letters allowed where the entry has their lower case (label lengths, at most 63, are never letters).
 */
function sameQuestion(query: Buffer, encoded: Buffer, length: number): boolean {
  if (query.length < HEADER + length) return false;
  const nameEnd = HEADER + length - 4;
  for (let i = HEADER; i < nameEnd; i++) {
    const a = query[i]!;
    const b = encoded[i]!;
    if (a !== b && !(a >= 0x41 && a <= 0x5a && a + 0x20 === b)) return false;
  }
  // The type (the class is echoed as asked).
  return query[nameEnd] === encoded[nameEnd] && query[nameEnd + 1] === encoded[nameEnd + 1];
}

/** A reply encoded afresh (the uncached path): the resolution for this question, fitted to `limit`. */
export function encodeAnswer(id: number, question: Question, r: Extract<Resolution, { kind: 'answer' }>, rd: number, limit: number, edns: boolean): Buffer {
  const out = fit(fixed(r, question, edns), limit);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(out.readUInt16BE(2) | rd, 2);
  return out;
}
