/**
 * A secret's deletion, as Secrets Manager does it:
 *
 *   live ──DeleteSecret(window 7–30 days, default 30)──▶ scheduled ──purge at deletedDate+window──▶ gone
 *    ▲                                                      │
 *    └──────────────────────RestoreSecret───────────────────┘
 *   live ──DeleteSecret(ForceDeleteWithoutRecovery)──▶ gone
 *
 * While scheduled, every operation but DescribeSecret, ListSecrets(IncludePlannedDeletion) and RestoreSecret
 * answers InvalidRequestException. The purge runs on the leader only (leader-duties.ts), through the term's
 * fenced store, each secret in a transaction that re-reads it: a secret restored meanwhile is left alone.
 */
import type { Logger } from 'pino';
import { startPeriodic } from '../process/periodic.js';
import { keys } from '../state/keys.js';
import { parseSecretDeletionRecord, parseSecretRecord, type SecretRecord } from '../state/records/secrets.js';
import { rangePages } from '../store/range-pages.js';
import type { Store } from '../store/store.js';
import { transact, type Tx } from '../store/transact.js';
import { secretErrors } from './errors.js';
import type { SecretVault } from './secret-vault.js';

const DAY_MS = 86_400_000;

/** DeleteSecret: schedule the deletion (or delete now with `force`); returns when it is (or was) deleted. */
export async function deleteSecret(vault: SecretVault, secretId: string, windowDays: number | undefined, force: boolean | undefined): Promise<{ secret: SecretRecord; deletionDate: number }> {
  if (force && windowDays !== undefined) throw secretErrors.forceWithWindow();
  const days = windowDays ?? 30;
  if (!Number.isInteger(days) || days < 7 || days > 30) throw secretErrors.recoveryWindow();
  const now = vault.env.now();
  return transact(vault.env.store, async (tx) => {
    const secret = await vault.find(tx, secretId, { allowDeleted: true });
    if (secret.deletedDate !== undefined) throw secretErrors.alreadyDeleted();
    if (force) {
      await removeSecret(tx, secret.name);
      return { secret, deletionDate: now };
    }
    const purgeAt = now + days * DAY_MS;
    tx.putJson(keys.secret(secret.name), { ...secret, deletedDate: now, purgeAt, lastChangedDate: now } satisfies SecretRecord);
    tx.putJson(keys.secretDeletion(secret.name), { purgeAt });
    return { secret, deletionDate: purgeAt };
  });
}

/** RestoreSecret: cancel a scheduled deletion (a live secret restores to itself). */
export async function restoreSecret(vault: SecretVault, secretId: string): Promise<SecretRecord> {
  const now = vault.env.now();
  return transact(vault.env.store, async (tx) => {
    const secret = await vault.find(tx, secretId, { allowDeleted: true });
    if (secret.deletedDate === undefined) return secret;
    const { deletedDate: _d, purgeAt: _p, ...rest } = secret;
    const restored: SecretRecord = { ...rest, lastChangedDate: now };
    tx.putJson(keys.secret(secret.name), restored);
    tx.delete(keys.secretDeletion(secret.name));
    return restored;
  });
}

/** The secret's record, its values and its deletion entry, in the caller's transaction. */
async function removeSecret(tx: Tx, name: string): Promise<void> {
  const values = await tx.range(keys.secretValuesOf(name));
  for (const e of values.entries) tx.delete(e.key);
  tx.delete(keys.secret(name));
  tx.delete(keys.secretDeletion(name));
}

/** Delete every secret whose recovery window has ended; returns how many. */
export async function purgeDueSecrets(store: Store, now: number): Promise<number> {
  const due: string[] = [];
  for await (const page of rangePages(store, keys.secretDeletions(), 500)) {
    for (const e of page) if (parseSecretDeletionRecord(e.value, e.key).purgeAt <= now) due.push(e.key.slice(keys.secretDeletions().length));
  }
  let purged = 0;
  for (const name of due) {
    const done = await transact(store, async (tx) => {
      const secret = await tx.getRecord(parseSecretRecord, keys.secret(name));
      if (secret?.purgeAt === undefined || secret.purgeAt > now) {
        // Restored (or never there): only a stale index entry may be left.
        if (!secret) tx.delete(keys.secretDeletion(name));
        return false;
      }
      await removeSecret(tx, name);
      return true;
    });
    if (done) purged++;
  }
  return purged;
}

export interface SecretPurgeOptions {
  /** The leader term's fenced store. */
  readonly store: Store;
  readonly log: Logger;
  readonly now?: () => number;
  /** Between passes (default 1 minute). */
  readonly intervalMs?: number;
  readonly setInterval?: typeof setInterval;
  readonly clearInterval?: typeof clearInterval;
}

/** The leader's periodic purge of secrets past their recovery window. */
export function startSecretPurge(options: SecretPurgeOptions): { stop(): Promise<void>; runOnce(): Promise<number> } {
  const now = options.now ?? Date.now;
  const runOnce = async () => {
    const purged = await purgeDueSecrets(options.store, now());
    if (purged) options.log.info({ purged }, 'deleted secrets past their recovery window');
    return purged;
  };
  const periodic = startPeriodic({ ...options, what: 'secret purge', intervalMs: options.intervalMs ?? 60_000, run: runOnce });
  return { stop: () => periodic.stop(), runOnce };
}
