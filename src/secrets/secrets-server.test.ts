import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server/server.js';
import { TEST_ACCOUNT, TEST_KEYS, TEST_REGION } from '../testing/api-server.js';

const DAY = 86_400_000;

describe('secrets on a running server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it("are purged by the leader once the server's clock passes their recovery window", async () => {
    const clock = { now: Date.now() };
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      store: 'memory',
      region: TEST_REGION,
      accountId: TEST_ACCOUNT,
      rootKeys: TEST_KEYS,
      logger: pino({ level: 'silent' }),
      now: () => clock.now,
      secretPurgeMs: 20,
      leaseTtlMs: 1_000,
    });
    await expect.poll(() => server!.leadership.role(), { timeout: 10_000 }).toBe('leader');
    const sm = new SecretsManagerClient({ region: TEST_REGION, endpoint: server.url, credentials: TEST_KEYS, maxAttempts: 1 });
    try {
      await sm.send(new CreateSecretCommand({ Name: 'short-lived', SecretString: 'x' }));
      await sm.send(new DeleteSecretCommand({ SecretId: 'short-lived', RecoveryWindowInDays: 7 }));
      // (That it stays until then is secret-deletion.test.ts's, on fake timers.)
      expect((await sm.send(new DescribeSecretCommand({ SecretId: 'short-lived' }))).DeletedDate).toBeInstanceOf(Date);
      clock.now += 7 * DAY;
      await expect
        .poll(() => sm.send(new DescribeSecretCommand({ SecretId: 'short-lived' })).then(() => 'present', (e: Error) => e.name), { timeout: 10_000 })
        .toBe('ResourceNotFoundException');
    } finally {
      sm.destroy();
    }
  });
});
