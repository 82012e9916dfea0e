import { describe, expect, it } from 'vitest';
import type { StorageHostRecord } from '../state/records/efs.js';
import { FEWER_REPLICAS_AFTER_MS, placeBricks, poolLeader, STORAGE_HOST_LIVE_MS } from './volume-placement.js';

const NOW = 1_000_000;
const host = (id: string, zone: string, o: Partial<StorageHostRecord> = {}): StorageHostRecord => ({
  id,
  address: `10.0.0.${id.slice(1)}`,
  brickDir: `/bricks/${id}/`,
  availabilityZone: zone,
  registeredAt: 0,
  lastSeen: NOW,
  volumes: [],
  ...o,
});
const fs = { volume: 'berth-fs-1', createdAt: NOW };

describe('placeBricks', () => {
  it('puts three bricks in three zones before doubling up in one, least-loaded hosts first', () => {
    const hosts = [host('h1', 'a'), host('h2', 'a'), host('h3', 'b'), host('h4', 'c')];
    const bricks = placeBricks(fs, hosts, NOW, new Map([['h1', 2]]))!;
    expect(bricks.map((b) => b.hostId)).toEqual(['h2', 'h3', 'h4']);
    expect(bricks[0]).toEqual({ hostId: 'h2', address: '10.0.0.2', path: '/bricks/h2/berth-fs-1', availabilityZone: 'a' });
  });

  it('waits for three live hosts, then places on fewer once the file system has waited', () => {
    const hosts = [host('h1', 'a'), host('h2', 'b', { lastSeen: NOW - STORAGE_HOST_LIVE_MS - 1 })];
    expect(placeBricks(fs, hosts, NOW, new Map())).toBeUndefined();
    const later = NOW + FEWER_REPLICAS_AFTER_MS;
    expect(placeBricks(fs, [host('h1', 'a', { lastSeen: later })], later, new Map())!.map((b) => b.hostId)).toEqual(['h1']);
    expect(placeBricks(fs, [], later, new Map())).toBeUndefined();
  });

  it('keeps a One Zone file system in its zone', () => {
    const hosts = [host('h1', 'a'), host('h2', 'b'), host('h3', 'b'), host('h4', 'b')];
    expect(placeBricks({ ...fs, availabilityZoneName: 'b' }, hosts, NOW, new Map())!.map((b) => b.hostId)).toEqual(['h2', 'h3', 'h4']);
  });
});

describe('poolLeader', () => {
  it('is the first registered host still reporting, and survives a slow minute', () => {
    const hosts = [host('h2', 'a', { registeredAt: 5 }), host('h1', 'b', { registeredAt: 1, lastSeen: NOW - 30_000 }), host('h3', 'c', { registeredAt: 9 })];
    expect(poolLeader(hosts, NOW)?.id).toBe('h1');
    expect(poolLeader(hosts, NOW + 40_000)?.id).toBe('h2');
    expect(poolLeader([], NOW)).toBeUndefined();
  });
});
