import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDigest } from '../../model/registry/names.js';
import { keys } from '../../state/keys.js';
import type { RepositoryRecord } from '../../state/records/registry.js';
import { MemoryStore } from '../../store/memory.js';
import { basicAuth, pushTestImage, registryFetch, sha256, testImage, type RegistryHttp } from '../../testing/registry-client.js';
import { openRegistry, type Registry } from '../registry.js';
import { buildRegistryServer } from './server.js';
import { CLAIMED_IDLE_FACTOR } from '../upload-sweep.js';

/**
 * Two registries (as two `berth server` replicas would run them) on one Store and one directory, each
 * with its own HTTP listener, hash states and in-process everything: whatever one acknowledges, the other
 * must be able to continue or serve.
 */
const GRACE = 60_000;
const REPO = 'rep/app';
const log = pino({ level: 'silent' });
let dir: string;
let store: MemoryStore;
let clock: number;
const registries: Registry[] = [];
const servers: FastifyInstance[] = [];
let a: { registry: Registry; http: RegistryHttp };
let b: { registry: Registry; http: RegistryHttp };

async function replica(): Promise<{ registry: Registry; http: RegistryHttp }> {
  const registry = await openRegistry({ store, dir, log, now: () => clock, gcGraceMs: GRACE, uploadIdleMs: GRACE });
  const server = await buildRegistryServer({ logger: log, registry });
  const url = await server.listen({ host: '127.0.0.1', port: 0 });
  registries.push(registry);
  servers.push(server);
  return { registry, http: { base: url, password: registry.tokens.issue('test').password } };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-replicas-test-'));
  store = new MemoryStore();
  clock = Date.now();
  const record: RepositoryRecord = {
    name: REPO,
    createdAt: clock,
    imageTagMutability: 'MUTABLE',
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: 'AES256' },
    tags: [],
  };
  await store.txn([], [{ type: 'put', key: keys.repository(REPO), value: JSON.stringify(record) }]);
  a = await replica();
  b = await replica();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all(registries.map((r) => r.stop()));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const patch = (reg: RegistryHttp, location: string, data: Uint8Array, from: number) =>
  registryFetch(reg, location, { method: 'PATCH', body: data, headers: { 'content-range': `${from}-${from + data.length - 1}` } });
const start = async (reg: RegistryHttp) => (await registryFetch(reg, `/v2/${REPO}/blobs/uploads/`, { method: 'POST' })).headers.get('location')!;
async function* chunks(...buffers: Buffer[]): AsyncGenerator<Buffer> {
  yield* buffers;
}
const idOf = (location: string) => location.split('/').at(-1)!;
const bytesOf = async (res: Response) => Buffer.from(await res.arrayBuffer());

describe('the registry on several replicas', () => {
  it('takes an upload whose requests alternate between replicas, and serves blob and manifest from either', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const cuts = [0, 1024 * 1024, 2 * 1024 * 1024 + 5, data.length];
    const location = await start(a.http);
    expect((await patch(b.http, location, data.subarray(cuts[0], cuts[1]), cuts[0]!)).status).toBe(202);
    const second = await patch(a.http, location, data.subarray(cuts[1], cuts[2]), cuts[1]!);
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe(`0-${cuts[2]! - 1}`);
    expect((await registryFetch(b.http, location)).headers.get('range')).toBe(`0-${cuts[2]! - 1}`);
    const put = await registryFetch(b.http, `${location}?digest=${sha256(data)}`, {
      method: 'PUT',
      body: data.subarray(cuts[2]),
      headers: { 'content-range': `${cuts[2]}-${data.length - 1}` },
    });
    expect(put.status).toBe(201);
    expect((await bytesOf(await registryFetch(a.http, `/v2/${REPO}/blobs/${sha256(data)}`))).equals(data)).toBe(true);
    expect((await registryFetch(a.http, location)).status).toBe(404);

    // An image pushed through B, pulled through A.
    const image = testImage({ layers: [data] });
    await pushTestImage(b.http, REPO, image, 'v1');
    const manifest = await registryFetch(a.http, `/v2/${REPO}/manifests/v1`);
    expect(manifest.status).toBe(200);
    expect(await manifest.text()).toBe(image.manifestBytes);
    expect(sha256(await bytesOf(await registryFetch(a.http, `/v2/${REPO}/blobs/${sha256(image.config)}`)))).toBe(sha256(image.config));
  });

  it('lets exactly one of two PATCHes at the same offset write, while the other holds it (416)', async () => {
    const location = await start(a.http);
    const first = randomBytes(2 * 1024 * 1024);
    const second = randomBytes(first.length);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    // The first PATCH sends half its body, then waits until the second has been answered.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(first.subarray(0, first.length / 2));
        await released;
        controller.enqueue(first.subarray(first.length / 2));
        controller.close();
      },
    });
    const slow = fetch(new URL(location, a.http.base), {
      method: 'PATCH',
      body,
      duplex: 'half',
      headers: { authorization: basicAuth(a.http.password), 'content-range': `0-${first.length - 1}` },
    } as RequestInit);
    const deadline = Date.now() + 5000;
    while (!(await b.registry.uploads.get(REPO, idOf(location))).writing && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const refused = await patch(b.http, location, second, 0);
    expect(refused.status).toBe(416);
    expect(refused.headers.get('range')).toBe('0-0');
    release();
    expect((await slow).status).toBe(202);
    const put = await registryFetch(b.http, `${location}?digest=${sha256(first)}`, { method: 'PUT' });
    expect(put.status).toBe(201);
    expect((await bytesOf(await registryFetch(b.http, `/v2/${REPO}/blobs/${sha256(first)}`))).equals(first)).toBe(true);
  });

  it('lets one of two racing PATCHes win, the other 416, and keeps the winner\'s bytes intact', async () => {
    for (let round = 0; round < 8; round++) {
      const location = await start(round % 2 ? a.http : b.http);
      const head = randomBytes(1000);
      expect((await patch(a.http, location, head, 0)).status).toBe(202);
      const mine = randomBytes(512 * 1024);
      const theirs = randomBytes(512 * 1024);
      const [fromA, fromB] = await Promise.all([patch(a.http, location, mine, head.length), patch(b.http, location, theirs, head.length)]);
      expect([fromA.status, fromB.status].sort()).toEqual([202, 416]);
      const winner = Buffer.concat([head, fromA.status === 202 ? mine : theirs]);
      const status = await registryFetch(b.http, location);
      expect(status.headers.get('range')).toBe(`0-${winner.length - 1}`);
      const put = await registryFetch(round % 2 ? b.http : a.http, `${location}?digest=${sha256(winner)}`, { method: 'PUT' });
      expect(put.status).toBe(201);
      expect((await bytesOf(await registryFetch(a.http, `/v2/${REPO}/blobs/${sha256(winner)}`))).equals(winner)).toBe(true);
    }
  });

  it('keeps a session across a restart: a new instance on the same store and directory takes it on', async () => {
    const data = randomBytes(100_000);
    const session = await a.registry.uploads.start(REPO);
    await a.registry.uploads.append(REPO, session.id, chunks(data.subarray(0, 60_000)), { start: 0, end: 59_999 });
    const restarted = await openRegistry({ store, dir, log, now: () => clock });
    registries.push(restarted);
    expect((await restarted.uploads.get(REPO, session.id)).offset).toBe(60_000);
    await restarted.uploads.append(REPO, session.id, chunks(data.subarray(60_000)), { start: 60_000, end: data.length - 1 });
    expect(await restarted.uploads.finish(REPO, session.id, sha256(data))).toEqual({ digest: sha256(data), size: data.length });
    const info = (await a.registry.records.stat(REPO, sha256(data)))!;
    expect(readFileSync(a.registry.blobs.pathOf(parseDigest(sha256(data)), info.file)).equals(data)).toBe(true);
  });

  it('sweeps sessions idle past the timeout, record then file, and keeps the ones in use', async () => {
    const idle = await a.registry.uploads.start(REPO);
    await a.registry.uploads.append(REPO, idle.id, chunks(randomBytes(10)));
    clock += GRACE / 2;
    const busy = await b.registry.uploads.start(REPO);
    clock += GRACE / 2 + 1;
    const report = await b.registry.gc.collect();
    expect(report.uploadsSwept).toBeGreaterThanOrEqual(1);
    await expect(a.registry.uploads.get(REPO, idle.id)).rejects.toMatchObject({ code: 'BLOB_UPLOAD_UNKNOWN' });
    expect(await store.get(keys.upload(idle.id))).toBeUndefined();
    expect(existsSync(idle.path)).toBe(false);
    expect((await a.registry.uploads.get(REPO, busy.id)).offset).toBe(0);
    expect(existsSync(busy.path)).toBe(true);
  });

  it('gives a session whose chunk is being written many idle times before sweeping it (a long chunk may be streaming)', async () => {
    const streaming = await a.registry.uploads.start(REPO);
    const key = keys.upload(streaming.id);
    const entry = (await store.get(key))!;
    // A writer took the claim, as a PATCH does when its body starts, and is still streaming.
    const claimed = { ...JSON.parse(entry.value), writing: clock, touchedAt: clock };
    await store.txn([], [{ type: 'put', key, value: JSON.stringify(claimed) }]);
    clock += GRACE * 2;
    await b.registry.gc.collect();
    expect(await store.get(key)).toBeDefined();
    expect(existsSync(streaming.path)).toBe(true);
    // Left that long, the claim is taken for a writer that died: the session goes.
    clock += GRACE * CLAIMED_IDLE_FACTOR;
    await b.registry.gc.collect();
    expect(await store.get(key)).toBeUndefined();
  });

  it('never loses a blob that one replica uploads while the other collects it', async () => {
    const outcomes = { reused: 0, replaced: 0 };
    for (let round = 0; round < 30; round++) {
      const data = randomBytes(64 * 1024);
      const digest = parseDigest(sha256(data));
      await b.registry.uploads.putWhole(REPO, digest.value, chunks(data));
      const before = (await b.registry.records.stat(REPO, digest.value))!.file;
      await b.registry.records.unlink(REPO, digest.value);
      await a.registry.gc.collect(); // condemns it
      clock += GRACE + 1;
      // A deletes it (record, then file) while B uploads the same bytes again.
      await Promise.all([
        // Staggered starts, so that each side sometimes gets there first.
        new Promise((r) => setTimeout(r, (round % 6) * 4)).then(() => a.registry.gc.collect()),
        b.registry.uploads.putWhole(REPO, digest.value, chunks(data)),
      ]);
      const info = await b.registry.records.stat(REPO, digest.value);
      expect(info).toBeDefined();
      expect(readFileSync(b.registry.blobs.pathOf(digest, info!.file)).equals(data)).toBe(true);
      expect((await bytesOf(await registryFetch(a.http, `/v2/${REPO}/blobs/${digest.value}`))).equals(data)).toBe(true);
      outcomes[info!.file === before ? 'reused' : 'replaced']++;
    }
    // Both orders happened: B revived the condemned blob before A's deletion, or placed it anew after.
    expect(outcomes.reused).toBeGreaterThan(0);
    expect(outcomes.replaced).toBeGreaterThan(0);
  });
});
