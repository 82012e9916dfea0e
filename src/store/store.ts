/**
 * The control plane's durable state: a revisioned key-value store shaped like etcd's v3 API, so that the
 * embedded SQLite backend, the in-memory backend and a later etcd backend are interchangeable.
 *
 * - Every committed transaction gets the next store-wide `revision`; each key remembers the revision that
 *   created it and the one that last modified it.
 * - `txn` applies its operations only if every comparison holds (compare-and-swap over several keys).
 * - `watch` delivers committed changes under a prefix, in revision order, starting from a given revision;
 *   history older than the compaction point is gone and such a watch fails with {@link CompactedError}.
 *
 * Values are strings (JSON by convention, see `records.ts`). Keys sort bytewise.
 */
export interface Store {
  /** The entry at `key`, or undefined. */
  get(key: string): Promise<Entry | undefined>;
  /** Entries whose key starts with `prefix`, in key order (or reverse), a page at a time. */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  /** How many keys start with `prefix`. */
  count(prefix: string): Promise<number>;
  /** Atomically: if every compare holds, apply `ops` and return the new revision; otherwise change nothing. */
  txn(compares: readonly Compare[], ops: readonly Op[]): Promise<TxnResult>;
  /** Deliver changes under `prefix` with revision ≥ `fromRevision` (default: from now on) to `listener`. */
  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch;
  /** The store's current revision. */
  revision(): Promise<number>;
  /** Discard change history at or below `revision`; watches can no longer start there. */
  compact(revision: number): Promise<void>;
  close(): Promise<void>;
}

export interface Entry {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  /** How many times the key was written since it was created (1 after creation). */
  readonly version: number;
}

export interface RangeOptions {
  /** Only keys strictly after this one (strictly before, when `reverse`). */
  readonly after?: string;
  readonly limit?: number;
  readonly reverse?: boolean;
}

export interface RangeResult {
  readonly entries: readonly Entry[];
  /** The store revision the range was read at. */
  readonly revision: number;
  /** True when `limit` cut the result short. */
  readonly more: boolean;
}

/** Holds when the key's modRevision equals `modRevision`; 0 means "the key does not exist". */
export interface Compare {
  readonly key: string;
  readonly modRevision: number;
}

export type Op =
  | { readonly type: 'put'; readonly key: string; readonly value: string }
  | { readonly type: 'delete'; readonly key: string };

export interface TxnResult {
  readonly succeeded: boolean;
  /** The revision of the commit when it succeeded, else the store's current revision. */
  readonly revision: number;
}

export type WatchEvent =
  | { readonly type: 'put'; readonly entry: Entry }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: number };

export interface WatchOptions {
  /** First revision to deliver (inclusive). Omitted: only changes committed after the call. */
  readonly fromRevision?: number;
}

export interface WatchListener {
  /** Events of one or more whole transactions, in revision order. */
  onEvents(events: readonly WatchEvent[]): void;
  /** The watch ended abnormally (history compacted, store closed, listener threw); no more events follow. */
  onError(error: Error): void;
}

export interface Watch {
  close(): void;
}

/** The requested history was compacted away; re-read the current state and watch from its revision. */
export class CompactedError extends Error {
  override readonly name = 'CompactedError';
  constructor(
    readonly requestedRevision: number,
    readonly compactRevision: number,
  ) {
    super(`revision ${requestedRevision} has been compacted (history starts after ${compactRevision})`);
  }
}

/**
 * The smallest key greater than every key that starts with `prefix` (the exclusive end of a prefix range),
 * as etcd computes it: the prefix with its last character incremented. Keys compare by code point, which is
 * also their UTF-8 byte order, so this holds in every backend.
 */
export function prefixEnd(prefix: string): string {
  if (prefix === '') return '\u{10FFFF}';
  const last = prefix.codePointAt(prefix.length - 1)!;
  return prefix.slice(0, -1) + String.fromCodePoint(last + 1);
}

/** Orders keys by code point (= UTF-8 byte order), the order every backend returns them in. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (0xD800–0xDFFF) encode code points above 0xFFFF, which sort after all other BMP units.
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy) return sx ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}
