import { mkdtempSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage, type BuiltImage } from '../testing/busybox-image.js';
import { startDockerRegistry, type LoopbackRegistry } from '../testing/docker-registry.js';
import { makeSelfSignedCert, type SelfSignedCert } from '../testing/self-signed-cert.js';
import { PullError } from './image-service.js';
import { OciImageService, type OciImageServiceOptions } from './oci-image-service.js';

/** A non-loopback IPv4 address of this machine: registries there get HTTPS unless listed as insecure. */
function hostAddress(): string | undefined {
  const all = Object.entries(networkInterfaces()).flatMap(([name, addrs]) =>
    (addrs ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => ({ name, address: a.address })),
  );
  return (all.find((a) => /^(eth|en)/.test(a.name)) ?? all[0])?.address;
}

const address = hostAddress();
const work = mkdtempSync(join(tmpdir(), 'berth-image-transport-test-'));
const services: OciImageService[] = [];
let image: BuiltImage;

function service(options: Partial<OciImageServiceOptions> = {}): OciImageService {
  const s = new OciImageService({ root: mkdtempSync(join(work, 'store-')), ...options });
  services.push(s);
  return s;
}

beforeAll(async () => {
  image = await buildBusyboxImage(join(work, 'layout'), 'v1');
}, 30_000);

afterAll(async () => {
  try {
    for (const s of services) await s.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe.skipIf(!address)(`registries off loopback (${address})`, () => {
  describe('over HTTPS', () => {
    let registry: LoopbackRegistry;
    let cert: SelfSignedCert;
    beforeAll(async () => {
      cert = await makeSelfSignedCert(mkdtempSync(join(work, 'cert-')), { commonName: 'berth-test-registry', ips: [address!] });
      registry = await startDockerRegistry({ address: address!, tls: cert });
      await pushImage(image, `${registry.host}/secure/app:v1`);
    }, 30_000);
    afterAll(() => registry?.stop());

    it('verifies the certificate: an untrusted one fails the pull, a configured CA makes it pass', async () => {
      const untrusted = service().pull(`${registry.host}/secure/app:v1`);
      await expect(untrusted).rejects.toBeInstanceOf(PullError);
      await expect(service().pull(`${registry.host}/secure/app:v1`)).rejects.toThrow(/cannot reach .*self[- ]signed certificate/);
      const trusted = await service({ ca: cert.certPem }).pull(`${registry.host}/secure/app:v1`);
      expect(trusted.id).toBe(image.configDigest);
    });
  });

  describe('over plain HTTP', () => {
    let registry: LoopbackRegistry;
    beforeAll(async () => {
      registry = await startDockerRegistry({ address: address! });
      await pushImage(image, `${registry.host}/plain/app:v1`);
    }, 30_000);
    afterAll(() => registry?.stop());

    it('speaks HTTPS unless the registry is listed as insecure (by host:port, host or CIDR)', async () => {
      await expect(service().pull(`${registry.host}/plain/app:v1`)).rejects.toThrow(/cannot reach .*does not seem to speak HTTPS/);
      for (const entry of [registry.host, address!, `${address}/32`]) {
        expect((await service({ insecureRegistries: [entry] }).pull(`${registry.host}/plain/app:v1`)).id).toBe(image.configDigest);
      }
    });
  });
});
