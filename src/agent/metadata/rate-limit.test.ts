import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('the per-address rate limit', () => {
  it('allows the burst, then the steady rate, per address', () => {
    let now = 0;
    const limiter = new RateLimiter({ perSecond: 10, burst: 3, now: () => now });
    expect([1, 2, 3, 4].map(() => limiter.take('10.0.0.2'))).toEqual([true, true, true, false]);
    expect(limiter.take('10.0.0.3')).toBe(true);
    now = 100; // one token back after 1/10 s
    expect([limiter.take('10.0.0.2'), limiter.take('10.0.0.2')]).toEqual([true, false]);
    now = 10_000; // refills to the burst, not beyond
    expect([1, 2, 3, 4].map(() => limiter.take('10.0.0.2'))).toEqual([true, true, true, false]);
  });
});
