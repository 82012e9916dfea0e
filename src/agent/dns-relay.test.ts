import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, Socket } from 'node:net';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { containerOrHost, DnsRelay, parseAdvertised } from './dns-relay.js';

/** A resolver on loopback (UDP and TCP, one port) answering every A question with `address`; records what it was asked. */
async function fakeResolver(address: string) {
  const socket = createSocket('udp4');
  const asked: string[] = [];
  const answer = (msg: Buffer) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0]!;
    asked.push(question.name);
    return dnsPacket.encode({ type: 'response', id: q.id ?? 0, flags: dnsPacket.RECURSION_AVAILABLE, questions: [question], answers: [{ type: 'A', name: question.name, ttl: 5, class: 'IN', data: address }] });
  };
  socket.on('message', (msg, rinfo) => socket.send(answer(msg), rinfo.port, rinfo.address));
  await new Promise<void>((ok) => socket.bind(0, '127.0.0.1', () => ok()));
  const tcp = createServer((c) => c.on('data', (d) => c.end(dnsPacket.streamEncode(dnsPacket.decode(answer(d.subarray(2)))))));
  await new Promise<void>((ok) => tcp.listen(socket.address().port, '127.0.0.1', () => ok()));
  const close = () => (socket.close(), tcp.close());
  return { socket: { close }, asked, port: socket.address().port };
}

function askUdp(port: number, name: string, timeoutMs = 3_000): Promise<dnsPacket.Packet> {
  const socket: UdpSocket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (socket.close(), reject(new Error(`no answer for ${name}`))), timeoutMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(msg));
    });
    socket.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] }), port, '127.0.0.1');
  });
}

function askTcp(port: number, name: string): Promise<dnsPacket.Packet> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => (socket.destroy(), reject(new Error(`no answer for ${name}`))), 3_000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(dnsPacket.decode(got.subarray(2)));
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write(dnsPacket.streamEncode({ type: 'query', id: 9, questions: [{ type: 'A', name, class: 'IN' }] })));
  });
}

const log = pino({ level: 'silent' });
let cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('the DNS relay', () => {
  it('takes no port until a DNS server is advertised, then relays UDP and TCP to it and names itself for new containers', async () => {
    const berth = await fakeResolver('10.9.9.9');
    const relay = new DnsRelay({ host: '127.0.0.1', port: 0, allowed: () => true, log, fallback: () => [] });
    cleanup.push(() => berth.socket.close(), () => relay.stop());
    await relay.started();
    expect(relay.port).toBe(0);
    expect(relay.nameserver()).toBeUndefined();
    // An unspecified host is the one the agent reached the control plane at.
    relay.advertise(`0.0.0.0:${berth.port}`, '127.0.0.1');
    expect(relay.nameserver()).toBe('127.0.0.1');
    await relay.started();
    expect(relay.port).toBeGreaterThan(0);
    const viaUdp = await askUdp(relay.port, 'web.apps.internal');
    expect(viaUdp.id).toBe(7);
    expect(viaUdp.answers).toMatchObject([{ type: 'A', name: 'web.apps.internal', data: '10.9.9.9' }]);
    const viaTcp = await askTcp(relay.port, 'api.apps.internal');
    expect(viaTcp.id).toBe(9);
    expect(viaTcp.answers).toMatchObject([{ type: 'A', name: 'api.apps.internal', data: '10.9.9.9' }]);
    expect(berth.asked).toEqual(['web.apps.internal', 'api.apps.internal']);
  });

  it("follows a new advertisement; with none, new containers keep the host's resolvers and the relay falls back to them", async () => {
    const first = await fakeResolver('10.0.0.1');
    const second = await fakeResolver('10.0.0.2');
    const host = await fakeResolver('10.0.0.3');
    const relay = new DnsRelay({ host: '127.0.0.1', port: 0, allowed: () => true, log, fallback: () => [{ host: '127.0.0.1', port: host.port }] });
    cleanup.push(() => first.socket.close(), () => second.socket.close(), () => host.socket.close(), () => relay.stop());
    relay.advertise(`127.0.0.1:${first.port}`, '127.0.0.1');
    await relay.started();
    expect((await askUdp(relay.port, 'a.test')).answers![0]).toMatchObject({ data: '10.0.0.1' });
    relay.advertise(`127.0.0.1:${second.port}`, '127.0.0.1');
    expect((await askUdp(relay.port, 'b.test')).answers![0]).toMatchObject({ data: '10.0.0.2' });
    relay.advertise(undefined, '127.0.0.1');
    expect(relay.nameserver()).toBeUndefined();
    expect((await askUdp(relay.port, 'c.test')).answers![0]).toMatchObject({ data: '10.0.0.3' });
  });

  it('answers SERVFAIL when no upstream answers', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((ok) => silent.bind(0, '127.0.0.1', () => ok()));
    const relay = new DnsRelay({ host: '127.0.0.1', port: 0, allowed: () => true, log, timeoutMs: 200 });
    cleanup.push(() => silent.close(), () => relay.stop());
    relay.advertise(`127.0.0.1:${silent.address().port}`, '127.0.0.1');
    await relay.started();
    const answer = await askUdp(relay.port, 'slow.test');
    expect((answer as { rcode?: string }).rcode).toBe('SERVFAIL');
    expect(answer.questions).toMatchObject([{ name: 'slow.test', type: 'A' }]);
  });

  it('relays nothing for a source it does not serve', async () => {
    const berth = await fakeResolver('10.9.9.9');
    const seen: string[] = [];
    const relay = new DnsRelay({ host: '127.0.0.1', port: 0, allowed: (a) => (seen.push(a), false), log });
    cleanup.push(() => berth.socket.close(), () => relay.stop());
    relay.advertise(`127.0.0.1:${berth.port}`, '127.0.0.1');
    await relay.started();
    await expect(askUdp(relay.port, 'web.apps.internal', 500)).rejects.toThrow(/no answer/);
    expect(seen).toContain('127.0.0.1');
    expect(berth.asked).toEqual([]);
  });

  it('gives containers no nameserver when it cannot listen (the port is taken)', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((ok) => taken.bind(0, '127.0.0.1', () => ok()));
    const relay = new DnsRelay({ host: '127.0.0.1', port: taken.address().port, allowed: () => true, log });
    cleanup.push(() => taken.close(), () => relay.stop());
    relay.advertise('127.0.0.1:5353', '127.0.0.1');
    expect(relay.nameserver()).toBe('127.0.0.1');
    await relay.started();
    expect(relay.nameserver()).toBeUndefined();
  });
});

describe('what the relay is told and whom it serves', () => {
  it('parses the advertised address, replacing an unspecified host', () => {
    expect(parseAdvertised('10.0.0.1:53', 'h')).toEqual({ host: '10.0.0.1', port: 53 });
    expect(parseAdvertised('0.0.0.0:7453', '10.1.1.1')).toEqual({ host: '10.1.1.1', port: 7453 });
    expect(parseAdvertised('[::]:7453', '[fd00::1]')).toEqual({ host: 'fd00::1', port: 7453 });
    expect(parseAdvertised('[fd00::53]:53', 'h')).toEqual({ host: 'fd00::53', port: 53 });
    // Loopback only for an agent on the control plane's own machine.
    expect(parseAdvertised('127.0.0.1:7453', '127.0.0.1')).toEqual({ host: '127.0.0.1', port: 7453 });
    expect(parseAdvertised('127.0.0.1:7453', 'localhost')).toEqual({ host: '127.0.0.1', port: 7453 });
    expect(parseAdvertised('127.0.0.1:7453', '10.1.1.1')).toBeUndefined();
    expect(parseAdvertised('[::1]:7453', 'berth.example')).toBeUndefined();
    expect(parseAdvertised('10.0.0.1', 'h')).toBeUndefined();
    expect(parseAdvertised('10.0.0.1:0', 'h')).toBeUndefined();
  });

  it('serves the bridge subnet, loopback and the host’s own addresses only', () => {
    const allowed = containerOrHost('172.30.0.0/16');
    expect(allowed('172.30.4.5')).toBe(true);
    expect(allowed('::ffff:172.30.4.5')).toBe(true);
    expect(allowed('127.0.0.1')).toBe(true);
    expect(allowed('172.31.0.1')).toBe(false);
    expect(allowed('192.0.2.44')).toBe(false);
  });
});
