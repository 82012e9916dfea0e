import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerFileStore, hostsFile, resolvConfFor } from './container-files.js';

const HOST = 'search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n';

describe('resolv.conf for a container', () => {
  it('drops loopback nameservers a separate namespace cannot reach', () => {
    expect(resolvConfFor(HOST, { hostNetwork: false })).toBe('search corp.example\nnameserver 10.0.0.2\noptions edns0\n');
  });

  it('falls back to public resolvers when the host has only loopback ones', () => {
    expect(resolvConfFor('nameserver 127.0.0.53\n', { hostNetwork: false })).toBe('nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  });

  it("keeps the host's file as it is in host mode", () => {
    expect(resolvConfFor(HOST, { hostNetwork: true })).toBe(HOST);
  });

  it('replaces nameservers and search domains with dnsServers and dnsSearchDomains', () => {
    expect(resolvConfFor(HOST, { hostNetwork: false, dnsServers: ['1.1.1.1', '9.9.9.9'], dnsSearchDomains: ['a.local', 'b.local'] })).toBe(
      'options edns0\nnameserver 1.1.1.1\nnameserver 9.9.9.9\nsearch a.local b.local\n',
    );
  });
});

describe('/etc/hosts for a container', () => {
  it('lists localhost, then each entry with its names', () => {
    expect(hostsFile([{ ip: '172.30.0.5', names: ['web'] }, { ip: '172.30.0.6', names: ['database', 'db'] }])).toBe(
      '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n172.30.0.5\tweb\n172.30.0.6\tdatabase db\n',
    );
  });
});

describe('the container file store', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-files-'));
  const hostResolv = join(root, 'host-resolv.conf');
  const hostHosts = join(root, 'host-hosts');
  writeFileSync(hostResolv, HOST);
  writeFileSync(hostHosts, '127.0.0.1\tlocalhost\n10.0.0.5\tbuild-host');
  const store = new ContainerFileStore(join(root, 'containers'), hostResolv, hostHosts);
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('writes hostname, hosts and resolv.conf, and rewrites hosts in place (the bind mount keeps the inode)', async () => {
    const paths = await store.prepare('c1', { hostname: 'web', hostNetwork: false, hosts: [{ ip: '10.1.2.3', names: ['api'] }], dnsServers: ['10.0.0.9'] });
    expect(readFileSync(paths.hostname, 'utf8')).toBe('web\n');
    expect(readFileSync(paths.hosts, 'utf8')).toContain('10.1.2.3\tapi\n');
    expect(readFileSync(paths.resolvConf, 'utf8')).toContain('nameserver 10.0.0.9\n');
    const inode = statSync(paths.hosts).ino;
    await store.writeHosts('c1', [{ ip: '172.30.0.9', names: ['web'] }]);
    expect(statSync(paths.hosts).ino).toBe(inode);
    expect(readFileSync(paths.hosts, 'utf8')).toMatch(/172\.30\.0\.9\tweb\n$/);
    await store.remove('c1');
    expect(() => statSync(paths.hosts)).toThrow();
  });

  it("gives a host-network container the host's /etc/hosts with its extraHosts added", async () => {
    const paths = await store.prepare('c2', { hostname: 'h', hostNetwork: true, hosts: [{ ip: '10.1.2.3', names: ['api'] }] });
    expect(readFileSync(paths.hosts, 'utf8')).toBe('127.0.0.1\tlocalhost\n10.0.0.5\tbuild-host\n10.1.2.3\tapi\n');
  });
});
