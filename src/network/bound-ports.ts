/**
 * Which local ports sockets on this host hold, from the kernel's socket tables in /proc/net. Read for the
 * agent's own network namespace (/proc/net is /proc/self/net), which is where published ports live.
 */
import { readFileSync } from 'node:fs';

/**
 * Local ports of every socket in one /proc/net/{tcp,tcp6,udp,udp6} table, whatever its state: a listener,
 * or a connection whose local port a new listener could not bind either.
 */
export function parseProcNetPorts(table: string): Set<number> {
  const ports = new Set<number>();
  for (const line of table.split('\n').slice(1)) {
    // "  sl  local_address rem_address   st ..." — local_address is HEXIP:HEXPORT.
    const local = line.trim().split(/\s+/)[1];
    const port = local ? Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) : Number.NaN;
    if (port > 0) ports.add(port);
  }
  return ports;
}

/** Ports bound on the host for `protocol`, IPv4 and IPv6 together. A table that cannot be read counts as empty. */
export function readBoundPorts(protocol: 'tcp' | 'udp'): Set<number> {
  const ports = new Set<number>();
  for (const table of [protocol, `${protocol}6`]) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue; // no IPv6 in this kernel
    }
    for (const p of parseProcNetPorts(text)) ports.add(p);
  }
  return ports;
}
