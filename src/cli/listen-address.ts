import { networkInterfaces } from 'node:os';

/** Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (all interfaces). */
export function parseListenAddress(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid listen address '${value}': use HOST:PORT, [IPV6]:PORT or :PORT`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** The host's first non-internal IPv4 address (what other hosts reach it on), else loopback. */
export function defaultHostAddress(): string {
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  return '127.0.0.1';
}
