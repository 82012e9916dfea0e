import { describe, expect, it } from 'vitest';
import { RegistryError } from '../model/registry/errors.js';
import { MemoryStore } from '../store/memory.js';
import { TOKEN_LIFETIME_MS, TokenAuthority } from './tokens.js';

const basic = (password: string, user = 'AWS') => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as RegistryError).code;
  }
  return 'accepted';
};

describe('registry tokens', () => {
  it('are valid for 12 hours, as Basic or Bearer, then expire', async () => {
    let now = 1_000_000;
    const tokens = await TokenAuthority.open(new MemoryStore(), () => now);
    const issued = tokens.issue('arn:aws:iam::123456789012:root');
    expect(issued.expiresAt).toBe(now + TOKEN_LIFETIME_MS);
    expect(Buffer.from(issued.authorizationToken, 'base64').toString()).toBe(`AWS:${issued.password}`);
    expect(tokens.verifyHeader(basic(issued.password))).toEqual({
      principal: 'arn:aws:iam::123456789012:root',
      expiresAt: issued.expiresAt,
      caller: { arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' },
    });
    expect(code(() => tokens.verifyHeader(`Bearer ${issued.password}`))).toBe('accepted');
    expect(code(() => tokens.verifyHeader(`Bearer ${issued.authorizationToken}`))).toBe('accepted');
    now += TOKEN_LIFETIME_MS - 1;
    expect(code(() => tokens.verifyHeader(basic(issued.password)))).toBe('accepted');
    now += 1;
    expect(() => tokens.verifyHeader(basic(issued.password))).toThrow(/expired/);
  });

  it('share one secret through the store, and reject tokens signed with another', async () => {
    const store = new MemoryStore();
    const a = await TokenAuthority.open(store, Date.now);
    const b = await TokenAuthority.open(store, Date.now);
    const stranger = await TokenAuthority.open(new MemoryStore(), Date.now);
    const issued = a.issue('me');
    expect(code(() => b.verifyHeader(basic(issued.password)))).toBe('accepted');
    expect(code(() => stranger.verifyHeader(basic(issued.password)))).toBe('UNAUTHORIZED');
    expect(code(() => a.verifyHeader(basic(issued.password, 'root')))).toBe('UNAUTHORIZED');
    expect(code(() => a.verifyHeader(undefined))).toBe('UNAUTHORIZED');
    expect(code(() => a.verifyHeader(basic(`${issued.password}.extra`)))).toBe('UNAUTHORIZED');
  });

  it('carry the principal who asked for them, which cannot be changed without the secret', async () => {
    const tokens = await TokenAuthority.open(new MemoryStore(), () => 1_000);
    const alice = { arn: 'arn:aws:iam::123456789012:user/alice', accountId: '123456789012', type: 'User', userName: 'alice', userId: 'AIDAALICE' } as const;
    const issued = tokens.issue(alice);
    expect(tokens.verifyPassword(issued.password).caller).toEqual(alice);
    // Claims rewritten to name root, the signature kept: refused.
    const [prefix, claims, signature] = issued.password.split('.');
    const forged = JSON.parse(Buffer.from(claims!, 'base64url').toString('utf8')) as Record<string, unknown>;
    forged.p = 'arn:aws:iam::123456789012:root';
    const password = [prefix, Buffer.from(JSON.stringify(forged)).toString('base64url'), signature].join('.');
    expect(code(() => tokens.verifyPassword(password))).toBe('UNAUTHORIZED');
  });
});
