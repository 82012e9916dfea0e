import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { keys } from '../state/keys.js';
import { parseTaskRecord } from '../state/records/tasks.js';
import { Informer } from '../store/informer.js';
import { MemoryStore } from '../store/memory.js';
import { startStoppedTaskReaper } from './stopped-task-reaper.js';

const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe('stopped-task reaper', () => {
  it('forgets RunTask client tokens a day old, and keeps younger ones', async () => {
    const store = new MemoryStore();
    stores.push(store);
    let now = 1_000_000;
    const token = (expiresAt: number) => JSON.stringify({ fingerprint: 'f', taskIds: [], failures: [], expiresAt });
    await store.txn([], [
      { type: 'put', key: keys.runTaskToken('default', 'old'), value: token(now - 1) },
      { type: 'put', key: keys.runTaskToken('default', 'young'), value: token(now + 60_000) },
    ]);
    const tasks = new Informer({ store, prefix: keys.tasks(), parse: parseTaskRecord }).start();
    const reaper = startStoppedTaskReaper({ store, tasks, log: pino({ level: 'silent' }), now: () => now });
    await reaper.sweep();
    expect(await store.get(keys.runTaskToken('default', 'old'))).toBeUndefined();
    expect(await store.get(keys.runTaskToken('default', 'young'))).toBeDefined();
    now += 120_000;
    await reaper.sweep();
    expect(await store.count(keys.runTaskTokens())).toBe(0);
    await reaper.stop();
    tasks.stop();
  });
});
