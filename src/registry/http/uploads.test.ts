import { CreateRepositoryCommand, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { pushBlob, registryFetch, registryLogin, sha256, type RegistryHttp } from '../../testing/registry-client.js';

let api: ApiFixture;
let reg: RegistryHttp;
let registryDir: string;

beforeAll(async () => {
  api = await startApiFixture();
  reg = await registryLogin(api.ecr, new GetAuthorizationTokenCommand({}), api.server.url);
  registryDir = api.server.registry.blobs.root;
  for (const name of ['up/one', 'up/two', 'up/three']) await api.ecr.send(new CreateRepositoryCommand({ repositoryName: name }));
});
afterAll(() => api.stop());

const blobFiles = () => {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) e.isDirectory() ? walk(join(dir, e.name)) : out.push(e.name);
  };
  walk(join(registryDir, 'blobs'));
  return out;
};
const errorCode = async (res: Response) => ((await res.json()) as { errors: { code: string }[] }).errors[0]!.code;

describe('blob uploads', () => {
  it('takes a monolithic POST ?digest= and serves the blob back with HEAD and GET', async () => {
    const data = randomBytes(5000);
    const digest = await pushBlob(reg, 'up/one', data);
    const head = await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('5000');
    expect(head.headers.get('docker-content-digest')).toBe(digest);
    const get = await registryFetch(reg, `/v2/up/one/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
    // Named `<hex>.<suffix>`: see BlobRecord.file.
    expect(blobFiles().map((name) => name.split('.')[0])).toContain(digest.slice(7));
  });

  it('takes POST then chunked PATCHes with Content-Range, reports status, and completes with PUT', async () => {
    const data = randomBytes(30_000);
    const digest = sha256(data);
    const start = await registryFetch(reg, '/v2/up/one/blobs/uploads/', { method: 'POST' });
    expect(start.status).toBe(202);
    let location = start.headers.get('location')!;
    expect(location).toMatch(/^\/v2\/up\/one\/blobs\/uploads\/[0-9a-f-]{36}$/);
    expect(start.headers.get('docker-upload-uuid')).toBe(location.split('/').at(-1));
    for (const [from, to] of [[0, 9999], [10_000, 19_999]] as const) {
      const patch = await registryFetch(reg, location, {
        method: 'PATCH',
        body: data.subarray(from, to + 1),
        headers: { 'content-range': `${from}-${to}`, 'content-type': 'application/octet-stream' },
      });
      expect(patch.status).toBe(202);
      expect(patch.headers.get('range')).toBe(`0-${to}`);
      location = patch.headers.get('location')!;
    }
    const status = await registryFetch(reg, location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-19999');
    // The last chunk travels with the closing PUT.
    const put = await registryFetch(reg, `${location}?digest=${digest}`, {
      method: 'PUT',
      body: data.subarray(20_000),
      headers: { 'content-range': '20000-29999', 'content-type': 'application/octet-stream' },
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/up/one/blobs/${digest}`);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    const get = await registryFetch(reg, `/v2/up/one/blobs/${digest}`);
    expect(Buffer.from(await get.arrayBuffer()).equals(data)).toBe(true);
    expect((await registryFetch(reg, location)).status).toBe(404);
  });

  it('answers an out-of-order chunk with 416 and the current range, and the upload goes on', async () => {
    const data = randomBytes(2000);
    const location = (await registryFetch(reg, '/v2/up/one/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    expect((await registryFetch(reg, location, { method: 'PATCH', body: data.subarray(0, 1000), headers: { 'content-range': '0-999' } })).status).toBe(202);
    const skip = await registryFetch(reg, location, { method: 'PATCH', body: data.subarray(1500), headers: { 'content-range': '1500-1999' } });
    expect(skip.status).toBe(416);
    expect(skip.headers.get('range')).toBe('0-999');
    expect(await errorCode(skip)).toBe('BLOB_UPLOAD_INVALID');
    const lying = await registryFetch(reg, location, { method: 'PATCH', body: data.subarray(1000, 1500), headers: { 'content-range': '1000-1999' } });
    expect(lying.status).toBe(416);
    expect((await registryFetch(reg, location)).headers.get('range')).toBe('0-999');
    const put = await registryFetch(reg, `${location}?digest=${sha256(data)}`, { method: 'PUT', body: data.subarray(1000), headers: { 'content-range': '1000-1999' } });
    expect(put.status).toBe(201);
  });

  it('refuses a wrong digest with DIGEST_INVALID and stores nothing', async () => {
    const data = randomBytes(4096);
    const before = blobFiles();
    const wrong = sha256('something else');
    const mono = await registryFetch(reg, `/v2/up/one/blobs/uploads/?digest=${wrong}`, { method: 'POST', body: data });
    expect(mono.status).toBe(400);
    expect(await errorCode(mono)).toBe('DIGEST_INVALID');
    const location = (await registryFetch(reg, '/v2/up/one/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    const put = await registryFetch(reg, `${location}?digest=${wrong}`, { method: 'PUT', body: data });
    expect(put.status).toBe(400);
    expect(await errorCode(put)).toBe('DIGEST_INVALID');
    for (const digest of [wrong, sha256(data)]) expect((await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    expect(blobFiles()).toEqual(before);
    expect((await registryFetch(reg, location)).status).toBe(404);
    const malformed = await registryFetch(reg, '/v2/up/one/blobs/uploads/?digest=sha256:zz', { method: 'POST', body: data });
    expect(await errorCode(malformed)).toBe('DIGEST_INVALID');
    const md5 = await registryFetch(reg, `/v2/up/one/blobs/uploads/?digest=md5:${'a'.repeat(32)}`, { method: 'POST', body: data });
    expect(md5.status).toBe(400);
  });

  it('cancels an upload with DELETE', async () => {
    const location = (await registryFetch(reg, '/v2/up/one/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    await registryFetch(reg, location, { method: 'PATCH', body: randomBytes(100) });
    expect((await registryFetch(reg, location, { method: 'DELETE' })).status).toBe(204);
    const after = await registryFetch(reg, location);
    expect(after.status).toBe(404);
    expect(await errorCode(after)).toBe('BLOB_UPLOAD_UNKNOWN');
    expect(readdirSync(join(registryDir, 'uploads'))).toEqual([]);
  });

  it('keeps an upload at its last good offset when the client disconnects mid-chunk', async () => {
    const location = (await registryFetch(reg, '/v2/up/one/blobs/uploads/', { method: 'POST' })).headers.get('location')!;
    const url = new URL(location, reg.base);
    await new Promise<void>((resolve) => {
      const req = httpRequest(url, {
        method: 'PATCH',
        headers: { authorization: `Basic ${Buffer.from(`AWS:${reg.password}`).toString('base64')}`, 'content-length': String(3 * 1024 * 1024) },
      });
      req.on('error', () => resolve());
      req.write(randomBytes(1536 * 1024), () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    // Wait until the server has noticed the disconnect and rolled the chunk back.
    const id = location.split('/').at(-1)!;
    let session = await api.server.registry.uploads.get('up/one', id);
    const deadline = Date.now() + 5000;
    while (session.writing && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      session = await api.server.registry.uploads.get('up/one', id);
    }
    expect(session.writing).toBe(false);
    expect(statSync(session.path).size).toBe(0);
    const status = await registryFetch(reg, location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-0');
    // And the session still works from there.
    const data = randomBytes(10);
    expect((await registryFetch(reg, `${location}?digest=${sha256(data)}`, { method: 'PUT', body: data })).status).toBe(201);
  });

  it('stores one copy when two uploads of the same blob finish at once', async () => {
    const data = randomBytes(200_000);
    const results = await Promise.all(Array.from({ length: 4 }, () => pushBlob(reg, 'up/two', data)));
    expect(new Set(results)).toEqual(new Set([sha256(data)]));
    const get = await registryFetch(reg, `/v2/up/two/blobs/${sha256(data)}`);
    expect(sha256(Buffer.from(await get.arrayBuffer()))).toBe(sha256(data));
    expect(readdirSync(join(registryDir, 'uploads'))).toEqual([]);
  });

  it('mounts a blob from another repository, and starts an upload when it cannot', async () => {
    const data = randomBytes(3000);
    const digest = await pushBlob(reg, 'up/one', data);
    expect((await registryFetch(reg, `/v2/up/three/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
    const mount = await registryFetch(reg, `/v2/up/three/blobs/uploads/?mount=${digest}&from=up/one`, { method: 'POST' });
    expect(mount.status).toBe(201);
    expect(mount.headers.get('location')).toBe(`/v2/up/three/blobs/${digest}`);
    expect((await registryFetch(reg, `/v2/up/three/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    const missing = sha256('not here');
    const fallback = await registryFetch(reg, `/v2/up/three/blobs/uploads/?mount=${missing}&from=up/one`, { method: 'POST' });
    expect(fallback.status).toBe(202);
    expect(fallback.headers.get('location')).toMatch(/\/v2\/up\/three\/blobs\/uploads\//);
  });

  it('serves byte ranges', async () => {
    const data = randomBytes(1000);
    const digest = await pushBlob(reg, 'up/one', data);
    const part = await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(100, 200))).toBe(true);
    const tail = await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(data.subarray(990))).toBe(true);
    const open = await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { headers: { range: 'bytes=900-' } });
    expect((await open.arrayBuffer()).byteLength).toBe(100);
    const outside = await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { headers: { range: 'bytes=5000-6000' } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe('bytes */1000');
  });

  it('serves a large blob whole and in ranges that cross read chunks', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const digest = await pushBlob(reg, 'up/one', data);
    const whole = await registryFetch(reg, `/v2/up/one/blobs/${digest}`);
    expect(whole.headers.get('content-length')).toBe(String(data.length));
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(digest);
    const from = 2 * 1024 * 1024 - 10;
    const to = 4 * 1024 * 1024 + 10;
    const part = await registryFetch(reg, `/v2/up/one/blobs/${digest}`, { headers: { range: `bytes=${from}-${to}` } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(from, to + 1))).toBe(true);
    // Several at once share the buffer pool without mixing bytes.
    const bodies = await Promise.all(Array.from({ length: 6 }, () => registryFetch(reg, `/v2/up/one/blobs/${digest}`).then((r) => r.arrayBuffer())));
    for (const body of bodies) expect(sha256(Buffer.from(body))).toBe(digest);
  });

  it('deletes a blob from a repository', async () => {
    const digest = await pushBlob(reg, 'up/two', randomBytes(100));
    expect((await registryFetch(reg, `/v2/up/two/blobs/${digest}`, { method: 'DELETE' })).status).toBe(202);
    const gone = await registryFetch(reg, `/v2/up/two/blobs/${digest}`);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe('BLOB_UNKNOWN');
    expect((await registryFetch(reg, `/v2/up/two/blobs/${digest}`, { method: 'DELETE' })).status).toBe(404);
  });

  it('refuses bad and unknown repository names before taking any bytes', async () => {
    const bad = await registryFetch(reg, '/v2/Up/One/blobs/uploads/', { method: 'POST' });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('NAME_INVALID');
    const unknown = await registryFetch(reg, `/v2/up/nope/blobs/uploads/?digest=${sha256('x')}`, { method: 'POST', body: 'x' });
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe('NAME_UNKNOWN');
    expect(await errorCode(await registryFetch(reg, `/v2/up/nope/blobs/${sha256('x')}`))).toBe('NAME_UNKNOWN');
  });
});
