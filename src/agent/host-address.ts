import { createSocket } from 'node:dgram';

/** The container instance attribute that carries the host's address (read by `berth lb` for instance targets). */
export const HOST_ADDRESS_ATTRIBUTE = 'berth.host-address';

/**
 * The source address of this host's route to `endpoint` (a control-plane URL): the address other hosts of the
 * cluster most likely reach it on. A connected UDP socket makes the kernel pick the route and source address
 * without sending anything. Resolves undefined when there is no route (the attribute is then left out).
 */
export async function routeSourceAddress(endpoint: string): Promise<string | undefined> {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    return await new Promise<string | undefined>((resolve) => {
      socket.once('error', () => resolve(undefined));
      socket.connect(port, host, (err?: Error) => {
        if (err) return resolve(undefined);
        const { address } = socket.address();
        resolve(address === '0.0.0.0' || address === '::' ? undefined : address);
      });
    });
  } finally {
    socket.close();
  }
}
