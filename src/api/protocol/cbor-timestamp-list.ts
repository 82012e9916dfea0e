import { addExtension } from 'cbor-x';

/**
 * A list of timestamps (epoch seconds) handed to cbor-x so that it writes each as RPC v2 CBOR requires — tag 1
 * before the number — without an object per element. The plain form, a `Date` per timestamp, made GetMetricData's
 * 144,000-timestamp answer cost 3× its values (measured in process: ~130 ms of CPU against ~11 ms this way; a cbor-x
 * `Tag` per timestamp ~70 ms): every one of those objects lives until the whole answer is encoded.
 *
 * How: cbor-x writes an array element by element, in order, and an instance of a registered extension class as the
 * extension's tag followed by what its `encode` passes back to cbor-x. The list becomes an array holding one
 * {@link TimestampCursor} N times (one allocation of N references), and each time cbor-x meets it the extension
 * hands it the next timestamp; all the bytes are cbor-x's own. Correct only while nothing else encodes the cursor:
 * {@link timestampList}'s lists are made for one value, and that value is encoded whole before the next is made.
 */
class TimestampCursor {
  next = 0;

  constructor(readonly seconds: readonly number[]) {}

  /** The next timestamp, from the first again after the last: the same list may be written several times. */
  take(): number {
    const at = this.next;
    this.next = at + 1 === this.seconds.length ? 0 : at + 1;
    return this.seconds[at]!;
  }
}

// Typed as cbor-x declares extensions (one type for what is encoded and what is decoded).
addExtension<TimestampCursor | Date, number>({
  Class: TimestampCursor,
  tag: 1,
  encode(cursor, encode) {
    return encode((cursor as TimestampCursor).take());
  },
  // Registering tag 1 replaces cbor-x's decoder of it (for every Decoder in the process): this is the same as
  // cbor-x's own, epoch seconds to a Date (rpcv2-cbor.ts turns it back into seconds).
  decode: (seconds) => new Date(Math.round(seconds * 1000)),
});

/**
 * `seconds` (every element a number) as an array cbor-x encodes as tag-1 timestamps. The same `seconds` as the call
 * before gives the same array (GetMetricData's results share one array of timestamps): cbor-x writes it once per
 * place it appears, its cursor going round the list each time, since a whole answer is made ready before cbor-x
 * writes any of it.
 */
export function timestampList(seconds: readonly number[]): unknown[] {
  if (last !== undefined && last.cursor.seconds === seconds) {
    last.cursor.next = 0;
    return last.list;
  }
  const cursor = new TimestampCursor(seconds);
  last = { cursor, list: new Array<unknown>(seconds.length).fill(cursor) };
  return last.list;
}

/** The list {@link timestampList} made last. */
let last: { readonly cursor: TimestampCursor; readonly list: unknown[] } | undefined;
