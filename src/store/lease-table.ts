import { LeaseNotFoundError, type LeaseId } from './store.js';

interface Lease {
  readonly ttlMs: number;
  timer: ReturnType<typeof setTimeout>;
  readonly keys: Set<string>;
}

/**
 * The in-process backends' leases: one timer per lease (so fake timers drive them in tests) and the keys
 * attached to each. When a lease ends by expiry, `onExpire` gets its keys for the backend to delete in one
 * revision; a revoke returns them to the caller to do the same.
 */
export class LeaseTable {
  private readonly leases = new Map<LeaseId, Lease>();
  /** Ids keep growing across restarts of a persistent store, so an id from a previous run never matches. */
  private nextId = Date.now() * 1_000;

  constructor(private readonly onExpire: (id: LeaseId, keys: string[]) => void) {}

  grant(ttlMs: number): { id: LeaseId; ttlMs: number } {
    if (!(ttlMs > 0)) throw new RangeError(`a lease TTL must be positive, not ${ttlMs}`);
    const id = String(this.nextId++);
    this.leases.set(id, { ttlMs, timer: this.arm(id, ttlMs), keys: new Set() });
    return { id, ttlMs };
  }

  keepAlive(id: LeaseId): number {
    const lease = this.live(id);
    clearTimeout(lease.timer);
    lease.timer = this.arm(id, lease.ttlMs);
    return lease.ttlMs;
  }

  /** End the lease; returns its keys, which the caller deletes. */
  revoke(id: LeaseId): string[] {
    const lease = this.live(id);
    clearTimeout(lease.timer);
    this.leases.delete(id);
    return [...lease.keys];
  }

  /** Throws LeaseNotFoundError unless the lease is live. */
  assertLive(id: LeaseId): void {
    this.live(id);
  }

  attach(key: string, id: LeaseId): void {
    this.leases.get(id)?.keys.add(key);
  }

  detach(key: string, id: LeaseId | undefined): void {
    if (id !== undefined) this.leases.get(id)?.keys.delete(key);
  }

  /** Stop every timer (the store is closing); leases end with the process. */
  clear(): void {
    for (const lease of this.leases.values()) clearTimeout(lease.timer);
    this.leases.clear();
  }

  private live(id: LeaseId): Lease {
    const lease = this.leases.get(id);
    if (!lease) throw new LeaseNotFoundError(id);
    return lease;
  }

  private arm(id: LeaseId, ttlMs: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      const lease = this.leases.get(id);
      if (!lease) return;
      this.leases.delete(id);
      this.onExpire(id, [...lease.keys]);
    }, ttlMs);
    // A pending lease must not keep a process alive that has nothing else to do.
    timer.unref?.();
    return timer;
  }
}
