import type { Socket } from 'node:net';

/** RFC 1035 4.2.2: over TCP, each DNS message is preceded by its two-byte length. */
export function framed(message: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  return Buffer.concat([length, message]);
}

/**
 * Serve one DNS-over-TCP connection (berth's DNS server and the agent's relay): `connections` holds it while
 * open, it is dropped after 30 s idle or on error, and `each` gets every message it carries (a connection may
 * carry several) with a `reply` that writes one framed answer while the socket is open.
 */
export function serveTcpConnection(socket: Socket, connections: Set<Socket>, each: (message: Buffer, reply: (out: Buffer) => void) => void): void {
  connections.add(socket);
  socket.on('close', () => connections.delete(socket));
  socket.on('error', () => socket.destroy());
  socket.setTimeout(30_000, () => socket.destroy());
  const reply = (out: Buffer) => {
    if (!socket.destroyed) socket.write(framed(out));
  };
  let buffered = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      buffered = buffered.subarray(2 + message.length);
      each(message, reply);
    }
  });
}
