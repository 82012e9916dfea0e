import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

  it("names berth's DNS server (BERTH_DNS_SERVER) as the only nameserver, in every network mode, keeping search and options", () => {
    expect(resolvConfFor(HOST, { hostNetwork: false }, '10.99.0.1')).toBe('search corp.example\noptions edns0\nnameserver 10.99.0.1\n');
    expect(resolvConfFor(HOST, { hostNetwork: true }, '10.99.0.1')).toBe('search corp.example\noptions edns0\nnameserver 10.99.0.1\n');
    expect(resolvConfFor(HOST, { hostNetwork: false, dnsSearchDomains: ['svc.local'] }, '10.99.0.1')).toBe('options edns0\nnameserver 10.99.0.1\nsearch svc.local\n');
  });

  it("lets the task definition's dnsServers override berth's DNS server", () => {
    expect(resolvConfFor(HOST, { hostNetwork: false, dnsServers: ['1.1.1.1'] }, '10.99.0.1')).toBe('search corp.example\noptions edns0\nnameserver 1.1.1.1\n');
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

describe("an image's user database", () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-users-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rootfs = (name: string, passwd: string) => {
    const root = join(dir, name);
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'passwd'), passwd);
    return root;
  };

  it('is read from the first rootfs of an image, then known without waiting for another', async () => {
    const store = new ContainerFileStore(join(dir, 'containers'));
    const first = await store.userDatabase('sha256:a', Promise.resolve(rootfs('a1', 'app:x:1000:1000::/:/bin/sh\n')));
    expect(first).toEqual({ passwd: 'app:x:1000:1000::/:/bin/sh\n' });
    // A second container of the image: its rootfs is not even mounted yet.
    expect(await store.userDatabase('sha256:a', new Promise<string>(() => {}))).toEqual(first);
    // Another image is read from its own rootfs.
    expect(await store.userDatabase('sha256:b', Promise.resolve(rootfs('b1', 'web:x:33:33::/:/bin/sh\n')))).toEqual({ passwd: 'web:x:33:33::/:/bin/sh\n' });
  });

  it('a rootfs that failed fails the read, and nothing is kept for the image', async () => {
    const store = new ContainerFileStore(join(dir, 'containers'));
    await expect(store.userDatabase('sha256:c', Promise.reject(new Error('mount failed')))).rejects.toThrow('mount failed');
    expect(await store.userDatabase('sha256:c', Promise.resolve(rootfs('c1', 'x:x:5:5::/:/bin/sh\n')))).toEqual({ passwd: 'x:x:5:5::/:/bin/sh\n' });
  });
});
