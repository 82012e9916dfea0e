import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRingSealer } from '../../identity/sealer.js';
import { ServiceError } from '../../model/errors.js';
import type { AssumedRolePrincipal } from '../auth/credentials.js';
import { SessionTokens } from './session-tokens.js';

const sealer = new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]);
const principal: AssumedRolePrincipal = {
  type: 'AssumedRole',
  arn: 'arn:aws:sts::123456789012:assumed-role/r/s',
  accountId: '123456789012',
  roleArn: 'arn:aws:iam::123456789012:role/r',
  roleName: 'r',
  roleId: 'AROAAAAAAAAAAAAAAAAAA',
  sessionName: 's',
};

describe('session tokens: temporary credentials sealed into their token', () => {
  it('gives the key, secret and principal back to any holder of the key ring, until expiry', async () => {
    let now = 1_000_000_000_000;
    const issuer = new SessionTokens(sealer, () => now);
    const issued = issuer.issue(principal, 900);
    expect(issued.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(issued.expiration).toBe(now / 1000 + 900);
    expect(issued.sessionToken).not.toContain(issued.secretAccessKey);
    // Another replica: same key ring, its own cache.
    const replica = new SessionTokens(sealer, () => now);
    expect(await replica.lookup(issued.accessKeyId, issued.sessionToken)).toEqual({
      accessKeyId: issued.accessKeyId,
      secretAccessKey: issued.secretAccessKey,
      sessionToken: issued.sessionToken,
      principal,
    });
    now += 899_999;
    expect(await replica.lookup(issued.accessKeyId, issued.sessionToken)).toBeDefined();
    now += 1;
    await expect(replica.lookup(issued.accessKeyId, issued.sessionToken)).rejects.toMatchObject({ type: 'ExpiredTokenException' });
    await expect(replica.lookup(issued.accessKeyId, issued.sessionToken)).rejects.toBeInstanceOf(ServiceError);
  });

  it('knows nothing of a token for another key, an altered token, one sealed under another ring, or none', async () => {
    const tokens = new SessionTokens(sealer);
    const a = tokens.issue(principal, 900);
    const b = tokens.issue(principal, 900);
    expect(await tokens.lookup(a.accessKeyId, b.sessionToken)).toBeUndefined();
    expect(await tokens.lookup(a.accessKeyId)).toBeUndefined();
    const flipped = a.sessionToken.slice(0, -2) + (a.sessionToken.endsWith('AA') ? 'BB' : 'AA');
    expect(await tokens.lookup(a.accessKeyId, flipped)).toBeUndefined();
    const stranger = new SessionTokens(new KeyRingSealer([{ id: 'k1', key: randomBytes(32) }]));
    expect(await stranger.lookup(a.accessKeyId, a.sessionToken)).toBeUndefined();
    expect(await tokens.lookup('AKIAAAAAAAAAAAAAAAAA', a.sessionToken)).toBeUndefined();
  });
});
