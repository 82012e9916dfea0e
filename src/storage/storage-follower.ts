/**
 * `berth storage`'s loop: every second it reports this host (its volumes as glusterd lists them) and reads desired
 * state in the same call, then acts.
 *
 *   every host:       retired volumes gone from the pool → remove this host's brick directories of them
 *   the pool leader:  probe live hosts not yet in the trusted pool
 *                     a desired volume missing → `volume create <name> [replica N] <bricks> force`; created →
 *                     its TLS options (`volume set`, glusterd.ts), root squash and allow-list → `start`
 *                     a volume started before root squash (or before this leader started) → `server.root-squash on` once
 *                     the allow-list of certificate names (`auth.ssl-allow`) changed → `volume set` on every volume
 *                     each started volume's trusted client volfile → sent with the report once, again when it changes
 *                     (trusted-volfiles.ts; the control plane seals it and gives it only for root-access mounts)
 *                     a retired volume still there → `volume stop` + `volume delete`
 *
 * The report carries, per volume, the allow-list this host has set on it (the pool leader's, from earlier ticks), so
 * the control plane answers a new agent's ResolveMount only once the bricks accept it (efs/allow-list-wait.ts).
 *
 * Only the pool leader (the control plane names it: the live host registered first) runs pool-wide commands, so two
 * hosts never race on the pool. Failures are logged and retried on the next tick: the state is re-read each time.
 */
import { rmSync } from 'node:fs';
import type { Logger } from 'pino';
import { tlsVolumeOptions, type Glusterd } from './glusterd.js';
import type { ReportStorageHost, StorageAnswer } from './storage-reports.js';
import { ROOT_SQUASH_OPTION, rootSquashIsOn, volfilesToSend } from './trusted-volfiles.js';

export interface StorageHostIdentity {
  readonly hostId: string;
  readonly address: string;
  readonly brickDir: string;
  readonly availabilityZone: string;
}

/** What this host's `berth storage` has done to each volume since it started (empty after a start: done again once). */
export interface VolumeMemory {
  /** What the pool leader last set as each volume's `auth.ssl-allow`. */
  readonly allowLists: Map<string, string>;
  /** Volumes the pool leader has set `server.root-squash on` on. */
  readonly rootSquashed: Set<string>;
  /** The checksum of the trusted volfile last sent for each volume. */
  readonly volfilesSent: Map<string, string>;
}

export const newVolumeMemory = (): VolumeMemory => ({ allowLists: new Map(), rootSquashed: new Set(), volfilesSent: new Map() });

export async function storageTick(
  identity: StorageHostIdentity,
  glusterd: Glusterd,
  report: ReportStorageHost,
  log: Logger,
  previous?: StorageAnswer,
  memory: VolumeMemory = newVolumeMemory(),
): Promise<StorageAnswer> {
  const applied = memory.allowLists;
  // Only the pool leader's list of volumes is read by the control plane; a follower with nothing to clean up spares
  // its glusterd the command (every CLI call is a process and an RPC, every second, on every host).
  const needsVolumes = previous === undefined || previous.PoolLeader === true || (previous.RetiredVolumes?.length ?? 0) > 0;
  const volumes = needsVolumes ? await glusterd.volumes() : [];
  // The pool leader's (the control plane keeps only its): the started volumes' credentials, each sent until acknowledged.
  const volfiles = new Map<string, string>();
  if (previous?.PoolLeader === true) {
    for (const v of volumes.filter((v) => v.started)) {
      const text = await glusterd.trustedClientVolfile(v.name);
      if (text !== undefined) volfiles.set(v.name, text);
    }
  }
  const toSend = volfilesToSend(volfiles, memory.volfilesSent);
  const answer = await report({
    HostId: identity.hostId,
    Address: identity.address,
    BrickDir: identity.brickDir,
    AvailabilityZone: identity.availabilityZone,
    Volumes: volumes.map((v) => {
      const allowed = applied.get(v.name);
      return { Name: v.name, Started: v.started, ...(allowed !== undefined ? { AllowedClients: allowed.split(',') } : {}) };
    }),
    ...(toSend.length > 0 ? { TrustedVolfiles: toSend } : {}),
  });
  for (const sent of toSend) memory.volfilesSent.set(sent.Name, sent.Checksum);
  const present = new Map(volumes.map((v) => [v.name, v]));
  for (const retired of answer.RetiredVolumes ?? []) {
    if (!needsVolumes || present.has(retired.Name)) continue;
    for (const b of retired.Bricks) {
      if (b.Address === identity.address && b.Path.startsWith(`${identity.brickDir.replace(/\/+$/, '')}/`)) rmSync(b.Path, { recursive: true, force: true });
    }
  }
  if (!answer.PoolLeader || !needsVolumes) return answer;

  const pool = new Set(await glusterd.pool());
  for (const peer of answer.Peers ?? []) {
    if (pool.has(peer)) continue;
    log.info({ peer }, 'adding a storage host to the trusted pool');
    await glusterd.cli('peer', 'probe', peer).catch((error: Error) => log.warn({ peer, err: error.message }, 'peer probe failed'));
  }
  const allow = answer.AllowedClients && answer.AllowedClients.length > 0 ? answer.AllowedClients.join(',') : undefined;
  for (const volume of answer.Volumes ?? []) {
    const known = present.get(volume.Name);
    // A brick on a host not (yet) in the pool: wait for its probe rather than fail the create.
    if (!known && volume.Bricks.some((b) => b.Address !== identity.address && !pool.has(b.Address))) continue;
    try {
      if (!known) {
        const replica = volume.Bricks.length > 1 ? ['replica', String(volume.Bricks.length)] : [];
        log.info({ volume: volume.Name, bricks: volume.Bricks.length }, 'creating a volume');
        await glusterd.cli('volume', 'create', volume.Name, ...replica, ...volume.Bricks.map((b) => `${b.Address}:${b.Path}`), 'force');
      }
      if (!known?.started) {
        // TLS and root squash before the first start: the bricks never serve the volume in the clear, nor root to
        // a client without the volume's credentials.
        for (const [key, value] of [...tlsVolumeOptions(), ROOT_SQUASH_OPTION]) await glusterd.cli('volume', 'set', volume.Name, key, value);
        memory.rootSquashed.add(volume.Name);
        if (allow !== undefined) await setAllowList(glusterd, volume.Name, allow, applied);
        await glusterd.cli('volume', 'start', volume.Name);
        log.info({ volume: volume.Name }, 'volume started');
        continue;
      }
      if (!memory.rootSquashed.has(volume.Name)) {
        // A volume started before root squash existed: set once (read first, so a leader's restart changes nothing).
        const current = await glusterd.cli('volume', 'get', volume.Name, ROOT_SQUASH_OPTION[0]);
        if (!rootSquashIsOn(current)) {
          await glusterd.cli('volume', 'set', volume.Name, ...ROOT_SQUASH_OPTION);
          log.info({ volume: volume.Name }, 'root squash on');
        }
        memory.rootSquashed.add(volume.Name);
      }
      if (allow !== undefined && applied.get(volume.Name) !== allow) {
        // A deregistered agent's certificate stops being accepted; its live connections are dropped by the bricks.
        await setAllowList(glusterd, volume.Name, allow, applied);
        log.info({ volume: volume.Name, allowed: answer.AllowedClients!.length }, 'TLS allow-list updated');
      }
    } catch (error) {
      log.warn({ volume: volume.Name, err: (error as Error).message }, 'volume not ready yet');
    }
  }
  for (const retired of answer.RetiredVolumes ?? []) {
    const known = present.get(retired.Name);
    applied.delete(retired.Name);
    memory.rootSquashed.delete(retired.Name);
    memory.volfilesSent.delete(retired.Name);
    if (!known) continue;
    try {
      if (known.started) await glusterd.cli('volume', 'stop', retired.Name);
      await glusterd.cli('volume', 'delete', retired.Name);
      log.info({ volume: retired.Name }, 'volume deleted');
    } catch (error) {
      log.warn({ volume: retired.Name, err: (error as Error).message }, 'volume not deleted yet');
    }
  }
  return answer;
}

async function setAllowList(glusterd: Glusterd, volume: string, allow: string, applied: Map<string, string>): Promise<void> {
  await glusterd.cli('volume', 'set', volume, 'auth.ssl-allow', allow);
  applied.set(volume, allow);
}
