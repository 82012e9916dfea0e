import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRecord, NamespaceRecord, ServiceRecord } from '../state/records/cloudmap.js';
import { Directory } from './directory.js';
import { DnsServer } from './dns-server.js';

const log = { error: () => {}, warn: () => {} };
const servers: DnsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function directory(instances: number, idPrefix = 'i-'): Directory {
  const d = new Directory();
  d.putNamespace({ id: 'ns', arn: 'a', name: 'big.internal', type: 'DNS_PRIVATE', createOperationId: 'o', httpName: 'big.internal', serviceCount: 1, tags: [], createDate: 0, soaTtl: 15 } satisfies NamespaceRecord);
  d.putService({
    id: 's',
    arn: 'a',
    name: 'svc',
    namespaceId: 'ns',
    dns: { routingPolicy: 'MULTIVALUE', records: [{ Type: 'A', TTL: 5 }, { Type: 'SRV', TTL: 5 }] },
    customHealth: false,
    type: 'DNS_HTTP',
    attributes: {},
    instanceRevision: 0,
    instanceCount: instances,
    tags: [],
    createDate: 0,
  } satisfies ServiceRecord);
  for (let i = 0; i < instances; i++) d.putInstance({ id: `${idPrefix}${i}`, serviceId: 's', attributes: { AWS_INSTANCE_IPV4: `10.0.0.${i}`, AWS_INSTANCE_PORT: '80' }, health: 'HEALTHY' } satisfies InstanceRecord);
  return d;
}

async function start(upstreams: { host: string; port: number }[] = [], idPrefix?: string): Promise<DnsServer> {
  const server = new DnsServer({ host: '127.0.0.1', port: 0, directory: directory(8, idPrefix), upstreams, log, forwardTimeoutMs: 300 });
  servers.push(server);
  await server.start();
  return server;
}

async function udp(port: number, message: Buffer): Promise<Buffer> {
  const socket = createSocket('udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), 2000);
      socket.on('message', (msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      socket.send(message, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

const query = (name: string, type: 'A' | 'SRV', edns = false) =>
  dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0, options: [] } as unknown as dnsPacket.Answer] } : {}),
  });

describe('the DNS server on its sockets', () => {
  it('drops the additional section first (no TC) when only the answers fit in 512 bytes; sends it whole with EDNS', async () => {
    const server = await start();
    // 8 SRV answers (about 480 bytes) and their 8 addresses (about 290 more): over 512 and under EDNS's 1232.
    const name = 'svc.big.internal';
    const plain = dnsPacket.decode(await udp(server.port, query(name, 'SRV')));
    expect(plain.id).toBe(4242);
    expect(plain.flag_tc).toBe(false);
    expect(plain.answers).toHaveLength(8);
    expect(plain.additionals).toEqual([]);
    const edns = dnsPacket.decode(await udp(server.port, query(name, 'SRV', true)));
    expect(edns.flag_tc).toBe(false);
    expect(edns.flag_aa).toBe(true);
    expect(edns.answers).toHaveLength(8);
    expect(edns.additionals!.filter((a) => a.type === 'A')).toHaveLength(8);
  });

  it('truncates a UDP answer whose answers alone are over 512 bytes for a client without EDNS', async () => {
    const server = await start([], 'task-0123456789abcdef0123456789abcdef-');
    // 8 SRV answers naming 50-character targets: about 750 bytes without the additional section.
    const plain = dnsPacket.decode(await udp(server.port, query('svc.big.internal', 'SRV')));
    expect(plain.flag_tc).toBe(true);
    expect(plain.answers).toEqual([]);
    const edns = dnsPacket.decode(await udp(server.port, query('svc.big.internal', 'SRV', true)));
    expect(edns.flag_tc).toBe(false);
    expect(edns.answers).toHaveLength(8);
  });

  it('answers garbage with FORMERR (when it has a header) and a name nobody can forward with SERVFAIL', async () => {
    const server = await start();
    const garbage = Buffer.alloc(14, 0xff);
    garbage.writeUInt16BE(77, 0);
    garbage.writeUInt16BE(0x0100, 2);
    const formerr = dnsPacket.decode(await udp(server.port, garbage));
    expect(formerr).toMatchObject({ id: 77, rcode: 'FORMERR' });
    expect(dnsPacket.decode(await udp(server.port, query('example.org', 'A')))).toMatchObject({ id: 4242, rcode: 'SERVFAIL' });
  });

  it('tries the next upstream when one does not answer', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((ok) => silent.bind(0, '127.0.0.1', () => ok()));
    const answering = createSocket('udp4');
    answering.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      answering.send(dnsPacket.encode({ type: 'response', id: q.id!, questions: q.questions!, answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 9, class: 'IN', data: '192.0.2.1' }] }), rinfo.port, rinfo.address);
    });
    await new Promise<void>((ok) => answering.bind(0, '127.0.0.1', () => ok()));
    try {
      const server = await start([
        { host: '127.0.0.1', port: silent.address().port },
        { host: '127.0.0.1', port: answering.address().port },
      ]);
      const answer = dnsPacket.decode(await udp(server.port, query('example.org', 'A')));
      expect(answer).toMatchObject({ id: 4242, rcode: 'NOERROR' });
      expect(answer.answers).toEqual([expect.objectContaining({ type: 'A', data: '192.0.2.1' })]);
    } finally {
      silent.close();
      answering.close();
    }
  });
});
