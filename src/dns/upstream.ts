/**
 * Where names outside berth's namespaces go: the host's resolvers, read from /etc/resolv.conf (loopback ones
 * included: the server runs in the host's network namespace, unlike containers), and the forwarding itself —
 * the query's bytes are relayed unchanged over UDP (or TCP for a query that came over TCP), trying each
 * resolver in turn until one answers within the timeout.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6, Socket } from 'node:net';
import { framed } from './tcp-framing.js';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** The `nameserver` lines of a resolv.conf. */
export function upstreamsOf(resolvConf: string): Upstream[] {
  return resolvConf
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
    .filter((host): host is string => host !== undefined)
    .map((host) => ({ host: host.replace(/%.*$/, ''), port: 53 }));
}

export function hostUpstreams(path = '/etc/resolv.conf'): Upstream[] {
  try {
    return upstreamsOf(readFileSync(path, 'utf8'));
  } catch {
    return [];
  }
}

/** One query relayed over UDP; rejects after `timeoutMs`. */
export function forwardUdp(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(upstream.host) ? 'udp6' : 'udp4');
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.close();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`upstream ${upstream.host}:${upstream.port} did not answer in ${timeoutMs} ms`))), timeoutMs);
    socket.on('error', (error) => done(() => reject(error)));
    socket.on('message', (msg) => {
      // Only the answer to this query (same id) counts.
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) done(() => resolve(msg));
    });
    socket.send(query, upstream.port, upstream.host);
  });
}

/** One query relayed over TCP (two-byte length framing, RFC 1035 4.2.2); rejects after `timeoutMs`. */
export function forwardTcp(query: Buffer, upstream: Upstream, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let received = Buffer.alloc(0);
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      fn();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`upstream ${upstream.host}:${upstream.port} did not answer in ${timeoutMs} ms`))), timeoutMs);
    socket.on('error', (error) => done(() => reject(error)));
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) done(() => resolve(received.subarray(2, 2 + received.readUInt16BE(0))));
    });
    socket.connect(upstream.port, upstream.host, () => {
      socket.write(framed(query));
    });
  });
}
