import { createServer } from 'node:net';
import { pino } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { TEST_ACCOUNT, TEST_KEYS, TEST_REGION } from '../testing/api-server.js';
import { startServer } from './server.js';

describe('startServer', () => {
  it('stops what it started when the start fails half-way (a port in use): the replica gives its presence lease back', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const store = new MemoryStore();
    const revoked = vi.spyOn(store, 'revokeLease');
    try {
      await expect(
        startServer({
          host: '127.0.0.1',
          port,
          store: 'memory',
          storeInstance: store,
          region: TEST_REGION,
          accountId: TEST_ACCOUNT,
          rootKeys: TEST_KEYS,
          logger: pino({ level: 'silent' }),
        }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(revoked).toHaveBeenCalledTimes(1);
    } finally {
      taken.close();
      await store.close();
    }
  });
});
