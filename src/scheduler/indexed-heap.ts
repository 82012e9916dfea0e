/**
 * A binary min-heap of small integer ids (instance or bucket indices) under a comparator, that knows where each
 * id sits so one id can be re-ranked or removed in O(log n) after its key changed.
 */
export class IndexedHeap {
  private readonly heap: Int32Array;
  /** id → position in `heap`, or -1 when absent. */
  private readonly position: Int32Array;
  private length = 0;

  /**
   * @param capacity how many ids the heap can hold at once.
   * @param compare negative when `a` should come out before `b`.
   * @param position id → slot, shared by heaps that partition one id space (each id in at most one of them),
   *   so many small heaps cost memory in proportion to their members; by default ids are 0 … capacity-1.
   */
  constructor(
    capacity: number,
    private readonly compare: (a: number, b: number) => number,
    position?: Int32Array,
  ) {
    this.heap = new Int32Array(capacity);
    this.position = position ?? new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.length;
  }

  /** The least id, or -1 when empty. */
  peek(): number {
    return this.length > 0 ? this.heap[0]! : -1;
  }

  /** Add the ids in one O(n) heapify. */
  build(ids: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      this.heap[this.length] = id;
      this.position[id] = this.length++;
    }
    for (let p = (this.length >> 1) - 1; p >= 0; p--) this.down(p);
  }

  push(id: number): void {
    this.heap[this.length] = id;
    this.position[id] = this.length;
    this.up(this.length++);
  }

  /** Restore order after `id`'s key changed (either way). */
  update(id: number): void {
    const p = this.position[id]!;
    if (p < 0) return;
    this.up(p);
    this.down(this.position[id]!);
  }

  remove(id: number): void {
    const p = this.position[id]!;
    if (p < 0) return;
    const last = this.heap[--this.length]!;
    this.position[id] = -1;
    if (p === this.length) return;
    this.heap[p] = last;
    this.position[last] = p;
    this.up(p);
    this.down(this.position[last]!);
  }

  private up(p: number): void {
    const id = this.heap[p]!;
    while (p > 0) {
      const parent = (p - 1) >> 1;
      const other = this.heap[parent]!;
      if (this.compare(id, other) >= 0) break;
      this.heap[p] = other;
      this.position[other] = p;
      p = parent;
    }
    this.heap[p] = id;
    this.position[id] = p;
  }

  private down(p: number): void {
    const id = this.heap[p]!;
    for (;;) {
      let child = 2 * p + 1;
      if (child >= this.length) break;
      const right = child + 1;
      if (right < this.length && this.compare(this.heap[right]!, this.heap[child]!) < 0) child = right;
      const other = this.heap[child]!;
      if (this.compare(other, id) >= 0) break;
      this.heap[p] = other;
      this.position[other] = p;
      p = child;
    }
    this.heap[p] = id;
    this.position[id] = p;
  }
}
