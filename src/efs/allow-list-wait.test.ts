import { describe, expect, it } from 'vitest';
import { efsKeys } from '../state/efs-keys.js';
import type { ReportedVolume, StorageHostRecord } from '../state/records/efs.js';
import { MemoryStore } from '../store/memory.js';
import { transact } from '../store/transact.js';
import { allowListApplied, awaitAllowListApplied } from './allow-list-wait.js';

const host = (id: string, registeredAt: number, volumes: ReportedVolume[], lastSeen = 1_000): StorageHostRecord => ({
  id, address: `10.0.0.${registeredAt + 1}`, brickDir: '/b', availabilityZone: 'a', registeredAt, lastSeen, volumes,
});
const vol = (allowedClients?: string[]): ReportedVolume => ({ name: 'berth-fs-1', started: true, ...(allowedClients ? { allowedClients } : {}) });

describe('whether the bricks accept an agent certificate name yet', () => {
  it('reads the pool leader (the live host registered first), not another host', () => {
    const leader = host('h1', 0, [vol(['berth-storage-h1'])]);
    const other = host('h2', 1, [vol(['berth-agent-ci1'])]);
    expect(allowListApplied([leader, other], 1_000, 'berth-fs-1', 'berth-agent-ci1')).toBe(false);
    expect(allowListApplied([host('h1', 0, [vol(['berth-agent-ci1'])]), other], 1_000, 'berth-fs-1', 'berth-agent-ci1')).toBe(true);
    // The first host gone quiet: the next one leads, and its report counts.
    expect(allowListApplied([host('h1', 0, [vol()], -100_000), other], 1_000, 'berth-fs-1', 'berth-agent-ci1')).toBe(true);
  });

  it('is false for another volume, a volume without a reported list, and no hosts', () => {
    const leader = host('h1', 0, [vol(['berth-agent-ci1'])]);
    expect(allowListApplied([leader], 1_000, 'berth-fs-2', 'berth-agent-ci1')).toBe(false);
    expect(allowListApplied([host('h1', 0, [vol()])], 1_000, 'berth-fs-1', 'berth-agent-ci1')).toBe(false);
    expect(allowListApplied([], 1_000, 'berth-fs-1', 'berth-agent-ci1')).toBe(false);
  });
});

describe('ResolveMount waiting for the name to reach the bricks', () => {
  function lab() {
    const store = new MemoryStore();
    let now = 1_000;
    const put = (allowed: string[]) => transact(store, async (tx) => tx.putJson(efsKeys.storageHost('h1'), host('h1', 0, [vol(allowed)], now)));
    const slept: number[] = [];
    return { store, put, slept, now: () => now, advance: (ms: number) => (now += ms) };
  }

  it('answers once the pool leader reports the name applied', async () => {
    const l = lab();
    await l.put(['berth-storage-h1']);
    let ticks = 0;
    const sleep = async (ms: number) => {
      l.slept.push(ms);
      l.advance(ms);
      if (++ticks === 3) await l.put(['berth-agent-ci1', 'berth-storage-h1']);
    };
    let told = 0;
    await awaitAllowListApplied(l.store, 'fs-1', 'berth-fs-1', 'berth-agent-ci1', { now: l.now, sleep, timeoutMs: 7_000, onWaiting: () => told++ });
    expect(l.slept).toEqual([200, 200, 200]);
    expect(told).toBe(1);
  });

  it('answers at once, without waiting, when the name is there already', async () => {
    const l = lab();
    await l.put(['berth-agent-ci1']);
    const onWaiting = () => {
      throw new Error('should not wait');
    };
    await awaitAllowListApplied(l.store, 'fs-1', 'berth-fs-1', 'berth-agent-ci1', { now: l.now, sleep: () => Promise.reject(new Error('slept')), onWaiting });
  });

  it('gives up after the timeout with IncorrectMountTargetState naming the certificate and the volume', async () => {
    const l = lab();
    await l.put(['berth-storage-h1']);
    const sleep = async (ms: number) => {
      l.advance(ms);
      await l.put(['berth-storage-h1']); // the leader keeps reporting, without the name
    };
    await expect(awaitAllowListApplied(l.store, 'fs-1', 'berth-fs-1', 'berth-agent-ci1', { now: l.now, sleep, timeoutMs: 1_000 })).rejects.toMatchObject({
      type: 'IncorrectMountTargetState',
      message: expect.stringMatching(/fs-1.*'berth-agent-ci1'.*berth-fs-1's auth.ssl-allow after 1000 ms/),
    });
  });
});
