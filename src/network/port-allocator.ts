import { readBoundPorts } from './bound-ports.js';
import type { PortAllocator, PortHolding } from './network.js';

type Protocol = 'tcp' | 'udp';

/** The Amazon ECS agent's defaults for ECS_RESERVED_PORTS (TCP) and ECS_RESERVED_PORTS_UDP. */
export const DEFAULT_RESERVED_TCP_PORTS: readonly number[] = [22, 2375, 2376, 51678, 51679];
export const DEFAULT_RESERVED_UDP_PORTS: readonly number[] = [];
/** ECS's range for dynamic host ports. */
export const DYNAMIC_PORT_RANGE = { first: 49153, last: 65535 } as const;

/** The instance's port settings (from ecs.config) and, after a restart, what was held before. */
export interface PortAllocatorOptions {
  /** ECS_RESERVED_PORTS: never handed out, never reservable. */
  readonly reservedTcp?: readonly number[];
  /** ECS_RESERVED_PORTS_UDP. */
  readonly reservedUdp?: readonly number[];
  readonly dynamicRange?: { readonly first: number; readonly last: number };
  /** What the agent persisted before a restart (from holdings()). Taken as they are, even if now reserved. */
  readonly holdings?: readonly PortHolding[];
  /** Ports bound on the host right now; dynamic allocation skips them. Default: read /proc/net. */
  readonly boundPorts?: (protocol: Protocol) => ReadonlySet<number>;
}

/**
 * Why a port could not be had: bad input, a reserved port, a port another owner holds, or no free port
 * left in the dynamic range.
 */
export const portAllocationErrorCodes = ['invalid-request', 'reserved', 'taken', 'exhausted'] as const;
export type PortAllocationErrorCode = (typeof portAllocationErrorCodes)[number];

/** A refused reservation or allocation; the message names the port, protocol and holder. */
export class PortAllocationError extends Error {
  override readonly name = 'PortAllocationError';
  constructor(
    readonly code: PortAllocationErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The instance's host ports, in memory. Dynamic ports are handed out round-robin from a cursor rather than
 * lowest-first, so a port just released (its old connections possibly still in conntrack or TIME_WAIT) is
 * the last to be reused.
 */
export class HostPortAllocator implements PortAllocator {
  private readonly reserved: Record<Protocol, ReadonlySet<number>>;
  private readonly range: { readonly first: number; readonly last: number };
  private readonly boundPorts: (protocol: Protocol) => ReadonlySet<number>;
  private readonly held: Record<Protocol, Map<number, string>> = { tcp: new Map(), udp: new Map() };
  private readonly cursor: Record<Protocol, number>;

  constructor(options: PortAllocatorOptions = {}) {
    this.reserved = {
      tcp: new Set(checkPorts(options.reservedTcp ?? DEFAULT_RESERVED_TCP_PORTS, 'reserved TCP port')),
      udp: new Set(checkPorts(options.reservedUdp ?? DEFAULT_RESERVED_UDP_PORTS, 'reserved UDP port')),
    };
    this.range = options.dynamicRange ?? DYNAMIC_PORT_RANGE;
    const { first, last } = this.range;
    if (!isPort(first) || !isPort(last) || first > last) {
      throw new PortAllocationError('invalid-request', `dynamic port range ${first}–${last} must be ports from 1 to 65535, first ≤ last`);
    }
    this.cursor = { tcp: first, udp: first };
    this.boundPorts = options.boundPorts ?? readBoundPorts;
    for (const h of options.holdings ?? []) {
      checkOwner(h.owner);
      checkProtocol(h.protocol);
      checkPorts([h.port], `held port of ${h.owner}`);
      const holder = this.held[h.protocol].get(h.port);
      if (holder !== undefined && holder !== h.owner) {
        throw new PortAllocationError('taken', `holdings list host port ${h.port}/${h.protocol} for both ${holder} and ${h.owner}`);
      }
      this.held[h.protocol].set(h.port, h.owner);
    }
  }

  reserve(owner: string, ports: readonly { port: number; protocol: Protocol }[]): void {
    checkOwner(owner);
    for (const { port, protocol } of ports) {
      checkProtocol(protocol);
      checkPorts([port], 'host port');
      if (this.reserved[protocol].has(port)) {
        throw new PortAllocationError('reserved', `host port ${port}/${protocol} is reserved on this instance (ECS_RESERVED_PORTS${protocol === 'udp' ? '_UDP' : ''})`);
      }
      const holder = this.held[protocol].get(port);
      if (holder !== undefined && holder !== owner) {
        throw new PortAllocationError('taken', `host port ${port}/${protocol} is already held by ${holder}`);
      }
    }
    // All checked first: a refused reservation holds nothing.
    for (const { port, protocol } of ports) this.held[protocol].set(port, owner);
  }

  allocate(owner: string, protocol: Protocol): number {
    checkOwner(owner);
    checkProtocol(protocol);
    const { first, last } = this.range;
    const size = last - first + 1;
    const held = this.held[protocol];
    const reserved = this.reserved[protocol];
    const bound = this.boundPorts(protocol);
    const start = this.cursor[protocol];
    for (let i = 0; i < size; i++) {
      const port = first + ((start - first + i) % size);
      if (held.has(port) || reserved.has(port) || bound.has(port)) continue;
      held.set(port, owner);
      this.cursor[protocol] = port === last ? first : port + 1;
      return port;
    }
    const count = (set: ReadonlySet<number> | ReadonlyMap<number, unknown>) => [...set.keys()].filter((p) => p >= first && p <= last).length;
    throw new PortAllocationError(
      'exhausted',
      `no free ${protocol} host port in ${first}–${last}: ${count(held)} held by tasks, ${count(reserved)} reserved, ` +
        `${[...bound].filter((p) => p >= first && p <= last && !held.has(p) && !reserved.has(p)).length} bound by other processes`,
    );
  }

  release(owner: string): void {
    for (const held of Object.values(this.held)) {
      for (const [port, holder] of held) if (holder === owner) held.delete(port);
    }
  }

  holdings(): PortHolding[] {
    return (['tcp', 'udp'] as const).flatMap((protocol) =>
      [...this.held[protocol]].sort(([a], [b]) => a - b).map(([port, owner]) => ({ owner, port, protocol })),
    );
  }
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

function checkPorts(ports: readonly number[], what: string): readonly number[] {
  const bad = ports.find((p) => !isPort(p));
  if (bad !== undefined) throw new PortAllocationError('invalid-request', `${what} ${JSON.stringify(bad)} must be an integer from 1 to 65535`);
  return ports;
}

function checkProtocol(protocol: unknown): asserts protocol is Protocol {
  if (protocol !== 'tcp' && protocol !== 'udp') {
    throw new PortAllocationError('invalid-request', `protocol ${JSON.stringify(protocol)} must be "tcp" or "udp"`);
  }
}

function checkOwner(owner: unknown): void {
  if (typeof owner !== 'string' || owner === '') {
    throw new PortAllocationError('invalid-request', `port owner ${JSON.stringify(owner)} must be a non-empty string`);
  }
}
