import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { parseProcNetPorts, readBoundPorts } from './bound-ports.js';
import { HostPortAllocator, PortAllocationError } from './port-allocator.js';

const nothingBound = () => new Set<number>();

describe('dynamic host ports', () => {
  it('come from 49153–65535, never twice, until every one is taken, then fail clearly', () => {
    const ports = new HostPortAllocator({ boundPorts: nothingBound });
    const seen = new Set<number>();
    for (let i = 0; i < 65535 - 49153 + 1 - 2; i++) {
      const port = ports.allocate(`task-${i % 100}`, 'tcp');
      expect(port).toBeGreaterThanOrEqual(49153);
      expect(port).toBeLessThanOrEqual(65535);
      expect(seen.has(port)).toBe(false);
      seen.add(port);
    }
    // 51678 and 51679 are reserved by default, so that was every port.
    expect(seen.has(51678) || seen.has(51679)).toBe(false);
    expect(() => ports.allocate('one-more', 'tcp')).toThrow(
      new PortAllocationError('exhausted', 'no free tcp host port in 49153–65535: 16381 held by tasks, 2 reserved, 0 bound by other processes'),
    );
    // UDP ports are a separate resource.
    expect(ports.allocate('udp-task', 'udp')).toBe(49153);
  });

  it('skip reserved ports and ports bound on the host, and reuse a released port last', () => {
    const ports = new HostPortAllocator({
      dynamicRange: { first: 50000, last: 50005 },
      reservedTcp: [50001],
      boundPorts: (protocol) => new Set(protocol === 'tcp' ? [50002] : []),
    });
    expect([ports.allocate('a', 'tcp'), ports.allocate('b', 'tcp'), ports.allocate('c', 'tcp')]).toEqual([50000, 50003, 50004]);
    ports.release('a');
    expect(ports.allocate('d', 'tcp')).toBe(50005);
    expect(ports.allocate('e', 'tcp')).toBe(50000);
    expect(() => ports.allocate('f', 'tcp')).toThrow('no free tcp host port in 50000–50005: 4 held by tasks, 1 reserved, 1 bound by other processes');
    expect([ports.allocate('u', 'udp'), ports.allocate('u', 'udp')]).toEqual([50000, 50001]);
  });

  it('skip a port a real process is listening on', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(readBoundPorts('tcp').has(port)).toBe(true);
      const ports = new HostPortAllocator({ dynamicRange: { first: port, last: port }, reservedTcp: [] });
      expect(() => ports.allocate('x', 'tcp')).toThrow(`no free tcp host port in ${port}–${port}: 0 held by tasks, 0 reserved, 1 bound by other processes`);
    } finally {
      server.close();
    }
    const udp = createSocket('udp6');
    await new Promise<void>((resolve) => udp.bind(0, resolve));
    try {
      expect(readBoundPorts('udp').has(udp.address().port)).toBe(true);
    } finally {
      udp.close();
    }
  });
});

describe('fixed host ports', () => {
  it('are reserved exactly, all or none, and refused when reserved or held by another owner', () => {
    const ports = new HostPortAllocator({ reservedUdp: [53], boundPorts: nothingBound });
    ports.reserve('web', [{ port: 8080, protocol: 'tcp' }, { port: 8080, protocol: 'udp' }]);
    ports.reserve('web', [{ port: 8080, protocol: 'tcp' }]); // the same owner again: a no-op
    expect(() => ports.reserve('api', [{ port: 9090, protocol: 'tcp' }, { port: 8080, protocol: 'tcp' }])).toThrow(
      new PortAllocationError('taken', 'host port 8080/tcp is already held by web'),
    );
    expect(() => ports.reserve('ssh', [{ port: 22, protocol: 'tcp' }])).toThrow('host port 22/tcp is reserved on this instance (ECS_RESERVED_PORTS)');
    expect(() => ports.reserve('dns', [{ port: 53, protocol: 'udp' }])).toThrow('(ECS_RESERVED_PORTS_UDP)');
    expect(() => ports.reserve('x', [{ port: 0, protocol: 'tcp' }])).toThrow('host port 0 must be an integer from 1 to 65535');
    expect(() => ports.reserve('x', [{ port: 80, protocol: 'sctp' as 'tcp' }])).toThrow('protocol "sctp" must be "tcp" or "udp"');
    expect(() => ports.reserve('', [{ port: 80, protocol: 'tcp' }])).toThrow('port owner "" must be a non-empty string');
    // The refused reservation of 9090 held nothing.
    expect(ports.holdings()).toEqual([
      { owner: 'web', port: 8080, protocol: 'tcp' },
      { owner: 'web', port: 8080, protocol: 'udp' },
    ]);
    ports.release('web');
    ports.reserve('api', [{ port: 8080, protocol: 'tcp' }]);
    expect(ports.holdings()).toEqual([{ owner: 'api', port: 8080, protocol: 'tcp' }]);
  });

  it('a dynamic allocation never hands out a fixed port someone holds', () => {
    const ports = new HostPortAllocator({ dynamicRange: { first: 50000, last: 50002 }, boundPorts: nothingBound });
    ports.reserve('fixed', [{ port: 50000, protocol: 'tcp' }, { port: 50002, protocol: 'tcp' }]);
    expect(ports.allocate('dyn', 'tcp')).toBe(50001);
    expect(() => ports.allocate('dyn2', 'tcp')).toThrow(/no free tcp host port/);
  });
});

describe('restoring after an agent restart', () => {
  it('takes back the holdings a previous allocator reported, so nothing is handed out twice', () => {
    const before = new HostPortAllocator({ boundPorts: nothingBound });
    before.reserve('web', [{ port: 8080, protocol: 'tcp' }]);
    const dynamic = [before.allocate('web', 'tcp'), before.allocate('api', 'tcp'), before.allocate('api', 'udp')];
    const after = new HostPortAllocator({ holdings: JSON.parse(JSON.stringify(before.holdings())), boundPorts: nothingBound });
    expect(after.holdings()).toEqual(before.holdings());
    expect(() => after.reserve('other', [{ port: 8080, protocol: 'tcp' }])).toThrow('already held by web');
    const next = after.allocate('new', 'tcp');
    expect(dynamic).not.toContain(next);
    after.release('api');
    expect(after.holdings().map((h) => h.owner)).toEqual(['web', 'web', 'new']);
  });

  it('refuses holdings that give one port to two owners', () => {
    expect(
      () =>
        new HostPortAllocator({
          holdings: [
            { owner: 'a', port: 8080, protocol: 'tcp' },
            { owner: 'b', port: 8080, protocol: 'tcp' },
          ],
        }),
    ).toThrow('holdings list host port 8080/tcp for both a and b');
  });

  it('refuses bad settings', () => {
    expect(() => new HostPortAllocator({ reservedTcp: [70000] })).toThrow('reserved TCP port 70000 must be an integer from 1 to 65535');
    expect(() => new HostPortAllocator({ dynamicRange: { first: 60000, last: 50000 } })).toThrow('dynamic port range 60000–50000');
  });
});

describe('/proc/net socket tables', () => {
  it('yield the local port of every socket, IPv4 and IPv6', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1',
      '',
    ].join('\n');
    expect(parseProcNetPorts(tcp)).toEqual(new Set([22, 50000]));
    const tcp6 = [
      '  sl  local_address                         remote_address                        st',
      '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000',
    ].join('\n');
    expect(parseProcNetPorts(tcp6)).toEqual(new Set([8080]));
  });
});
