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
 * - Leases (as etcd's): a put may attach its key to a lease; when the lease is revoked or expires the key is
 *   deleted (a delete event in watches). Keepalive is driven by the caller, one call at a time, so that a
 *   holder (a leader, an agent's presence) always knows the latest moment its lease could have ended.
 *
 * Values are strings (JSON by convention, see `records.ts`). Keys sort bytewise.
 *
 * Failures every backend reports the same way: {@link StoreUnavailableError} (the backing service cannot be
 * reached; nothing was written unless the error says it may have been), {@link ValueTooLargeError} and
 * {@link TxnTooLargeError} (refused before anything was written), {@link LeaseNotFoundError}.
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
  /**
   * A new lease that ends `ttlMs` after its grant or its last keepalive. Backends may round the TTL up (etcd
   * counts whole seconds and has a minimum); the TTL granted is returned.
   */
  grantLease(ttlMs: number): Promise<{ id: LeaseId; ttlMs: number }>;
  /** Restart the lease's countdown; returns its TTL in ms. Rejects with LeaseNotFoundError once it has ended. */
  keepAliveLease(id: LeaseId): Promise<number>;
  /** End the lease now, deleting its keys in one revision. Rejects with LeaseNotFoundError if already ended. */
  revokeLease(id: LeaseId): Promise<void>;
  close(): Promise<void>;
}

/** A lease's id: etcd's int64 as a decimal string. */
export type LeaseId = string;

export interface Entry {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  /** How many times the key was written since it was created (1 after creation). */
  readonly version: number;
  /** The lease the key is attached to; absent when none. */
  readonly lease?: LeaseId;
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

/**
 * One write of a transaction. A put with `lease` attaches the key to that lease (the txn fails with
 * LeaseNotFoundError if the lease has ended); a put without one detaches it from any lease. Several ops on one
 * key in a transaction: the last one wins.
 */
export type Op =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly lease?: LeaseId }
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
 * The backing service (etcd) could not be reached or did not answer within the deadline. Retry later; the API
 * answers 503. For a txn, `maybeCommitted` says the request may have reached the service before the failure.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  /** True when a write may have reached the service before the failure: it may or may not have been applied. */
  readonly maybeCommitted: boolean;
  constructor(message: string, options: { cause?: unknown; maybeCommitted?: boolean } = {}) {
    super(message + (options.maybeCommitted ? '; the write may or may not have been applied' : ''), {
      cause: options.cause,
    });
    this.maybeCommitted = options.maybeCommitted ?? false;
  }
}

/** A value bigger than the store accepts in one request; values are never split. Nothing was written. */
export class ValueTooLargeError extends Error {
  override readonly name = 'ValueTooLargeError';
  constructor(
    readonly key: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`the value of ${key} is ${bytes} bytes; the store accepts at most ${limitBytes} bytes per request`);
  }
}

/** A transaction with more operations (or bytes, all values together) than the store accepts. Nothing was written. */
export class TxnTooLargeError extends Error {
  override readonly name = 'TxnTooLargeError';
  constructor(message: string) {
    super(message);
  }
}

/** The lease was never granted, or has expired or been revoked. */
export class LeaseNotFoundError extends Error {
  override readonly name = 'LeaseNotFoundError';
  constructor(readonly lease: LeaseId) {
    super(`lease ${lease} not found (expired or revoked)`);
  }
}

/** Size limits a backend enforces on every txn, before writing anything. */
export interface TxnLimits {
  /** Bytes of key + value of one put (UTF-8). */
  readonly maxValueBytes?: number;
  /** Operations in one txn (after merging ops on the same key), plus its compares when `countCompares`. */
  readonly maxTxnOps?: number;
}

/**
 * Refuse a txn that exceeds `limits`, throwing ValueTooLargeError or TxnTooLargeError; `configure` names what
 * to change to allow more. Returns the ops merged so that each key appears once (the last op on it wins).
 */
export function checkTxn(
  compares: readonly Compare[],
  ops: readonly Op[],
  limits: TxnLimits,
  configure = 'the store',
): Op[] {
  const merged = new Map<string, Op>();
  for (const op of ops) {
    merged.delete(op.key);
    merged.set(op.key, op);
  }
  const out = [...merged.values()];
  if (limits.maxTxnOps !== undefined && Math.max(out.length, compares.length) > limits.maxTxnOps) {
    throw new TxnTooLargeError(
      `a transaction of ${out.length} operations and ${compares.length} compares is over the limit of ` +
        `${limits.maxTxnOps}; split it, or raise ${configure}`,
    );
  }
  if (limits.maxValueBytes !== undefined) {
    for (const op of out) {
      if (op.type !== 'put') continue;
      const bytes = Buffer.byteLength(op.key) + Buffer.byteLength(op.value);
      if (bytes > limits.maxValueBytes) throw new ValueTooLargeError(op.key, bytes, limits.maxValueBytes);
    }
  }
  return out;
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
