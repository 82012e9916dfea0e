import { describe, expect, it } from 'vitest';
import { compileServerConfig } from './server-command.js';

const base = { listen: '127.0.0.1:0', dataDir: '/tmp/d', region: 'us-east-1', accountId: '000000000000', logLevel: 'silent', instanceLostAfter: '5m' };

describe('berth server flags', () => {
  it('compiles --store etcd with endpoints, TLS files, prefix, shared dir and replica id', () => {
    const config = compileServerConfig(
      {
        ...base,
        store: 'etcd',
        etcdEndpoints: 'https://10.0.0.1:2379, https://10.0.0.2:2379/',
        etcdCa: 'ca.pem',
        etcdCert: 'c.pem',
        etcdKey: 'k.pem',
        etcdPrefix: 'prod/',
        sharedDir: '/mnt/berth',
        replicaId: 'node-1:7400',
      },
      {},
    );
    expect(config).toMatchObject({
      store: 'etcd',
      etcd: { endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'], ca: 'ca.pem', cert: 'c.pem', key: 'k.pem', prefix: 'prod/' },
      sharedDir: '/mnt/berth',
      replicaId: 'node-1:7400',
    });
  });

  it('takes the endpoints from BERTH_ETCD_ENDPOINTS when the flag is absent', () => {
    const config = compileServerConfig({ ...base, store: 'etcd', sharedDir: '/mnt/b' }, { BERTH_ETCD_ENDPOINTS: 'http://127.0.0.1:2379' });
    expect(config.etcd?.endpoints).toEqual(['http://127.0.0.1:2379']);
  });

  it.each([
    [{ store: 'etcd', sharedDir: '/s' }, /needs --etcd-endpoints/],
    [{ store: 'etcd', etcdEndpoints: 'http://127.0.0.1:2379' }, /needs --shared-dir/],
    [{ store: 'etcd', sharedDir: '/s', etcdEndpoints: '127.0.0.1:2379' }, /invalid etcd endpoint '127.0.0.1:2379'/],
    [{ store: 'etcd', sharedDir: '/s', etcdEndpoints: 'http://h' }, /invalid etcd endpoint/],
    [{ store: 'etcd', sharedDir: '/s', etcdEndpoints: 'http://h:1', etcdCa: 'ca.pem' }, /TLS flags need https/],
    [{ store: 'etcd', sharedDir: '/s', etcdEndpoints: 'https://h:1', etcdCert: 'c.pem' }, /--etcd-cert and --etcd-key go together/],
    [{ store: 'sqlite', etcdEndpoints: 'http://h:1' }, /need --store etcd/],
    [{ store: 'sqlite', replicaId: 'a b' }, /invalid replica id/],
  ] as const)('refuses %o', (flags, message) => {
    expect(() => compileServerConfig({ ...base, ...flags }, {})).toThrow(message);
  });
});

describe('berth server DNS flags', () => {
  it('compiles --dns-listen and --dns-upstream (port 53 by default, IPv6 in brackets)', () => {
    const config = compileServerConfig({ ...base, store: 'memory', dnsListen: '10.0.0.1:53', dnsUpstream: '10.0.0.2, [fd00::1]:5353' }, {});
    expect(config.dnsListen).toEqual({ host: '10.0.0.1', port: 53 });
    expect(config.dnsUpstreams).toEqual([
      { host: '10.0.0.2', port: 53 },
      { host: 'fd00::1', port: 5353 },
    ]);
    expect(compileServerConfig({ ...base, store: 'memory' }, {}).dnsListen).toBeUndefined();
  });

  it('refuses an upstream that is not an address, naming the flag', () => {
    expect(() => compileServerConfig({ ...base, store: 'memory', dnsUpstream: 'dns.example' }, {})).toThrow(/--dns-upstream 'dns.example'/);
    expect(() => compileServerConfig({ ...base, store: 'memory', dnsUpstream: '10.0.0.2:70000' }, {})).toThrow(/--dns-upstream/);
  });

  it('compiles --metrics-listen (off without it) and refuses a bad address', () => {
    expect(compileServerConfig({ ...base, store: 'memory', metricsListen: '127.0.0.1:9400' }, {}).metricsListen).toEqual({ host: '127.0.0.1', port: 9400 });
    expect(compileServerConfig({ ...base, store: 'memory', metricsListen: ':9400' }, {}).metricsListen).toEqual({ host: '0.0.0.0', port: 9400 });
    expect(compileServerConfig({ ...base, store: 'memory' }, {}).metricsListen).toBeUndefined();
    expect(() => compileServerConfig({ ...base, store: 'memory', metricsListen: '9400' }, {})).toThrow(/invalid listen address '9400'/);
  });

  it('BERTH_TIME_SCALE (test-only): one of 1, 2, 3, 6, 12; unset or 1 leaves production behaviour; not with --target-tracking-period', () => {
    expect(compileServerConfig({ ...base, store: 'memory' }, {}).timeScale).toBeUndefined();
    expect(compileServerConfig({ ...base, store: 'memory' }, { BERTH_TIME_SCALE: '1' }).timeScale).toBeUndefined();
    expect(compileServerConfig({ ...base, store: 'memory' }, { BERTH_TIME_SCALE: '12' }).timeScale).toBe(12);
    expect(() => compileServerConfig({ ...base, store: 'memory' }, { BERTH_TIME_SCALE: '7' })).toThrow(/BERTH_TIME_SCALE: '7' is not one of 1, 2, 3, 6, 12/);
    expect(() => compileServerConfig({ ...base, store: 'memory', targetTrackingPeriod: '10' }, { BERTH_TIME_SCALE: '6' })).toThrow(/drop --target-tracking-period/);
  });
});

describe('berth server host group flags', () => {
  it('compiles --host-provisioner (netns and NAME=PATH, repeatable), --host-netns-subnet and --host-registration-timeout', () => {
    const config = compileServerConfig(
      { ...base, store: 'memory', hostProvisioner: ['netns', 'vms=/usr/local/bin/vm-hosts'], hostNetnsSubnet: '10.9.8.0/24', hostRegistrationTimeout: '90s' },
      {},
    );
    expect(config.hostProvisioners).toEqual({ netns: { subnet: '10.9.8.0/24' }, commands: { vms: '/usr/local/bin/vm-hosts' } });
    expect(config.hostRegistrationTimeoutMs).toBe(90_000);
    expect(compileServerConfig({ ...base, store: 'memory' }, {}).hostProvisioners).toBeUndefined();
    expect(() => compileServerConfig({ ...base, store: 'memory', hostProvisioner: ['vms=relative/path'] }, {})).toThrow(/invalid --host-provisioner 'vms=relative\/path'/);
    expect(() => compileServerConfig({ ...base, store: 'memory', hostProvisioner: ['netns'], hostNetnsSubnet: '10.9.8.0/16' }, {})).toThrow(/invalid --host-netns-subnet/);
    expect(() => compileServerConfig({ ...base, store: 'memory', hostNetnsSubnet: '10.9.8.0/24' }, {})).toThrow(/--host-netns-subnet needs --host-provisioner netns/);
  });
});
