/**
 * The agent's node-local DNS relay: the resolver containers get by default (their /etc/resolv.conf's one
 * `nameserver`). It listens on port 53 of an address every container reaches — the task metadata address's host,
 * 169.254.170.2 on `lo` (bridge and awsvpc containers through their default route, host-mode ones directly) — and
 * relays each query's bytes unchanged to the DNS server the control plane advertises on the session (the
 * `x-berth-dns-server` header, model/acs.ts), which may listen on any port and any address this host reaches
 * (127.0.0.1 under `berth up`): resolv.conf's port 53 is the relay's concern only.
 *
 *   idle ──advertise(address)──▶ binding ──listening──▶ relaying ──advertise(other)──▶ relaying (new target)
 *                                   └──bind failed──▶ failed (logged once; containers keep the host's resolvers)
 *
 * It binds only once a control plane advertises a DNS server, so agents of a control plane without one never take
 * port 53. A session that later advertises none (another replica without --dns-listen) leaves the relay up for
 * the containers already pointed at it, relaying to the host's own resolvers; new containers keep the host's.
 * Only the host and its containers (the bridge subnet) are answered: the address is link-local, but a neighbour
 * routing to it must not get an open resolver.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { BlockList, createServer, isIPv6, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import dnsPacket from 'dns-packet';
import { serveTcpConnection } from '../dns/tcp-framing.js';
import { forwardTcp, forwardUdp, hostUpstreams, type Upstream } from '../dns/upstream.js';
import { background, type BackgroundLog } from '../process/background.js';

export interface DnsRelayOptions {
  /** Where the relay listens (port 53 unless a test says otherwise). */
  readonly host: string;
  readonly port?: number;
  /** Which sources are answered (the host's own addresses and its containers'). */
  readonly allowed: (address: string) => boolean;
  /** Resolvers used when the control plane advertises none (default: the host's /etc/resolv.conf). */
  readonly fallback?: () => Upstream[];
  readonly timeoutMs?: number;
  readonly log: BackgroundLog & { warn(context: object, message: string): void; info(context: object, message: string): void };
}

type RelayState = 'idle' | 'binding' | 'relaying' | 'failed';

export class DnsRelay {
  private state: RelayState = 'idle';
  private target: Upstream | undefined;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private starting: Promise<void> = Promise.resolve();

  constructor(private readonly options: DnsRelayOptions) {}

  /**
   * The session announced the control plane's DNS server (`host:port`, undefined for none); `reachedAt` is the host
   * of the endpoint the agent reached it at, used when the announced host is unspecified (0.0.0.0, ::).
   */
  advertise(address: string | undefined, reachedAt: string): void {
    const target = address === undefined ? undefined : parseAdvertised(address, reachedAt);
    if (address !== undefined && !target) this.options.log.warn({ address }, 'ignoring an unusable DNS server address from the control plane');
    const changed = target?.host !== this.target?.host || target?.port !== this.target?.port;
    this.target = target;
    if (changed && target) this.options.log.info({ dns: `${target.host}:${target.port}` }, "containers' DNS relayed to the control plane's DNS server");
    if (target && this.state === 'idle') {
      this.state = 'binding';
      this.starting = background(this.options.log, 'dns relay start', () => this.listen());
    }
  }

  /** The port it listens on (0 until it does). */
  get port(): number {
    return this.udp?.address().port ?? 0;
  }

  /** Settles once the relay listens or failed to (at once when it never started). */
  async started(): Promise<void> {
    await this.starting;
  }

  /** What a container created now gets as its nameserver: the relay's address while it relays to berth's DNS. */
  nameserver(): string | undefined {
    return this.target && (this.state === 'binding' || this.state === 'relaying') ? this.options.host : undefined;
  }

  async stop(): Promise<void> {
    await this.starting;
    this.udp?.close();
    this.udp = undefined;
    for (const c of this.connections) c.destroy();
    await new Promise<void>((ok) => (this.tcp ? this.tcp.close(() => ok()) : ok()));
  }

  private async listen(): Promise<void> {
    const { host } = this.options;
    const port = this.options.port ?? 53;
    try {
      const udp = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
      await new Promise<void>((ok, fail) => {
        udp.once('error', fail);
        udp.bind(port, host, () => {
          udp.off('error', fail);
          ok();
        });
      });
      this.udp = udp;
      udp.on('message', (msg, rinfo) => this.onDatagram(udp, msg, rinfo.address, rinfo.port));
      udp.on('error', (err) => this.options.log.warn({ err }, 'dns relay udp socket error'));
      const tcp = createServer((socket) => this.onConnection(socket));
      await new Promise<void>((ok, fail) => {
        tcp.once('error', fail);
        // The same port as UDP (port 0 in tests: the one UDP was given).
        tcp.listen(udp.address().port, host, () => {
          tcp.off('error', fail);
          ok();
        });
      });
      this.tcp = tcp;
      this.state = 'relaying';
      this.options.log.info({ address: `${host}:${port}` }, 'dns relay listening');
    } catch (err) {
      this.state = 'failed';
      this.udp?.close();
      this.udp = undefined;
      this.options.log.warn({ err, address: `${host}:${port}` }, "dns relay could not listen: containers keep the host's resolvers");
    }
  }

  private upstreams(): Upstream[] {
    return this.target ? [this.target] : (this.options.fallback ?? hostUpstreams)();
  }

  private onDatagram(udp: UdpSocket, msg: Buffer, address: string, port: number): void {
    if (!this.options.allowed(address) || msg.length < 12) return;
    void background(this.options.log, 'dns relay (udp)', async () => {
      const answer = await this.relay(msg, 'udp');
      // The relay may have stopped meanwhile (the agent stopping): the answer has nowhere to go.
      if (this.udp === udp) udp.send(answer, port, address);
    });
  }

  private onConnection(socket: Socket): void {
    if (!this.options.allowed(socket.remoteAddress ?? '')) {
      socket.destroy();
      return;
    }
    serveTcpConnection(socket, this.connections, (message, reply) => {
      if (message.length < 12) return;
      void background(this.options.log, 'dns relay (tcp)', async () => reply(await this.relay(message, 'tcp')));
    });
  }

  /** The answer of the first upstream that gives one; SERVFAIL when none does. */
  private async relay(message: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const timeoutMs = this.options.timeoutMs ?? 2_000;
    for (const upstream of this.upstreams()) {
      try {
        return await (transport === 'udp' ? forwardUdp(message, upstream, timeoutMs) : forwardTcp(message, upstream, timeoutMs));
      } catch (err) {
        this.options.log.warn({ err, upstream: `${upstream.host}:${upstream.port}` }, 'dns relay: upstream failed');
      }
    }
    return servfail(message);
  }
}

/**
 * `host:port` or `[v6]:port`; an unspecified host is replaced by `reachedAt`. A loopback address is only usable by
 * an agent that reached the control plane over loopback too (the same machine, `berth up`): elsewhere it would name
 * the agent's own host, and every container's lookups would fail.
 */
export function parseAdvertised(address: string, reachedAt: string): Upstream | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(address.trim());
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) return undefined;
  const named = m[1] ?? m[2]!;
  const reached = reachedAt.replace(/^\[|\]$/g, '');
  const host = named === '0.0.0.0' || named === '::' ? reached : named;
  if (isLoopback(host) && !isLoopback(reached)) return undefined;
  return { host, port };
}

const isLoopback = (host: string) => host === 'localhost' || host === '::1' || host.startsWith('127.');

/** SERVFAIL for a query (its id and question echoed, through dns-packet); for an undecodable one, its id only. */
function servfail(query: Buffer): Buffer {
  let id = query.readUInt16BE(0);
  let questions: dnsPacket.Question[] = [];
  try {
    const q = dnsPacket.decode(query);
    id = q.id ?? id;
    questions = q.questions ?? [];
  } catch {
    // Garbage: answer its id alone.
  }
  return dnsPacket.encode({ type: 'response', id, flags: dnsPacket.RECURSION_AVAILABLE | 2, questions, answers: [] });
}

/**
 * The sources the relay answers: this host's own addresses (host-mode containers, the host), loopback, and the
 * bridge subnet (bridge and awsvpc containers). The host's addresses are re-read at most every 10 s.
 */
export function containerOrHost(bridgeSubnet: string, now: () => number = Date.now): (address: string) => boolean {
  const subnets = new BlockList();
  const [network, prefix] = bridgeSubnet.split('/');
  subnets.addSubnet(network!, Number(prefix), 'ipv4');
  subnets.addSubnet('127.0.0.0', 8, 'ipv4');
  subnets.addAddress('::1', 'ipv6');
  let local = new Set<string>();
  let readAt = -Infinity;
  return (raw) => {
    const address = raw.replace(/^::ffff:/, '');
    if (subnets.check(address, isIPv6(address) ? 'ipv6' : 'ipv4')) return true;
    if (now() - readAt > 10_000) {
      local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)));
      readAt = now();
    }
    return local.has(address);
  };
}
