import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { HISTORY_RETENTION_MS, pruneHistories, pruneOlderThan } from './history-retention.js';
import { alarmKeys, scalingKeys } from './scaling-keys.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12);
const put = (store: MemoryStore, key: string) => store.txn([], [{ type: 'put', key, value: '{}' }]);
const keysUnder = async (store: MemoryStore, prefix: string) => (await store.range(prefix)).entries.map((e) => e.key);

describe('history retention', () => {
  it('deletes alarm history older than 30 days and scaling activities older than six weeks, per alarm and per target', async () => {
    const store = new MemoryStore();
    const history = (alarm: string, daysAgo: number, id: string) => alarmKeys.history(alarm, NOW - daysAgo * DAY, id);
    const activity = (service: string, daysAgo: number, id: string) => scalingKeys.activity('ecs', 'ecs:service:DesiredCount', `service/c/${service}`, NOW - daysAgo * DAY, id);
    const kept = [history('high', 0, 'a'), history('high', 29.9, 'b'), history('low', 1, 'c'), activity('web', 0, 'd'), activity('web', 41, 'e'), activity('api', 10, 'f')];
    const old = [history('high', 30.1, 'g'), history('high', 400, 'h'), history('low', 31, 'i'), history('gone', 90, 'j'), activity('web', 42.5, 'k'), activity('api', 100, 'l')];
    for (const key of [...kept, ...old]) await put(store, key);

    expect(await pruneHistories(store, NOW)).toEqual({ alarmHistory: 4, scalingActivities: 2 });
    expect([...(await keysUnder(store, alarmKeys.histories())), ...(await keysUnder(store, scalingKeys.activities()))].sort()).toEqual([...kept].sort());
    // Nothing left to do: a second pass deletes nothing.
    expect(await pruneHistories(store, NOW)).toEqual({ alarmHistory: 0, scalingActivities: 0 });
    // A day later, the 29.9-day item is past 30 days.
    expect(await pruneHistories(store, NOW + DAY)).toEqual({ alarmHistory: 1, scalingActivities: 0 });
  });

  it('keeps an item exactly at the cutoff, and deletes across pages and transactions', async () => {
    const store = new MemoryStore();
    const cutoff = NOW - HISTORY_RETENTION_MS.alarmHistory;
    await put(store, alarmKeys.history('edge', cutoff, 'x'));
    // 1,234 old items of one alarm and 3 of others: more than a page and than a transaction's deletes.
    for (let i = 0; i < 1234; i++) await put(store, alarmKeys.history('busy', cutoff - 1 - i * 1000, String(i).padStart(4, '0')));
    for (const name of ['a', 'b', 'c']) await put(store, alarmKeys.history(name, cutoff - DAY, 'old'));
    expect(await pruneOlderThan(store, alarmKeys.histories(), cutoff)).toBe(1237);
    expect(await keysUnder(store, alarmKeys.histories())).toEqual([alarmKeys.history('edge', cutoff, 'x')]);
  });
});
