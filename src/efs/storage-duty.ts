/**
 * The leader's storage duty: every pass (1 s) it
 *   - places the bricks of each `creating` file system that has none yet (volume-placement.ts) on live storage hosts;
 *   - marks a `creating` file system `available` once the pool leader's last report lists its volume started;
 *   - forgets a retired volume a minute after the pool leader first reported it gone (time for every brick host
 *     to remove its directory).
 * Writes go through the term's fenced store, so a deposed leader's pass changes nothing.
 */
import type { Logger } from 'pino';
import { startPeriodic } from '../process/periodic.js';
import { efsKeys as k } from '../state/efs-keys.js';
import { parseFileSystemRecord, parseRetiredVolumeRecord, parseStorageHostRecord } from '../state/records/efs.js';
import type { Store } from '../store/store.js';
import { transact } from '../store/transact.js';
import { brickLoad, placeBricks, poolLeader } from './volume-placement.js';

const RETIRED_GRACE_MS = 60_000;

export interface StorageDutyOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  readonly intervalMs?: number;
}

export function startStorageDuty(options: StorageDutyOptions): { stop(): Promise<void> } {
  const now = options.now ?? Date.now;
  return startPeriodic({ log: options.log, what: 'storage placement', intervalMs: options.intervalMs ?? 1_000, run: () => storagePass(options.store, now(), options.log) });
}

export async function storagePass(store: Store, now: number, log: Pick<Logger, 'info'>): Promise<void> {
  const [hostEntries, fsEntries, retiredEntries] = await Promise.all([store.range(k.storageHosts()), store.range(k.fileSystems()), store.range(k.retiredVolumes())]);
  const hosts = hostEntries.entries.map((e) => parseStorageHostRecord(e.value, e.key));
  const leader = poolLeader(hosts, now);
  const fileSystems = fsEntries.entries.map((e) => parseFileSystemRecord(e.value, e.key));
  const load = brickLoad(fileSystems);
  for (const candidate of fileSystems.filter((fs) => fs.lifeCycleState === 'creating')) {
    const started = leader?.volumes.some((v) => v.name === candidate.volume && v.started) ?? false;
    if (candidate.bricks && !started) continue;
    const bricks = candidate.bricks ?? placeBricks(candidate, hosts, now, load);
    if (!bricks) continue;
    await transact(store, async (tx) => {
      const fs = await tx.getRecord(parseFileSystemRecord, k.fileSystem(candidate.id));
      if (!fs || fs.lifeCycleState !== 'creating') return;
      if (!fs.bricks) {
        tx.putJson(k.fileSystem(fs.id), { ...fs, bricks });
        for (const b of bricks) load.set(b.hostId, (load.get(b.hostId) ?? 0) + 1);
        log.info({ fileSystemId: fs.id, bricks: bricks.map((b) => `${b.address}:${b.path}`) }, 'placed the volume of a file system');
      } else if (started) {
        tx.putJson(k.fileSystem(fs.id), { ...fs, lifeCycleState: 'available' });
        log.info({ fileSystemId: fs.id }, 'file system available');
      }
    });
  }
  if (!leader) return;
  for (const retired of retiredEntries.entries.map((e) => parseRetiredVolumeRecord(e.value, e.key))) {
    if (leader.volumes.some((v) => v.name === retired.name)) continue;
    await transact(store, async (tx) => {
      const record = await tx.getRecord(parseRetiredVolumeRecord, k.retiredVolume(retired.name));
      if (!record) return;
      if (record.goneSince === undefined) tx.putJson(k.retiredVolume(record.name), { ...record, goneSince: now });
      else if (now - record.goneSince >= RETIRED_GRACE_MS) tx.delete(k.retiredVolume(record.name));
    });
  }
}
