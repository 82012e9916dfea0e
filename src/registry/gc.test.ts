import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RegistryError } from '../model/registry/errors.js';
import { parseDigest } from '../model/registry/names.js';
import { keys } from '../state/keys.js';
import { MemoryStore } from '../store/memory.js';
import type { BlobRecord, RepositoryRecord } from '../state/records/registry.js';
import { readJson } from '../store/transact.js';
import { sha256, testImage, type TestImage } from '../testing/registry-client.js';
import { openRegistry, type Registry } from './registry.js';

const GRACE = 60_000;
let dir: string;
let store: MemoryStore;
let registry: Registry;
let now: number;

async function createRepository(name: string, extra: Partial<RepositoryRecord> = {}): Promise<void> {
  const record: RepositoryRecord = {
    name,
    createdAt: now,
    imageTagMutability: 'MUTABLE',
    imageScanningConfiguration: { scanOnPush: false },
    encryptionConfiguration: { encryptionType: 'AES256' },
    tags: [],
    ...extra,
  };
  await store.txn([], [{ type: 'put', key: keys.repository(name), value: JSON.stringify(record) }]);
}

async function upload(repo: string, data: Buffer): Promise<string> {
  const session = await registry.uploads.start(repo);
  return (await registry.uploads.finish(repo, session.id, sha256(data), [data] as AsyncIterable<Buffer> & Buffer[])).digest;
}

async function pushImage(repo: string, image: TestImage, tag: string) {
  for (const blob of [image.config, ...image.layers]) await upload(repo, Buffer.from(blob));
  return registry.manifests.put({ repo, reference: tag, bytes: Buffer.from(image.manifestBytes), contentType: image.manifest.mediaType as string });
}

const fileExists = async (digest: string) => (await registry.blobs.fileNamesOf(parseDigest(digest))).length > 0;
const blobRecord = (digest: string) => readJson<BlobRecord>(store, keys.blob(digest));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-gc-test-'));
  store = new MemoryStore();
  now = 1_000_000;
  registry = await openRegistry({ store, dir, log: pino({ level: 'silent' }), now: () => now, gcGraceMs: GRACE, uploadIdleMs: GRACE });
  await createRepository('gc/app');
});
afterEach(async () => {
  await registry.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('garbage collection', () => {
  it('condemns an unreferenced blob, then deletes it (record, links and file) once the grace period has passed', async () => {
    const digest = await upload('gc/app', randomBytes(100));
    expect(await registry.gc.collect()).toMatchObject({ condemned: 1, deleted: 0 });
    expect((await blobRecord(digest))?.condemnedAt).toBe(now);
    now += GRACE - 1;
    expect(await registry.gc.collect()).toMatchObject({ deleted: 0 });
    now += 2;
    expect(await registry.gc.collect()).toMatchObject({ deleted: 1, bytesFreed: 100 });
    expect(await blobRecord(digest)).toBeUndefined();
    expect(await store.get(keys.blobLink('gc/app', digest))).toBeUndefined();
    expect(await fileExists(digest)).toBe(false);
    expect(await registry.records.stat('gc/app', digest)).toBeUndefined();
  });

  it('keeps what manifests reference, and frees an image once its manifest is deleted', async () => {
    const image = testImage();
    const { digest } = await pushImage('gc/app', image, 'v1');
    const all = [digest, sha256(image.config), ...image.layers.map((l) => sha256(l))];
    now += 10 * GRACE;
    expect(await registry.gc.collect()).toMatchObject({ condemned: 0, deleted: 0 });
    for (const d of all) expect(await fileExists(d)).toBe(true);

    await registry.manifests.delete('gc/app', digest);
    expect(await registry.gc.collect()).toMatchObject({ condemned: all.length });
    now += GRACE;
    expect(await registry.gc.collect()).toMatchObject({ deleted: all.length });
    for (const d of all) expect(await fileExists(d)).toBe(false);
  });

  it('revives a condemned blob that a push starts using again, and does not delete it', async () => {
    const image = testImage();
    for (const blob of [image.config, ...image.layers]) await upload('gc/app', Buffer.from(blob));
    await registry.gc.collect();
    expect((await blobRecord(sha256(image.config)))?.condemnedAt).toBeDefined();
    now += GRACE + 1;
    // The push's manifest arrives after the grace period but before the next collection.
    await registry.manifests.put({ repo: 'gc/app', reference: 'late', bytes: Buffer.from(image.manifestBytes) });
    expect((await blobRecord(sha256(image.config)))?.condemnedAt).toBeUndefined();
    expect(await registry.gc.collect()).toMatchObject({ deleted: 0 });
    expect(await fileExists(sha256(image.config))).toBe(true);
  });

  it('never stores a manifest whose blobs a concurrent collection deletes', async () => {
    const outcomes = { fulfilled: 0, rejected: 0 };
    for (let round = 0; round < 40; round++) {
      const image = testImage({ layerCount: 1, layerSize: 64 });
      for (const blob of [image.config, ...image.layers]) await upload('gc/app', Buffer.from(blob));
      await registry.gc.collect();
      now += GRACE + 1;
      // Race a collection (which would delete the condemned blobs) against a push that needs them.
      const [, pushed] = await Promise.allSettled([
        // Staggered starts, so that some rounds interleave and each side sometimes wins.
        new Promise((r) => setTimeout(r, (round % 5) * 2)).then(() => registry.gc.collect()),
        new Promise((r) => setTimeout(r, round % 2)).then(() => registry.manifests.put({ repo: 'gc/app', reference: `r${round}`, bytes: Buffer.from(image.manifestBytes) })),
      ]);
      outcomes[pushed.status]++;
      if (pushed.status === 'fulfilled') {
        for (const blob of [image.config, ...image.layers]) {
          expect(await fileExists(sha256(blob))).toBe(true);
          expect(await blobRecord(sha256(blob))).toBeDefined();
        }
      } else {
        expect(pushed.reason).toBeInstanceOf(RegistryError);
        expect((pushed.reason as RegistryError).code).toBe('MANIFEST_BLOB_UNKNOWN');
        expect(await registry.manifests.resolve('gc/app', `r${round}`).catch((e: RegistryError) => e.code)).toBe('MANIFEST_UNKNOWN');
      }
    }
    // Both orders happened, so both halves of the guarantee were exercised.
    expect(outcomes.fulfilled).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
  });

  it('removes blob files that lost their record, and temporary files nobody owns', async () => {
    const data = randomBytes(50);
    const digest = parseDigest(sha256(data));
    const file = registry.blobs.newFileName(digest);
    await registry.blobs.writeWhole(data, digest, file); // a crash between placing the file and recording it
    const session = await registry.uploads.start('gc/app');
    expect(await registry.gc.collect()).toMatchObject({ strayFiles: 0, uploadsSwept: 0 });
    // Files age by the wall clock (their mtimes), sessions by the registry's.
    const old = new Date(Date.now() - GRACE - 1000);
    utimesSync(registry.blobs.pathOf(digest, file), old, old);
    now += GRACE + 1;
    expect(await registry.gc.collect()).toMatchObject({ strayFiles: 1, uploadsSwept: 1 });
    expect(await fileExists(digest.value)).toBe(false);
    expect(existsSync(session.path)).toBe(false);
    await expect(registry.uploads.get('gc/app', session.id)).rejects.toThrow(RegistryError);
  });

  it('finishes a repository deletion that a crash interrupted', async () => {
    await pushImage('gc/app', testImage(), 'v1');
    const record = (await readJson<RepositoryRecord>(store, keys.repository('gc/app')))!;
    await store.txn([], [{ type: 'put', key: keys.repository('gc/app'), value: JSON.stringify({ ...record, deleting: now }) }]);
    now += 120_000;
    expect(await registry.gc.collect()).toMatchObject({ repositoriesFinished: 1 });
    expect(await store.get(keys.repository('gc/app'))).toBeUndefined();
    expect((await store.range(keys.manifestsOf('gc/app'))).entries).toEqual([]);
  });
});
