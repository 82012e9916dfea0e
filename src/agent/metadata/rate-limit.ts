/**
 * Requests per second per requesting address, as ECS's endpoint limits them (a token bucket: a steady
 * rate with a burst on top; ECS's defaults are 40 and 60). A container that polls in a tight loop is
 * answered 429 instead of keeping the agent busy.
 */
export interface RateLimitOptions {
  readonly perSecond: number;
  readonly burst: number;
  readonly now?: () => number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { perSecond: 40, burst: 60 };

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions = DEFAULT_RATE_LIMIT) {
    this.now = options.now ?? Date.now;
  }

  /** Take one request's token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.now();
    const { perSecond, burst } = this.options;
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    // Full buckets carry no information: forgetting them bounds the map by the addresses active right now.
    if (this.buckets.size > 1024) {
      for (const [k, v] of this.buckets) if (v.tokens + ((now - v.at) / 1000) * perSecond >= burst) this.buckets.delete(k);
    }
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    return true;
  }
}
