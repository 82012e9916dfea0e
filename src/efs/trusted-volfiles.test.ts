import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRingSealer } from '../identity/sealer.js';
import { efsKeys } from '../state/efs-keys.js';
import { MemoryStore } from '../store/memory.js';
import { keepTrustedVolfiles, openTrustedVolfile } from './trusted-volfiles.js';

const VOLFILE = 'volume berth-fs-0a1-client-0\n    option password 5ecret-pa55\n    option username u1\nend-volume\n';

const fileSystem = {
  id: 'fs-0a1', arn: 'arn:aws:elasticfilesystem:us-east-1:000000000000:file-system/fs-0a1', creationToken: 't', createdAt: 0,
  lifeCycleState: 'available', performanceMode: 'generalPurpose', throughputMode: 'bursting', encrypted: false, tags: [],
  mountTargetCount: 1, accessPointCount: 0, lifecyclePolicies: [], volume: 'berth-fs-0a1',
};
const put = (store: MemoryStore, key: string, value: string) => store.txn([], [{ type: 'put', key, value }]);

async function storeWithFileSystem(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await put(store, efsKeys.fileSystem('fs-0a1'), JSON.stringify(fileSystem));
  return store;
}

describe("the volumes' root-access credentials on the control plane", () => {
  const sealer = new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]);

  it('keeps a volfile sealed (no credentials in the store in clear) and opens it for ResolveMount', async () => {
    const store = await storeWithFileSystem();
    await keepTrustedVolfiles(store, sealer, [{ Name: 'berth-fs-0a1', Volfile: VOLFILE }], 1);
    const raw = (await store.get(efsKeys.trustedVolfile('berth-fs-0a1')))!.value;
    expect(raw).not.toContain('5ecret-pa55');
    expect(await openTrustedVolfile(store, sealer, 'berth-fs-0a1')).toBe(VOLFILE);
    // Sealed for its own key: moved to another volume's key it does not open.
    await put(store, efsKeys.trustedVolfile('berth-fs-0b2'), raw);
    await expect(openTrustedVolfile(store, sealer, 'berth-fs-0b2')).rejects.toThrow();
  });

  it('rewrites only a changed volfile, and keeps none for a volume without a file system', async () => {
    const store = await storeWithFileSystem();
    await keepTrustedVolfiles(store, sealer, [{ Name: 'berth-fs-0a1', Volfile: VOLFILE }], 1);
    const first = (await store.get(efsKeys.trustedVolfile('berth-fs-0a1')))!;
    await keepTrustedVolfiles(store, sealer, [{ Name: 'berth-fs-0a1', Volfile: VOLFILE }], 2);
    expect((await store.get(efsKeys.trustedVolfile('berth-fs-0a1')))!.value).toBe(first.value);
    await keepTrustedVolfiles(store, sealer, [{ Name: 'berth-fs-0a1', Volfile: `${VOLFILE}# changed\n` }], 3);
    expect(await openTrustedVolfile(store, sealer, 'berth-fs-0a1')).toBe(`${VOLFILE}# changed\n`);
    await keepTrustedVolfiles(store, sealer, [{ Name: 'berth-fs-0ff', Volfile: VOLFILE }, { Name: 'not-a-volume', Volfile: VOLFILE }], 4);
    expect(await store.get(efsKeys.trustedVolfile('berth-fs-0ff'))).toBeUndefined();
  });

  it('answers IncorrectMountTargetState (the agent asks again) while the pool leader has not reported it', async () => {
    await expect(openTrustedVolfile(await storeWithFileSystem(), sealer, 'berth-fs-0a1')).rejects.toMatchObject({ type: 'IncorrectMountTargetState' });
  });
});
