/**
 * berth's DNS server: UDP and TCP on one address, answering the names of Cloud Map's DNS namespaces from a
 * {@link Directory} (answers.ts) and relaying every other name to the upstream resolvers (upstream.ts). The wire
 * format is dns-packet's; this file only moves bytes and picks the response code.
 *
 * Local answers are computed synchronously in the socket's message handler (no promise per query), from encodings
 * kept between queries (answer-cache.ts): a query costs a dns-packet decode, a lookup and a copy. Over UDP an answer larger than the client's
 * buffer (512 bytes, or its EDNS size) loses its additional section first (no TC, RFC 2181 §9); if the answers alone
 * still do not fit it is sent truncated (TC) so the client asks again over TCP, as RFC 1035 says.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import dnsPacket, { type Packet, type Question } from 'dns-packet';
import { background, type BackgroundLog } from '../process/background.js';
import { AnswerCache, EDNS_UDP_SIZE, RCODE } from './answer-cache.js';
import type { Directory } from './directory.js';
import { serveTcpConnection } from './tcp-framing.js';
import { forwardTcp, forwardUdp, type Upstream } from './upstream.js';

export interface DnsServerOptions {
  readonly host: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  readonly port: number;
  readonly directory: Directory;
  /** Resolvers for names outside the namespaces; none: such names answer SERVFAIL. */
  readonly upstreams: readonly Upstream[];
  readonly log: BackgroundLog & { warn(context: object, message: string): void };
  readonly forwardTimeoutMs?: number;
  readonly random?: () => number;
}

/** Largest UDP answer without EDNS (RFC 1035 2.3.4). */
const CLASSIC_UDP_SIZE = 512;

/**
 * The socket's "lookup" of the address it replies to, which is always a client's IP literal: at once, where
 * dns.lookup (dgram's default) defers every send to the next tick — a measurable share of each reply's cost.
 */
function literalAddress(address: string, _family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  // Only IPv6 literals have colons (isIPv6's regular expression showed in profiles).
  callback(null, address, address.includes(':') ? 6 : 4);
}

export class DnsServer {
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private boundPort = 0;

  private readonly cache: AnswerCache;

  constructor(private readonly options: DnsServerOptions) {
    this.cache = new AnswerCache(options.directory, options.random ? { random: options.random } : {});
  }

  /** Binds UDP, then TCP on the same port (trying again with another free port when asked for 0 and TCP's is taken). */
  async start(): Promise<{ host: string; port: number }> {
    for (let attempt = 1; ; attempt++) {
      const udp = createSocket({ type: isIPv6(this.options.host) ? 'udp6' : 'udp4', lookup: literalAddress });
      await new Promise<void>((ok, fail) => {
        udp.once('error', fail);
        udp.bind(this.options.port, this.options.host, () => {
          udp.off('error', fail);
          ok();
        });
      });
      const port = udp.address().port;
      const tcp = createServer((socket) => this.onConnection(socket));
      try {
        await new Promise<void>((ok, fail) => {
          tcp.once('error', fail);
          tcp.listen(port, this.options.host, () => {
            tcp.off('error', fail);
            ok();
          });
        });
      } catch (error) {
        udp.close();
        if (this.options.port !== 0 || attempt >= 5) throw error;
        continue;
      }
      udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address, rinfo.port));
      udp.on('error', (err) => this.options.log.warn({ err }, 'dns udp socket error'));
      this.udp = udp;
      this.tcp = tcp;
      this.boundPort = port;
      return { host: this.options.host, port };
    }
  }

  get port(): number {
    return this.boundPort;
  }

  async stop(): Promise<void> {
    this.udp?.close();
    for (const c of this.connections) c.destroy();
    await new Promise<void>((ok) => (this.tcp ? this.tcp.close(() => ok()) : ok()));
  }

  private onDatagram(msg: Buffer, address: string, port: number): void {
    const send = (out: Buffer) => this.udp?.send(out, port, address);
    const reply = this.handle(msg, 'udp');
    if (reply instanceof Promise) void background(this.options.log, 'dns forward (udp)', async () => send(await reply));
    else if (reply) send(reply);
  }

  private onConnection(socket: Socket): void {
    serveTcpConnection(socket, this.connections, (message, write) => {
      const reply = this.handle(message, 'tcp');
      if (reply instanceof Promise) void background(this.options.log, 'dns forward (tcp)', async () => write(await reply));
      else if (reply) write(reply);
    });
  }

  /** The reply to one message: at once for local names, a promise for forwarded ones, nothing for garbage. */
  private handle(message: Buffer, transport: 'udp' | 'tcp'): Buffer | Promise<Buffer> | undefined {
    let query: Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      // Undecodable: FORMERR when there is at least a header to answer to.
      return message.length >= 12 ? this.encodeError(message.readUInt16BE(0), [], RCODE.FORMERR, 0) : undefined;
    }
    const id = query.id ?? 0;
    const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    if (query.type !== 'query') return undefined;
    if ((query as { opcode?: string }).opcode !== undefined && (query as { opcode?: string }).opcode !== 'QUERY') return this.encodeError(id, query.questions ?? [], RCODE.NOTIMP, rd);
    const questions = query.questions ?? [];
    if (questions.length !== 1) return this.encodeError(id, questions, RCODE.FORMERR, rd);
    const question = questions[0]!;
    const opt = (query.additionals ?? []).find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const limit = transport === 'tcp' ? 65535 : opt ? Math.min(EDNS_UDP_SIZE, Math.max(CLASSIC_UDP_SIZE, opt.udpPayloadSize ?? CLASSIC_UDP_SIZE)) : CLASSIC_UDP_SIZE;
    const reply = this.cache.reply(message, question, rd, opt !== undefined, limit);
    return reply === 'forward' ? this.forward(message, id, questions, rd, transport) : reply;
  }

  private encodeError(id: number, questions: Question[], rcode: number, rd: number): Buffer {
    return dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE | rd | rcode, questions, answers: [] });
  }

  private async forward(message: Buffer, id: number, questions: Question[], rd: number, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const timeoutMs = this.options.forwardTimeoutMs ?? 2_000;
    for (const upstream of this.options.upstreams) {
      try {
        return await (transport === 'udp' ? forwardUdp(message, upstream, timeoutMs) : forwardTcp(message, upstream, timeoutMs));
      } catch (err) {
        this.options.log.warn({ err, upstream: `${upstream.host}:${upstream.port}`, name: questions[0]?.name }, 'dns upstream failed');
      }
    }
    return this.encodeError(id, questions, RCODE.SERVFAIL, rd);
  }
}
