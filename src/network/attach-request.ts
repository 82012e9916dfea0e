import { CONTAINER_ID_PATTERN } from './cni-protocol.js';
import { NetworkError } from './errors.js';
import { attachModes, type AttachRequest } from './network.js';

/**
 * Throw a NetworkError (`invalid-request`) naming the first thing wrong with `request`. Checked before
 * anything is created, so bad input leaves nothing behind.
 */
export function checkAttachRequest(request: AttachRequest): void {
  const { id, mode, portMappings } = request as Partial<AttachRequest>;
  if (typeof id !== 'string' || !CONTAINER_ID_PATTERN.test(id)) {
    throw invalid(
      `attachment id ${JSON.stringify(id)} must be 1–200 letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
  if (!(attachModes as readonly unknown[]).includes(mode)) {
    throw invalid(`mode ${JSON.stringify(mode)} of attachment ${id} must be one of ${attachModes.join(', ')}`);
  }
  if (!Array.isArray(portMappings)) throw invalid(`portMappings of attachment ${id} must be a list`);
  if (mode !== 'bridge' && portMappings.length > 0) {
    throw invalid(`attachment ${id} has network mode ${mode}, which allows no port mappings`);
  }
  const seen = new Set<string>();
  portMappings.forEach((m: unknown, i) => {
    const at = `portMappings[${i}] of attachment ${id}`;
    const { containerPort, hostPort, protocol } = (m ?? {}) as Record<string, unknown>;
    if (!isPort(containerPort)) throw invalid(`${at}: containerPort ${JSON.stringify(containerPort)} must be an integer from 1 to 65535`);
    if (hostPort === 0) throw invalid(`${at}: hostPort 0 must be replaced by a port from the PortAllocator before attach`);
    if (!isPort(hostPort)) throw invalid(`${at}: hostPort ${JSON.stringify(hostPort)} must be an integer from 1 to 65535`);
    if (protocol !== 'tcp' && protocol !== 'udp') throw invalid(`${at}: protocol ${JSON.stringify(protocol)} must be "tcp" or "udp"`);
    const key = `${hostPort}/${protocol}`;
    if (seen.has(key)) throw invalid(`${at}: host port ${key} is mapped twice`);
    seen.add(key);
  });
}

const isPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;

const invalid = (message: string) => new NetworkError('invalid-request', message);
