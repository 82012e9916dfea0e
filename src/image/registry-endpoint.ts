/**
 * Where a registry's API lives: HTTPS by default, plain HTTP for loopback hosts and for hosts the
 * operator lists as insecure (BERTH_INSECURE_REGISTRIES, compiled into the service's options). Pure.
 */
import { BlockList, isIP } from 'node:net';
import { registryApiHost } from './reference.js';

/** A compiled insecure-registry list: `host`, `host:port` or an IP range in CIDR form (`10.0.0.0/8`). */
export interface InsecureRegistries {
  readonly hosts: ReadonlySet<string>;
  readonly ranges: BlockList;
}

/** Compile the operator's list; throws naming an entry that is neither a host nor a CIDR range. */
export function compileInsecureRegistries(entries: readonly string[]): InsecureRegistries {
  const hosts = new Set<string>();
  const ranges = new BlockList();
  for (const raw of entries) {
    const entry = raw.trim().replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (entry === '') continue;
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (family === 0 || prefix > (family === 4 ? 32 : 128)) throw new Error(`insecure registry "${raw}": invalid CIDR range`);
      ranges.addSubnet(cidr[1]!, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (/^[A-Za-z0-9.\-[\]:]+$/.test(entry)) {
      hosts.add(entry.toLowerCase());
    } else {
      throw new Error(`insecure registry "${raw}": expected host, host:port or a CIDR range`);
    }
  }
  return { hosts, ranges };
}

/** Split `host:port` / `[v6]:port` into a bare host (no brackets) and the port text, if any. */
export function splitHostPort(domain: string): { host: string; port?: string } {
  if (domain.startsWith('[')) {
    const close = domain.indexOf(']');
    const port = domain.slice(close + 1).replace(/^:/, '');
    return { host: domain.slice(1, close), ...(port ? { port } : {}) };
  }
  const colon = domain.lastIndexOf(':');
  if (colon > 0 && domain.indexOf(':') === colon) return { host: domain.slice(0, colon), port: domain.slice(colon + 1) };
  return { host: domain };
}

/** True for localhost, 127.0.0.0/8 and ::1: registries on this machine are spoken to in plain HTTP. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The base URL (`https://host:port`) of the registry API for a reference's domain. */
export function registryBaseUrl(domain: string, insecure: InsecureRegistries): string {
  const apiHost = registryApiHost(domain);
  const { host } = splitHostPort(apiHost);
  const family = isIP(host);
  const plain =
    isLoopbackHost(host) ||
    insecure.hosts.has(apiHost.toLowerCase()) ||
    insecure.hosts.has(host.toLowerCase()) ||
    (family !== 0 && insecure.ranges.check(host, family === 4 ? 'ipv4' : 'ipv6'));
  return `${plain ? 'http' : 'https'}://${apiHost}`;
}
