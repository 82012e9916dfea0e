import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBusyboxImage, pushImage, type BuiltImage } from '../testing/busybox-image.js';
import { startCountingProxy } from '../testing/counting-proxy.js';
import { startDockerRegistry, type LoopbackRegistry } from '../testing/docker-registry.js';
import { startTokenServer, type TokenServer } from '../testing/registry-token-server.js';
import { PullError, type RegistryCredentials } from './image-service.js';
import { OciImageService } from './oci-image-service.js';

const work = mkdtempSync(join(tmpdir(), 'berth-image-auth-test-'));
const services: OciImageService[] = [];
let image: BuiltImage;
const alice = { username: 'alice', password: 'wonderland' };

function service(): OciImageService {
  const s = new OciImageService({ root: mkdtempSync(join(work, 'store-')) });
  services.push(s);
  return s;
}

/** An auth callback that records which registries it was asked about. */
function credentials(creds: RegistryCredentials | undefined) {
  const asked: string[] = [];
  return {
    asked,
    auth: async (registry: string) => {
      asked.push(registry);
      return creds;
    },
  };
}

beforeAll(async () => {
  image = await buildBusyboxImage(join(work, 'layout'), 'v1', { extraLayer: { 'etc/secret': 'private\n' } });
}, 30_000);

afterAll(async () => {
  try {
    for (const s of services) await s.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('basic authentication (distribution with htpasswd)', () => {
  let registry: LoopbackRegistry;
  beforeAll(async () => {
    registry = await startDockerRegistry({ htpasswd: `alice:${bcrypt.hashSync(alice.password, 6)}\n` });
    await pushImage(image, `${registry.host}/private/app:v1`, alice);
  }, 30_000);
  afterAll(() => registry?.stop());

  it('pulls with the right password, asking the callback with the registry name', async () => {
    const { auth, asked } = credentials(alice);
    const pulled = await service().pull(`${registry.host}/private/app:v1`, { auth });
    expect(pulled.id).toBe(image.configDigest);
    expect(new Set(asked)).toEqual(new Set([registry.host]));
  });

  it('fails with the registry reason for a wrong password, and without credentials', async () => {
    const wrong = service().pull(`${registry.host}/private/app:v1`, { auth: credentials({ ...alice, password: 'nope' }).auth });
    await expect(wrong).rejects.toBeInstanceOf(PullError);
    await expect(service().pull(`${registry.host}/private/app:v1`, { auth: credentials({ ...alice, password: 'nope' }).auth })).rejects.toThrow(
      /answered 401: UNAUTHORIZED: authentication required/,
    );
    await expect(service().pull(`${registry.host}/private/app:v1`)).rejects.toThrow(/requires authentication and no credentials were given/);
  });
});

describe('redirected blob downloads', () => {
  it('follow the redirect without carrying the registry credentials to the other host', async () => {
    const registry = await startDockerRegistry();
    const storage = await startCountingProxy(registry.host);
    const front = await startCountingProxy(registry.host, { redirectBlobsTo: storage.host, basicAuth: alice });
    try {
      await pushImage(image, `${registry.host}/private/app:v1`);
      const pulled = await service().pull(`${front.host}/private/app:v1`, { auth: credentials(alice).auth });
      expect(pulled.id).toBe(image.configDigest);
      expect([...front.blobGets().keys()].sort()).toEqual([...image.layerDigests, image.configDigest].sort());
      expect([...storage.blobGets().keys()].sort()).toEqual([...image.layerDigests, image.configDigest].sort());
      expect(front.requests.filter((r) => r.path.includes('/blobs/')).every((r) => r.authorization?.startsWith('Basic '))).toBe(true);
      expect(storage.requests.filter((r) => r.authorization !== undefined)).toEqual([]);
    } finally {
      await front.stop();
      await storage.stop();
      await registry.stop();
    }
  });
});

describe('bearer tokens (distribution with auth: token, a token server signing RS256 JWTs)', () => {
  let registry: LoopbackRegistry;
  let tokens: TokenServer;
  beforeAll(async () => {
    tokens = await startTokenServer({
      users: { [alice.username]: alice.password },
      refreshTokens: { 'alice-identity-token': alice.username },
      publicRepositories: ['public/app'],
    });
    registry = await startDockerRegistry({ token: tokens.config });
    await pushImage(image, `${registry.host}/private/app:v1`, alice);
    await pushImage(image, `${registry.host}/public/app:v1`, alice);
  }, 30_000);
  afterAll(async () => {
    await registry?.stop();
    await tokens?.stop();
  });

  it('gets a token with the credentials, and reuses it for every request and the next pull', async () => {
    const images = service();
    const before = tokens.issued.length;
    const { auth } = credentials(alice);
    expect((await images.pull(`${registry.host}/private/app:v1`, { auth })).id).toBe(image.configDigest);
    const issued = tokens.issued.slice(before);
    expect(issued).toEqual([{ user: 'alice', scopes: ['repository:private/app:pull'], granted: true }]);
    await images.pull(`${registry.host}/private/app:v1`, { auth });
    expect(tokens.issued.length).toBe(before + 1);
  });

  it('answers a registry it has met before without first being turned away', async () => {
    const proxy = await startCountingProxy(registry.host);
    try {
      const images = service();
      const { auth } = credentials(alice);
      await images.pull(`${proxy.host}/private/app:v1`, { auth });
      const manifestGets = () => proxy.requests.filter((r) => r.path.includes('/manifests/')).length;
      expect(manifestGets()).toBe(2); // anonymous (401), then with a token
      await images.pull(`${proxy.host}/private/app:v1`, { auth });
      expect(manifestGets()).toBe(3);
    } finally {
      await proxy.stop();
    }
  });

  it('keeps tokens apart per credentials: an anonymous pull never rides on a cached token', async () => {
    const images = service();
    await images.pull(`${registry.host}/private/app:v1`, { auth: credentials(alice).auth });
    await expect(images.pull(`${registry.host}/private/app:v1`)).rejects.toThrow(/answered 401: UNAUTHORIZED: authentication required/);
  });

  it('pulls anonymously where the token server grants anonymous pulls', async () => {
    const before = tokens.issued.length;
    expect((await service().pull(`${registry.host}/public/app:v1`)).id).toBe(image.configDigest);
    expect(tokens.issued.slice(before)).toEqual([{ user: undefined, scopes: ['repository:public/app:pull'], granted: true }]);
  });

  it('exchanges an identity token with the OAuth2 refresh-token grant', async () => {
    const before = tokens.issued.length;
    const pulled = await service().pull(`${registry.host}/private/app:v1`, { auth: credentials({ identityToken: 'alice-identity-token' }).auth });
    expect(pulled.id).toBe(image.configDigest);
    expect(tokens.issued.slice(before)).toEqual([{ user: 'alice', scopes: ['repository:private/app:pull'], granted: true }]);
    await expect(service().pull(`${registry.host}/private/app:v1`, { auth: credentials({ identityToken: 'stolen' }).auth })).rejects.toThrow(
      /token server http:\/\/127\.0\.0\.1:\d+ answered 401: unknown refresh token/,
    );
  });

  it('reports the token server refusing a wrong password', async () => {
    await expect(service().pull(`${registry.host}/private/app:v1`, { auth: credentials({ ...alice, password: 'nope' }).auth })).rejects.toThrow(
      /token server http:\/\/127\.0\.0\.1:\d+ answered 401: incorrect username or password/,
    );
  });
});
