import { ForwardingStore } from './forwarding-store.js';
import type { Compare, Op, Store, TxnResult } from './store.js';

/** How a timed transaction ended: committed, refused by a compare, or failed (the backend threw). */
export type TxnOutcome = 'succeeded' | 'compare_failed' | 'error';

/**
 * A Store whose every `txn` reports its latency to `observe` (operators' metrics): the one place all of
 * berth's writes pass, whichever backend sits below. Everything else is handed straight through.
 */
export class TimedStore extends ForwardingStore {
  constructor(
    inner: Store,
    private readonly observe: (seconds: number, outcome: TxnOutcome) => void,
  ) {
    super(inner);
  }

  override async txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult> {
    const started = performance.now();
    try {
      const result = await this.inner.txn(compares, ops);
      this.observe((performance.now() - started) / 1000, result.succeeded ? 'succeeded' : 'compare_failed');
      return result;
    } catch (error) {
      this.observe((performance.now() - started) / 1000, 'error');
      throw error;
    }
  }
}
