import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcdCluster, type EtcdCluster } from '../testing/etcd.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../testing/self-signed-cert.js';
import { EtcdStore } from './etcd.js';

/**
 * The etcd backend over TLS with client certificates (`--etcd-ca/--etcd-cert/--etcd-key`), against a real
 * etcd started with `--client-cert-auth`: the trusted certificate gets in, another is refused.
 */
let dir: string;
let etcd: EtcdCluster;
let trusted: SelfSignedCert;
let stranger: SelfSignedCert;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-etcd-tls-'));
  mkdirSync(join(dir, 'trusted'));
  mkdirSync(join(dir, 'stranger'));
  // One self-signed certificate serves as etcd's own, as the CA it trusts for clients, and as the client's.
  trusted = await makeSelfSignedCert(join(dir, 'trusted'), { commonName: 'berth-test', ips: ['127.0.0.1'] });
  stranger = await makeSelfSignedCert(join(dir, 'stranger'), { commonName: 'stranger', ips: ['127.0.0.1'] });
  etcd = await startEtcdCluster({ tls: { certFile: trusted.certPath, keyFile: trusted.keyPath, clientCaFile: trusted.certPath } });
});

afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('EtcdStore over TLS', () => {
  it('reads and writes through https endpoints with a client certificate etcd trusts', async () => {
    expect(etcd.endpoints[0]).toMatch(/^https:\/\//);
    const store = await EtcdStore.open({
      endpoints: etcd.endpoints,
      prefix: 'tls/',
      tls: { ca: trusted.certPath, cert: trusted.certPath, key: trusted.keyPath },
    });
    try {
      const { succeeded } = await store.txn([], [{ type: 'put', key: 'k', value: 'over tls' }]);
      expect(succeeded).toBe(true);
      expect((await store.get('k'))?.value).toBe('over tls');
    } finally {
      await store.close();
    }
  });

  it('is refused with a certificate etcd does not trust, with an error naming the endpoint', async () => {
    const opening = EtcdStore.open({
      endpoints: etcd.endpoints,
      prefix: 'tls/',
      deadlineMs: 2_000,
      tls: { ca: trusted.certPath, cert: stranger.certPath, key: stranger.keyPath },
    });
    const error = (await opening.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(etcd.endpoints[0]!);
    // The handshake is what fails (etcd asks for a certificate it trusts), not anything else.
    expect(error.message).toMatch(/bad certificate/);
  });
});
