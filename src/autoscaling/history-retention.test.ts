import { describe, expect, it } from 'vitest';
import { alarmKeys } from '../state/scaling-keys.js';
import { MemoryStore } from '../store/memory.js';
import { startHistoryRetention } from './history-retention.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12);

describe("the leader's history retention pass", () => {
  it('runs as a periodic pass on the clock it is given', async () => {
    const store = new MemoryStore();
    let now = NOW;
    await store.txn([], [{ type: 'put', key: alarmKeys.history('a', NOW - 10 * DAY, 'x'), value: '{}' }]);
    let tick: (() => void) | undefined;
    const pass = startHistoryRetention({
      store,
      now: () => now,
      log: { error: () => {} },
      intervalMs: 1000,
      setInterval: ((fn: () => void) => ((tick = fn), { unref() {} })) as unknown as typeof setInterval,
      clearInterval: (() => {}) as typeof clearInterval,
    });
    tick!();
    await pass.stop();
    expect((await store.range(alarmKeys.histories())).entries).toHaveLength(1);
    now = NOW + 25 * DAY;
    tick!();
    await pass.stop();
    expect((await store.range(alarmKeys.histories())).entries).toHaveLength(0);
  });
});
