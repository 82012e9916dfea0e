import type { ClusterState } from './cluster-state.js';
import { IndexedHeap } from './indexed-heap.js';
import type { Ranker } from './ranking.js';

/**
 * Picks the best instance that can take the next task. After each placement `changed(i)` is called for the one
 * instance whose row changed; both selectors then agree on every pick (the order is total and the same).
 */
export interface Selector {
  /** The instance to place the next task on, or -1 when none can take it. */
  best(): number;
  changed(i: number): void;
}

/**
 * Compares every instance that can still take a task, for any chain of strategies: O(instances) per task.
 * Used when the chain spreads by an attribute after another strategy, where a placement re-orders instances
 * other than the chosen one in ways a heap cannot follow cheaply.
 */
export class ScanSelector implements Selector {
  private readonly candidates: Int32Array;
  private readonly position: Int32Array;
  private count = 0;

  constructor(
    private readonly state: ClusterState,
    private readonly ranker: Ranker,
  ) {
    this.candidates = new Int32Array(state.size);
    this.position = new Int32Array(state.size).fill(-1);
    for (let i = 0; i < state.size; i++) {
      if (state.rejection[i] === 0) {
        this.candidates[this.count] = i;
        this.position[i] = this.count++;
      }
    }
  }

  best(): number {
    let best = -1;
    for (let k = 0; k < this.count; k++) {
      const i = this.candidates[k]!;
      if (best < 0 || this.ranker.compare(i, best) < 0) best = i;
    }
    return best;
  }

  changed(i: number): void {
    const p = this.position[i]!;
    if (p < 0 || this.state.rejection[i] === 0) return;
    const last = this.candidates[--this.count]!;
    this.candidates[p] = last;
    this.position[last] = p;
    this.position[i] = -1;
  }
}

/**
 * O(log instances) per task for chains that spread by at most one attribute, and only first (the common ones:
 * spread(attribute:ecs.availability-zone) then binpack or spread(instanceId); binpack alone; random). Instances
 * sit in one heap per attribute value, ordered by the rest of the chain; a heap of those buckets orders them
 * by the value's task count, then by their best instance.
 */
export class IndexedSelector implements Selector {
  private readonly buckets: IndexedHeap[];
  private readonly root: IndexedHeap;
  private readonly bucketOf: Int32Array;

  /** Whether the ranker's chain has the shape this selector serves. */
  static serves(ranker: Ranker): boolean {
    return ranker.levels.every((level, l) => l === 0 || level.kind === 'instance');
  }

  constructor(
    private readonly state: ClusterState,
    ranker: Ranker,
  ) {
    const first = ranker.levels[0]!;
    const byValue = first.kind === 'value' ? first : undefined;
    const from = byValue ? 1 : 0;
    const compareInstances = (a: number, b: number) => ranker.compare(a, b, from);
    this.bucketOf = byValue ? byValue.valueOf : new Int32Array(state.size);
    const bucketCount = byValue ? byValue.counts.length : 1;

    // Sort the instances that can take a task by bucket (a counting sort), then heapify each bucket's slice.
    const start = new Int32Array(bucketCount + 1);
    for (let i = 0; i < state.size; i++) if (state.rejection[i] === 0) start[this.bucketOf[i]! + 1]! += 1;
    for (let b = 0; b < bucketCount; b++) start[b + 1]! += start[b]!;
    const sorted = new Int32Array(start[bucketCount]!);
    const next = start.slice(0, bucketCount);
    for (let i = 0; i < state.size; i++) if (state.rejection[i] === 0) sorted[next[this.bucketOf[i]!]!++] = i;
    const position = new Int32Array(state.size).fill(-1);
    this.buckets = [];
    for (let b = 0; b < bucketCount; b++) {
      const heap = new IndexedHeap(start[b + 1]! - start[b]!, compareInstances, position);
      heap.build(sorted.subarray(start[b]!, start[b + 1]!));
      this.buckets.push(heap);
    }

    const counts = byValue?.counts;
    const compareBuckets = (a: number, b: number): number => {
      const ta = this.buckets[a]!.peek();
      const tb = this.buckets[b]!.peek();
      if (ta < 0 || tb < 0) return ta < 0 && tb < 0 ? a - b : ta < 0 ? 1 : -1;
      if (counts && counts[a] !== counts[b]) return counts[a]! < counts[b]! ? -1 : 1;
      return compareInstances(ta, tb);
    };
    this.root = new IndexedHeap(bucketCount, compareBuckets);
    this.root.build(Int32Array.from({ length: bucketCount }, (_, b) => b));
  }

  best(): number {
    const b = this.root.peek();
    return b < 0 ? -1 : this.buckets[b]!.peek();
  }

  changed(i: number): void {
    const b = this.bucketOf[i]!;
    const heap = this.buckets[b]!;
    if (this.state.rejection[i] === 0) heap.update(i);
    else heap.remove(i);
    this.root.update(b);
  }
}
