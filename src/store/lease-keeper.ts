import { LeaseNotFoundError, type LeaseId, type Store } from './store.js';

/** Time and timers, injectable so that fake-timer tests drive leases, elections and retries. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock and timers (looked up at each call, so vitest's fake timers replace them too). */
export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface KeptLease {
  readonly id: LeaseId;
  /** The latest moment the lease could still be valid: when the last successful keepalive (or the grant) was sent, plus its TTL. */
  validUntil(): number;
  /** Stop keeping it alive (it then ends by expiry unless revoked). */
  stop(): void;
}

export interface KeepLeaseOptions {
  /** Between keepalives (default TTL/3). */
  readonly keepAliveMs?: number;
  /** Give the lease up this long before it could end (default TTL/5): room for a slow clock. */
  readonly marginMs?: number;
  readonly timers?: Timers;
  /**
   * The lease is lost, or may be about to end: keepalives failed until `validUntil − margin`, or the store said
   * it has ended. Called once; keepalives stop.
   */
  readonly onLost: (reason: string) => void;
  /** A keepalive failed (the lease may still be kept by a later one). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Grant a lease and keep it alive, one keepalive at a time, knowing the latest moment it is surely valid:
 * the store restarted its countdown no earlier than the moment the request was SENT, so `sent + TTL` is a
 * lower bound on its end whatever the network did to the answer. The holder is told to give it up `marginMs`
 * before that bound when keepalives keep failing — never after.
 */
export async function keepLease(store: Store, ttlMs: number, options: KeepLeaseOptions): Promise<KeptLease> {
  const timers = options.timers ?? systemTimers;
  const sentAt = timers.now();
  const granted = await store.grantLease(ttlMs);
  return keepGranted(store, { ...granted, sentAt }, options);
}

/** {@link keepLease} for a lease already granted, whose grant was sent at `sentAt`. */
export function keepGranted(store: Store, lease: { id: LeaseId; ttlMs: number; sentAt: number }, options: KeepLeaseOptions): KeptLease {
  const timers = options.timers ?? systemTimers;
  const keepAliveMs = options.keepAliveMs ?? Math.floor(lease.ttlMs / 3);
  const marginMs = options.marginMs ?? Math.floor(lease.ttlMs / 5);
  let validUntil = lease.sentAt + lease.ttlMs;
  let done = false;
  let deadline: unknown;
  let next: unknown;

  const finish = (reason?: string) => {
    if (done) return;
    done = true;
    timers.clearTimeout(deadline);
    timers.clearTimeout(next);
    if (reason !== undefined) options.onLost(reason);
  };
  const armDeadline = () => {
    timers.clearTimeout(deadline);
    deadline = timers.setTimeout(() => finish('keepalives failed; the lease may be ending'), Math.max(0, validUntil - marginMs - timers.now()));
  };
  const keepAlive = async () => {
    const sentAt = timers.now();
    try {
      const ttl = await store.keepAliveLease(lease.id);
      if (done) return;
      validUntil = Math.max(validUntil, sentAt + ttl);
      armDeadline();
    } catch (error) {
      if (done) return;
      if (error instanceof LeaseNotFoundError) return finish('the lease has ended');
      options.onError?.(error);
    }
    // A keepalive that hangs delays the next one; the deadline does not wait for it.
    next = timers.setTimeout(() => void keepAlive(), Math.max(0, sentAt + keepAliveMs - timers.now()));
  };
  armDeadline();
  next = timers.setTimeout(() => void keepAlive(), keepAliveMs);
  return { id: lease.id, validUntil: () => validUntil, stop: () => finish() };
}

/** `promise`, or a rejection after `ms` (for best-effort calls that must not hold a shutdown up). */
export function withDeadline<T>(promise: Promise<T>, ms: number, timers: Timers = systemTimers): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = timers.setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        timers.clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        timers.clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
