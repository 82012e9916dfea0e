/**
 * ResolveMount answers an agent only once its certificate's name is in the volume's `auth.ssl-allow` on the bricks
 * (tls-clients.ts). A new container instance's name reaches the bricks a tick or two after it registers (the pool
 * leader reads the list in its next ReportStorageHost answer and runs `volume set`); a glusterfs client that
 * connects before that is refused at the TLS handshake and exits, which used to stop the task. The pool leader
 * reports what it has set on each volume, so the control plane knows when the name is there:
 *
 *   ResolveMount ──▶ leader's last report lists the name for the volume? ──yes──▶ answer
 *                          └─ no: read again every POLL_MS ── still not after timeoutMs ──▶ IncorrectMountTargetState
 *
 * The leader reports before it acts in a tick, so what it reports has been set already. A new pool leader reports
 * nothing for a volume until it has set the list once itself.
 */
import { efsKeys as k } from '../state/efs-keys.js';
import { parseStorageHostRecord, type StorageHostRecord } from '../state/records/efs.js';
import type { Store } from '../store/store.js';
import { efsErrors } from './errors.js';
import { poolLeader } from './volume-placement.js';

/** How long ResolveMount waits for the name to be applied: under the agent's 10 s request timeout. */
export const ALLOW_LIST_WAIT_MS = 7_000;
const POLL_MS = 200;

/** Whether the pool leader (among `hosts`) reports `name` in `volume`'s `auth.ssl-allow` (pure). */
export function allowListApplied(hosts: readonly StorageHostRecord[], now: number, volume: string, name: string): boolean {
  const leader = poolLeader(hosts, now);
  return leader?.volumes.find((v) => v.name === volume)?.allowedClients?.includes(name) ?? false;
}

export interface AllowListWaitOptions {
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly timeoutMs?: number;
  /** Told once when the name is not there at the first look (the server logs it). */
  readonly onWaiting?: () => void;
}

/** Resolves once `name` is applied to `volume` (above); IncorrectMountTargetState naming both after the timeout. */
export async function awaitAllowListApplied(store: Store, fileSystemId: string, volume: string, name: string, options: AllowListWaitOptions): Promise<void> {
  const { now, timeoutMs = ALLOW_LIST_WAIT_MS } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + timeoutMs;
  let waited = false;
  for (;;) {
    const { entries } = await store.range(k.storageHosts());
    const hosts = entries.map((e) => parseStorageHostRecord(e.value, e.key));
    if (allowListApplied(hosts, now(), volume, name)) return;
    if (!waited) options.onWaiting?.();
    waited = true;
    if (now() >= deadline) {
      throw efsErrors.incorrectMountTargetState(
        `The mount targets of file system '${fileSystemId}' do not accept certificate '${name}' yet: the storage pool leader ` +
          `had not added it to volume ${volume}'s auth.ssl-allow after ${timeoutMs} ms (is a storage host running and reporting?).`,
      );
    }
    await sleep(POLL_MS);
  }
}
