/**
 * `berth push`'s retries: a blob whose upload failed for a reason that may pass (the connection dropped or was
 * refused, the registry answered 408, 429 or 5xx) is tried again after a growing pause, a bounded number of times;
 * a refusal (other 4xx: credentials, a bad digest) is not. Pure: the pause is injected.
 */
export interface RetryPolicy {
  /** Tries in all, the first included (default 5). */
  readonly attempts: number;
  /** The first pause; each next one doubles, up to `maxDelayMs` (defaults 250 ms and 4 s). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 4_000 };

/** A registry answer worth trying again. */
export class RetryableRegistryError extends Error {
  override readonly name = 'RetryableRegistryError';
}

export const isRetryableStatus = (status: number) => status === 408 || status === 429 || status >= 500;

/** Whether `error` may pass: a registry answer said so, or the request never got an answer (fetch's TypeError). */
export function isRetryable(error: unknown): boolean {
  return error instanceof RetryableRegistryError || (error instanceof TypeError && /fetch failed|terminated|socket|ECONN|EPIPE/i.test(`${error.message} ${String((error as { cause?: unknown }).cause)}`));
}

/** The pause before try `n + 1` (n ≥ 1 tries made). */
export const retryDelay = (policy: RetryPolicy, n: number) => Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));

/**
 * Runs `attempt` until it succeeds, fails for good, or the tries are used up (the last error is thrown);
 * `onRetry` hears each failure that will be tried again and the pause before it.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  onRetry: (error: unknown, n: number, delayMs: number) => void,
  sleep: (ms: number) => Promise<void>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= policy.attempts || !isRetryable(error)) throw error;
      const delay = retryDelay(policy, n);
      onRetry(error, n, delay);
      await sleep(delay);
    }
  }
}
