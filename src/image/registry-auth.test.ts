import { describe, expect, it } from 'vitest';
import { TokenCache } from './registry-auth.js';

describe('TokenCache', () => {
  it('hands a token out until it expires, then forgets it', () => {
    const cache = new TokenCache();
    cache.set('k', 'token', 1_000);
    expect(cache.get('k', 999)).toBe('token');
    expect(cache.get('other', 999)).toBeUndefined();
    expect(cache.get('k', 1_000)).toBeUndefined();
    expect(cache.get('k', 0)).toBeUndefined();
  });
});
