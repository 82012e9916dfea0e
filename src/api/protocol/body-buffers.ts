/**
 * Memory for large request bodies, reused from one request to the next. Why: a body of a few hundred KiB read into
 * fresh memory (what `Buffer.concat` of the socket's chunks allocates) faults every page of it in from the kernel,
 * and on a virtual machine that costs 10–20 times the copy itself (a 110 KB PutMetricData body: ~150–250 µs against
 * ~10 µs into memory already touched, measured on berth's 2-core Firecracker VM); memory freed at the top of
 * malloc's heap goes back to the kernel, so the next request faults it in again.
 *
 * A buffer is lent for one request ({@link take}) and given back ({@link give}) once nothing reads it any more: after
 * the body has been verified and decoded into strings and objects of its own (JSON text, CBOR values, form fields).
 * A body never given back (an error on the way, a protocol that does not give back) is simply collected.
 */
export class BodyBuffers {
  /** Free buffers, by capacity (powers of two from {@link MIN_POOLED}). */
  private readonly free = new Map<number, Buffer[]>();
  /** The memory lent out, so that only what {@link take} gave is taken back. */
  private readonly lent = new WeakSet<ArrayBuffer>();

  constructor(
    /** Free buffers kept per capacity (about the requests in flight at once). */
    private readonly keep = 16,
    /** The largest capacity kept: a longer buffer is taken fresh and not kept. */
    private readonly largest = MAX_POOLED,
  ) {}

  /** Whether a body of `length` bytes is read into a pooled buffer (smaller ones: Node's own pool serves them). */
  static pooled(length: number): boolean {
    return length >= MIN_POOLED && length <= MAX_POOLED;
  }

  /** A buffer of exactly `length` bytes (contents undefined), for one request. */
  take(length: number): Buffer {
    if (length > this.largest) return Buffer.allocUnsafeSlow(length);
    const capacity = capacityFor(length);
    const buffer = this.free.get(capacity)?.pop() ?? Buffer.allocUnsafeSlow(capacity);
    this.lent.add(buffer.buffer as ArrayBuffer);
    return buffer.subarray(0, length);
  }

  /** `body` (from {@link take}) is read no more: its memory serves a later request. Anything else is ignored. */
  give(body: Buffer): void {
    const memory = body.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.lent.has(memory)) return;
    this.lent.delete(memory);
    const capacity = memory.byteLength;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, (list = []));
    if (list.length < this.keep) list.push(Buffer.from(memory, 0, capacity));
  }
}

/** Bodies from this size are pooled: below it, `Buffer.allocUnsafe` takes them from Node's own 8 KiB slabs. */
const MIN_POOLED = 16 * 1024;
/** Bodies over this size (rare: CloudWatch Logs' batches) get memory of their own. */
const MAX_POOLED = 2 * 1024 * 1024;

function capacityFor(length: number): number {
  let capacity = MIN_POOLED;
  while (capacity < length) capacity *= 2;
  return capacity;
}
