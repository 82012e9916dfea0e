import { ForwardingStore } from './forwarding-store.js';
import type { Compare, Op, Store, TxnResult } from './store.js';

/**
 * The leader this store writes for is no longer leader (its key changed or is gone, or it stepped down):
 * nothing was written, and nothing written through this store ever will be. Not a conflict, so `transact()`
 * does not retry it (it only retries a txn whose compares failed); the caller's work ends with its term.
 */
export class FencedOffError extends Error {
  override readonly name = 'FencedOffError';
  constructor(
    readonly fenceKey: string,
    readonly heldRevision: number,
  ) {
    super(`no longer the leader: ${fenceKey} is no longer at revision ${heldRevision}; the write was refused`);
  }
}

/**
 * A Store whose every transaction also compares the fence key (the leader key) with the mod revision it had
 * when this leader was elected, so a deposed leader — cut off, paused, or just slow to notice — can never
 * write, whatever it believes: the comparison is made by the store, in the same atomic step as the write.
 *
 * Reads, watches and leases pass through. When a txn fails, one read tells a lost fence from an ordinary
 * conflict: a lost fence throws {@link FencedOffError} (and so does every later txn, without asking the
 * store); a conflict returns `succeeded: false` as usual so `transact()` retries on fresh data.
 *
 * `close()` closes the fence, not the store underneath (which the replica owns): the leader calls it when it
 * steps down, so that writes refused locally from then on, even those the store would still accept.
 */
export class FencedStore extends ForwardingStore {
  private open = true;
  private readonly lostListeners: (() => void)[] = [];

  constructor(
    inner: Store,
    /** The key whose mod revision is the fence (the leader key). */
    readonly fenceKey: string,
    /** Its mod revision when this leader took it. */
    readonly heldRevision: number,
  ) {
    super(inner);
  }

  /** False once the fence was found lost or closed. */
  get holds(): boolean {
    return this.open;
  }

  /** Call `listener` once if a write finds the fence lost (the holder should end its term). */
  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  override async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    if (!this.open) throw new FencedOffError(this.fenceKey, this.heldRevision);
    const result = await this.inner.txn([...compares, { key: this.fenceKey, modRevision: this.heldRevision }], ops);
    if (result.succeeded) return result;
    const fence = await this.inner.get(this.fenceKey);
    if (fence?.modRevision !== this.heldRevision) {
      const wasOpen = this.open;
      this.open = false;
      if (wasOpen) for (const listener of this.lostListeners.splice(0)) listener();
      throw new FencedOffError(this.fenceKey, this.heldRevision);
    }
    return result;
  }

  override compact(revision: number): Promise<void> {
    if (!this.open) return Promise.reject(new FencedOffError(this.fenceKey, this.heldRevision));
    return this.inner.compact(revision);
  }
  /** Close the fence (the term ended); the store underneath stays open. */
  override async close(): Promise<void> {
    this.open = false;
  }
}
