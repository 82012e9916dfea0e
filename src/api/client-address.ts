import type { IncomingMessage } from 'node:http';

/**
 * A request's client address (its aws:SourceIp): the peer's, unless a replica passed the request on and attested
 * the client's own (auth/forwarded-client.ts), in which case the route that verified the attestation records it here.
 */
const attested = new WeakMap<IncomingMessage, string>();

export function recordClientAddress(req: IncomingMessage, address: string): void {
  attested.set(req, address);
}

export function clientAddressOf(req: IncomingMessage): string | undefined {
  return attested.get(req) ?? req.socket.remoteAddress;
}
