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

  it('keeps at most maxEntries: expired tokens go first, then the oldest', () => {
    const cache = new TokenCache(3);
    cache.set('old', 'a', 10_000, 0);
    cache.set('expired', 'b', 50, 0);
    cache.set('mid', 'c', 10_000, 0);
    cache.set('new', 'd', 10_000, 100);
    expect(cache.size).toBe(3);
    expect(['old', 'expired', 'mid', 'new'].map((k) => cache.get(k, 100))).toEqual(['a', undefined, 'c', 'd']);
    cache.set('newer', 'e', 10_000, 100);
    expect(cache.size).toBe(3);
    expect(cache.get('old', 100)).toBeUndefined();
    expect(cache.get('newer', 100)).toBe('e');
  });
});
