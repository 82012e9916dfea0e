import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AttachmentStore, type AttachmentRecord } from './attachment-store.js';
import { loopbackNetworkConfig } from './network-configs.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-attachments-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const record = (id: string): AttachmentRecord => ({
  version: 1,
  id,
  mode: 'none',
  netnsName: `berth-${id}`,
  netnsPath: `/var/run/netns/berth-${id}`,
  networks: [{ ifName: 'lo', config: loopbackNetworkConfig('berth'), runtimeConfig: {}, delOnDetach: false }],
});

describe('attachment records', () => {
  it('round-trip, list sorted, and are removed idempotently', async () => {
    const store = new AttachmentStore(join(dir, 'a'));
    expect(await store.ids()).toEqual([]);
    await store.write(record('b'), true);
    await store.write(record('a'), false);
    await store.write({ ...record('a'), mode: 'none' }, true);
    expect(await store.ids()).toEqual(['a', 'b']);
    expect(await store.read('b')).toEqual(record('b'));
    expect(await store.read('c')).toBeUndefined();
    await store.remove('b');
    await store.remove('b');
    expect(await store.ids()).toEqual(['a']);
    expect(readdirSync(join(dir, 'a'))).toEqual(['a.json']);
  });

  it('ignore a half-written temporary file left by a crash', async () => {
    const store = new AttachmentStore(join(dir, 'b'));
    mkdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b', 'x.json.tmp'), '{"vers');
    expect(await store.ids()).toEqual([]);
  });

  it('refuse a damaged record with an error naming the file', async () => {
    const store = new AttachmentStore(join(dir, 'c'));
    mkdirSync(join(dir, 'c'));
    writeFileSync(join(dir, 'c', 'x.json'), '{"version":1,');
    await expect(store.read('x')).rejects.toMatchObject({ code: 'state-unreadable', message: expect.stringContaining(join(dir, 'c', 'x.json')) });
    writeFileSync(join(dir, 'c', 'y.json'), JSON.stringify({ ...record('y'), networks: [{ ifName: 'lo', runtimeConfig: {}, config: { name: 'x' } }] }));
    await expect(store.read('y')).rejects.toThrow(/not a valid CNI network configuration list/);
    writeFileSync(join(dir, 'c', 'z.json'), JSON.stringify(record('other')));
    await expect(store.read('z')).rejects.toThrow(/is for "other", not z/);
  });
});
