import type { Entry, Op, RangeOptions, RangeResult, Store } from './store.js';

/**
 * A read-modify-write transaction over a Store, in the manner of etcd's STM: reads are recorded with the
 * revision they saw, writes are buffered, and the commit succeeds only if nothing read has changed since.
 * On conflict the whole function runs again on fresh data, so it must have no side effects besides `tx`.
 *
 * Ranges are not recorded: a key added under a ranged prefix by a concurrent commit does not cause a retry.
 * Guard such invariants with a key that every writer reads (a counter, a parent record).
 */
export interface Tx {
  get(key: string): Promise<Entry | undefined>;
  /** The record at `key`, read with its typed parse function (see state/records), or undefined. */
  getRecord<T>(parse: (value: string, key: string) => T, key: string): Promise<T | undefined>;
  /** For stores of plain JSON (the agent's own state); the control plane's records use getRecord. */
  getJson<T>(key: string): Promise<T | undefined>;
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  put(key: string, value: string): void;
  putJson(key: string, value: unknown): void;
  delete(key: string): void;
}

export class TransactionConflictError extends Error {
  override readonly name = 'TransactionConflictError';
}

export interface TransactOptions {
  readonly maxAttempts?: number;
}

/** Run `fn` in a transaction and commit it, retrying on conflicting concurrent commits. Returns fn's result. */
export async function transact<R>(store: Store, fn: (tx: Tx) => Promise<R>, options: TransactOptions = {}): Promise<R> {
  const maxAttempts = options.maxAttempts ?? 50;
  for (let attempt = 1; ; attempt++) {
    const reads = new Map<string, number>();
    const writes = new Map<string, Op>();
    const tx: Tx = {
      async get(key) {
        const pending = writes.get(key);
        if (pending) return pending.type === 'put' ? pendingEntry(pending.key, pending.value) : undefined;
        const entry = await store.get(key);
        if (!reads.has(key)) reads.set(key, entry?.modRevision ?? 0);
        return entry;
      },
      async getRecord<T>(parse: (value: string, key: string) => T, key: string) {
        const entry = await tx.get(key);
        return entry === undefined ? undefined : parse(entry.value, key);
      },
      async getJson<T>(key: string) {
        const entry = await tx.get(key);
        return entry === undefined ? undefined : (JSON.parse(entry.value) as T);
      },
      range: (prefix, opts) => store.range(prefix, opts),
      put(key, value) {
        writes.set(key, { type: 'put', key, value });
      },
      putJson(key, value) {
        writes.set(key, { type: 'put', key, value: JSON.stringify(value) });
      },
      delete(key) {
        writes.set(key, { type: 'delete', key });
      },
    };
    const result = await fn(tx);
    if (writes.size === 0) return result;
    const compares = [...reads].map(([key, modRevision]) => ({ key, modRevision }));
    const { succeeded } = await store.txn(compares, [...writes.values()]);
    if (succeeded) return result;
    if (attempt >= maxAttempts) {
      throw new TransactionConflictError(`transaction still conflicting after ${attempt} attempts`);
    }
    // Back off a little, with jitter, so that contending writers stop colliding.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, attempt * 2)));
  }
}

/** Read one record outside a transaction, with its typed parse function. */
export async function readRecord<T>(store: Store, parse: (value: string, key: string) => T, key: string): Promise<T | undefined> {
  const entry = await store.get(key);
  return entry === undefined ? undefined : parse(entry.value, key);
}

/** Read and parse one JSON value outside a transaction (the agent's own state; records use readRecord). */
export async function readJson<T>(store: Store, key: string): Promise<T | undefined> {
  const entry = await store.get(key);
  return entry === undefined ? undefined : (JSON.parse(entry.value) as T);
}

function pendingEntry(key: string, value: string): Entry {
  return { key, value, createRevision: 0, modRevision: 0, version: 0 };
}
