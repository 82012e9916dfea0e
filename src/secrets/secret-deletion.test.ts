import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyRingSealer } from '../identity/sealer.js';
import { keys } from '../state/keys.js';
import { MemoryStore } from '../store/memory.js';
import { deleteSecret, purgeDueSecrets, restoreSecret, startSecretPurge } from './secret-deletion.js';
import { SecretVault } from './secret-vault.js';

const DAY = 86_400_000;

function setup() {
  const store = new MemoryStore();
  const clock = { now: 1_000_000 };
  const vault = new SecretVault({
    store,
    sealer: new KeyRingSealer([{ id: 'k1', key: Buffer.alloc(32, 7) }]),
    scope: { region: 'us-east-1', accountId: '123456789012' },
    now: () => clock.now,
  });
  return { store, clock, vault };
}

afterEach(() => vi.useRealTimers());

describe('secret deletion and its purge', () => {
  it('purges a secret and its values once its recovery window has passed, not before', async () => {
    const { store, clock, vault } = setup();
    await vault.create({ name: 'db', value: { string: 'hunter2' } });
    await vault.putValue('db', { string: 'hunter3' }, undefined);
    const { deletionDate } = await deleteSecret(vault, 'db', 7, undefined);
    expect(deletionDate).toBe(clock.now + 7 * DAY);
    clock.now += 7 * DAY - 1;
    expect(await purgeDueSecrets(store, clock.now)).toBe(0);
    expect(await store.count(keys.secretValuesOf('db'))).toBe(2);
    clock.now += 1;
    expect(await purgeDueSecrets(store, clock.now)).toBe(1);
    expect(await store.count('secrets/')).toBe(0);
    await expect(vault.find(undefined, 'db', { allowDeleted: true })).rejects.toThrow("Secrets Manager can't find the specified secret.");
  });

  it('leaves a restored secret alone, and its stale index entry is gone with the restore', async () => {
    const { store, clock, vault } = setup();
    await vault.create({ name: 'db', value: { string: 'hunter2' } });
    await deleteSecret(vault, 'db', undefined, undefined);
    await expect(vault.getValue('db')).rejects.toThrow(/marked for deletion/);
    await expect(deleteSecret(vault, 'db', undefined, true)).rejects.toThrow(/currently marked deleted/);
    await restoreSecret(vault, 'db');
    clock.now += 31 * DAY;
    expect(await purgeDueSecrets(store, clock.now)).toBe(0);
    expect((await vault.getValue('db')).value).toEqual({ string: 'hunter2' });
    expect(await store.count(keys.secretDeletions())).toBe(0);
  });

  it('refuses a window outside 7–30 days and a window with ForceDeleteWithoutRecovery, changing nothing', async () => {
    const { store, vault } = setup();
    await vault.create({ name: 'db', value: { string: 'x' } });
    const before = await store.revision();
    await expect(deleteSecret(vault, 'db', 6, undefined)).rejects.toThrow('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    await expect(deleteSecret(vault, 'db', 31, undefined)).rejects.toThrow(/between 7 and 30/);
    await expect(deleteSecret(vault, 'db', 7, true)).rejects.toThrow(/in conjunction with RecoveryWindowInDays/);
    expect(await store.revision()).toBe(before);
  });

  it('runs on its interval with the clock it is given', async () => {
    vi.useFakeTimers();
    const { store, clock, vault } = setup();
    await vault.create({ name: 'db', value: { string: 'x' } });
    await deleteSecret(vault, 'db', 7, undefined);
    const purge = startSecretPurge({ store, log: pino({ level: 'silent' }), now: () => clock.now, intervalMs: 60_000 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await store.count(keys.secrets())).toBe(1);
    clock.now += 7 * DAY;
    await vi.advanceTimersByTimeAsync(60_000);
    await purge.stop();
    expect(await store.count(keys.secrets())).toBe(0);
  });
});

describe('the vault', () => {
  it('keeps every version when two writers race (compare-and-swap), with one AWSCURRENT', async () => {
    const { store, vault } = setup();
    const other = new SecretVault(vault.env);
    await vault.create({ name: 'db', value: { string: 'v0' } });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? vault : other).putValue('db', { string: `v${i + 1}` }, undefined)));
    const secret = await vault.find(undefined, 'db');
    expect(Object.keys(secret.versions)).toHaveLength(11);
    expect(Object.values(secret.versions).filter((v) => v.stages.includes('AWSCURRENT'))).toHaveLength(1);
    expect(Object.values(secret.versions).filter((v) => v.stages.includes('AWSPREVIOUS'))).toHaveLength(1);
    expect(await store.count(keys.secretValuesOf('db'))).toBe(11);
  });

  it('stores values sealed: the store never holds the text, and a value moved to another record does not open', async () => {
    const { store, vault } = setup();
    const { versionId } = await vault.create({ name: 'db', value: { string: 'correct horse battery staple' } });
    await vault.create({ name: 'other', value: { string: 'x' }, token: 'a'.repeat(32) });
    const { entries } = await store.range('');
    for (const e of entries) expect(e.value).not.toContain('correct horse');
    const moved = await store.get(keys.secretValue('db', versionId!));
    await store.txn([], [{ type: 'put', key: keys.secretValue('other', 'a'.repeat(32)), value: moved!.value }]);
    await expect(vault.getValue('other')).rejects.toThrow(/does not authenticate/);
  });

  it('answers a retried create or put with the same token and value as the first, and refuses another value', async () => {
    const { vault } = setup();
    const token = 'b'.repeat(32);
    await vault.create({ name: 'db', value: { string: 'one' }, token });
    await expect(vault.create({ name: 'db', value: { string: 'one' }, token })).resolves.toMatchObject({ versionId: token });
    await expect(vault.putValue('db', { string: 'two' }, token)).rejects.toThrow("You can't modify an existing version");
    await expect(vault.putValue('db', { string: 'one' }, token)).resolves.toMatchObject({ versionId: token, stages: ['AWSCURRENT'] });
  });
});
