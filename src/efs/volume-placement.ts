/**
 * Where a file system's GlusterFS volume goes (pure): up to three bricks on live storage hosts, spread over
 * availability zones first (EFS's Regional file systems survive a zone's loss), then the least-loaded hosts. A One
 * Zone file system (AvailabilityZoneName) keeps its bricks in that zone. With three or more live hosts the volume is
 * replica 3; with fewer, it is placed on what exists (a lab or `berth up` with one storage host).
 */
import type { BrickRecord, FileSystemRecord, StorageHostRecord } from '../state/records/efs.js';

/** A storage host counts as live while it has reported within this long (it reports every second). */
export const STORAGE_HOST_LIVE_MS = 15_000;

export const REPLICAS = 3;

/**
 * The pool leader keeps its place while it has reported within this long: longer than liveness, so that a leader
 * slowed down (a loaded machine, a slow gluster command) is not replaced by another host that would start a second
 * trusted pool (a host already in a pool cannot be probed into another).
 */
export const POOL_LEADER_LIVE_MS = 60_000;

export function liveHosts(hosts: readonly StorageHostRecord[], now: number): StorageHostRecord[] {
  return hosts.filter((h) => now - h.lastSeen <= STORAGE_HOST_LIVE_MS);
}

/**
 * The host that runs the pool's gluster commands (peer probes, volume create/start/stop/delete): the live host
 * registered first. Only it acts, so two hosts never race on the trusted pool; when it dies the next takes over.
 */
export function poolLeader(hosts: readonly StorageHostRecord[], now: number): StorageHostRecord | undefined {
  return hosts.filter((h) => now - h.lastSeen <= POOL_LEADER_LIVE_MS).sort((a, b) => a.registeredAt - b.registeredAt || a.id.localeCompare(b.id))[0];
}

/** How long a file system waits for three live storage hosts before its volume is placed on fewer. */
export const FEWER_REPLICAS_AFTER_MS = 30_000;

/**
 * The bricks for `fs`, or undefined while they cannot be placed: three live hosts, or, once the file system has
 * waited FEWER_REPLICAS_AFTER_MS (hosts starting together register within it), as many as are live (a lab or
 * `berth up` with one storage host). `load`: bricks each host holds already.
 */
export function placeBricks(fs: Pick<FileSystemRecord, 'volume' | 'availabilityZoneName' | 'createdAt'>, hosts: readonly StorageHostRecord[], now: number, load: ReadonlyMap<string, number>): BrickRecord[] | undefined {
  const candidates = liveHosts(hosts, now).filter((h) => fs.availabilityZoneName === undefined || h.availabilityZone === fs.availabilityZoneName);
  if (candidates.length === 0 || (candidates.length < REPLICAS && now - fs.createdAt < FEWER_REPLICAS_AFTER_MS)) return undefined;
  const byLoad = [...candidates].sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || a.registeredAt - b.registeredAt || a.id.localeCompare(b.id));
  const chosen: StorageHostRecord[] = [];
  const zonesUsed = new Set<string>();
  // First one host per zone, least loaded first; then fill from the rest.
  for (const h of byLoad) {
    if (chosen.length < REPLICAS && !zonesUsed.has(h.availabilityZone)) {
      chosen.push(h);
      zonesUsed.add(h.availabilityZone);
    }
  }
  for (const h of byLoad) if (chosen.length < REPLICAS && !chosen.includes(h)) chosen.push(h);
  return chosen.map((h) => ({ hostId: h.id, address: h.address, path: `${h.brickDir.replace(/\/+$/, '')}/${fs.volume}`, availabilityZone: h.availabilityZone }));
}

/** Bricks per host over every file system (what placement balances). */
export function brickLoad(fileSystems: readonly Pick<FileSystemRecord, 'bricks'>[]): Map<string, number> {
  const load = new Map<string, number>();
  for (const fs of fileSystems) for (const b of fs.bricks ?? []) load.set(b.hostId, (load.get(b.hostId) ?? 0) + 1);
  return load;
}
