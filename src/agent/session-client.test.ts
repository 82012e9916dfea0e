import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AcsFrame } from '../model/acs.js';
import { SessionClient } from './session-client.js';

/** A stand-in gateway on loopback: it accepts the session and records the frames the agent sends. */
async function gateway(upgradeHeaders: string[] = []) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('headers', (headers) => headers.push(...upgradeHeaders));
  await once(server, 'listening');
  const received: AcsFrame[] = [];
  const sockets: WebSocket[] = [];
  server.on('connection', (ws) => {
    sockets.push(ws);
    ws.on('message', (data) => received.push(JSON.parse(data.toString()) as AcsFrame));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    async socket() {
      await vi.waitFor(() => expect(sockets.length).toBe(1));
      return sockets[0]!;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const payload = (messageId: string): AcsFrame => ({
  type: 'PayloadMessage',
  message: { clusterArn: 'c', containerInstanceArn: 'i', messageId, seqNum: 1, generatedAt: 0, tasks: [] },
});

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('session client', () => {
  it('acknowledges a payload only once its handler has finished (the tasks are saved), and never when it failed', async () => {
    const g = await gateway();
    const handled: { resolve(): void; reject(e: Error): void }[] = [];
    const client = new SessionClient({
      endpoints: { current: () => g.url, failed: () => {}, succeeded: () => {} },
      clusterArn: 'c',
      containerInstanceArn: 'i',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
      agentVersion: 'test',
      log: pino({ level: 'silent' }),
      onPayload: () => new Promise<void>((resolve, reject) => handled.push({ resolve, reject })),
      onFatal: () => {},
    });
    client.start();
    cleanup = [() => g.close(), () => client.stop()];
    const ws = await g.socket();
    ws.send(JSON.stringify(payload('m1')));
    ws.send(JSON.stringify(payload('m2')));
    await vi.waitFor(() => expect(handled).toHaveLength(2));
    // A heartbeat is answered meanwhile: the payload's handler does not hold the session up.
    ws.send(JSON.stringify({ type: 'HeartbeatMessage', message: { healthy: true, messageId: 'h1' } }));
    await vi.waitFor(() => expect(g.received.map((f) => f.type)).toEqual(['HeartbeatAckRequest']));
    handled[1]!.reject(new Error('disk full'));
    handled[0]!.resolve();
    // A later payload's ack comes after any ack m2 could have had: only m1 and m3 are acknowledged, so the
    // gateway sends m2 again.
    ws.send(JSON.stringify(payload('m3')));
    await vi.waitFor(() => expect(handled).toHaveLength(3));
    handled[2]!.resolve();
    const acks = () => g.received.flatMap((f) => (f.type === 'AckRequest' ? [f.message.messageId] : []));
    await vi.waitFor(() => expect(acks()).toContain('m3'));
    expect(acks()).toEqual(['m1', 'm3']);
  });

  it("tells the replica's advertised DNS server from each session's upgrade, and its absence", async () => {
    const withDns = await gateway(['x-berth-dns-server: 0.0.0.0:7453']);
    const without = await gateway();
    const told: [string | undefined, string][] = [];
    let current = withDns.url;
    const client = new SessionClient({
      endpoints: { current: () => current, failed: () => {}, succeeded: () => {} },
      clusterArn: 'c',
      containerInstanceArn: 'i',
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }),
      agentVersion: 'test',
      log: pino({ level: 'silent' }),
      onPayload: () => {},
      onFatal: () => {},
      onDnsServer: (address, host) => told.push([address, host]),
      backoff: { minMs: 10, maxMs: 20 },
    });
    client.start();
    cleanup = [() => withDns.close(), () => without.close(), () => client.stop()];
    await vi.waitFor(() => expect(told).toEqual([['0.0.0.0:7453', '127.0.0.1']]));
    // The session moves to a replica that serves no DNS.
    current = without.url;
    (await withDns.socket()).terminate();
    await vi.waitFor(() => expect(told).toEqual([['0.0.0.0:7453', '127.0.0.1'], [undefined, '127.0.0.1']]));
  });
});
