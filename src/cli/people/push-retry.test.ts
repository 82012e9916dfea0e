import { describe, expect, it } from 'vitest';
import { CliUsageError } from './settings.js';
import { isRetryable, retryDelay, RetryableRegistryError, withRetries, DEFAULT_RETRY } from './push-retry.js';

describe('berth push: retries', () => {
  it('pauses 250 ms, then twice as long each time, up to 4 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(DEFAULT_RETRY, n))).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
  });

  it('tries again what may pass: a lost connection, a 5xx/408/429 answer; not a refusal', () => {
    expect(isRetryable(new TypeError('fetch failed'))).toBe(true);
    expect(isRetryable(new RetryableRegistryError('the registry refused blob x: 503'))).toBe(true);
    expect(isRetryable(new CliUsageError('the registry refused blob x: 401 DENIED'))).toBe(false);
    expect(isRetryable(new TypeError('x is not a function'))).toBe(false);
  });

  it('retries until it succeeds, with the pauses between, and says each retry', async () => {
    const slept: number[] = [];
    const heard: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async (n) => {
        calls++;
        if (n < 3) throw new TypeError('fetch failed');
        return `done on try ${n}`;
      },
      (_e, n) => heard.push(n),
      async (ms) => void slept.push(ms),
    );
    expect(result).toBe('done on try 3');
    expect(calls).toBe(3);
    expect(slept).toEqual([250, 500]);
    expect(heard).toEqual([1, 2]);
  });

  it('gives up after the bounded number of tries with the last error, and at once on a refusal', async () => {
    let calls = 0;
    const lost = withRetries(
      async () => {
        calls++;
        throw new TypeError('fetch failed');
      },
      () => {},
      async () => {},
    );
    await expect(lost).rejects.toThrow('fetch failed');
    expect(calls).toBe(DEFAULT_RETRY.attempts);
    calls = 0;
    const refused = withRetries(
      async () => {
        calls++;
        throw new CliUsageError('the registry refused blob x: 401');
      },
      () => {},
      async () => {},
    );
    await expect(refused).rejects.toThrow(CliUsageError);
    expect(calls).toBe(1);
  });
});
