import type { IamTag } from '../../state/records/iam.js';
import type { Tx } from '../../store/transact.js';
import type { Store } from '../../store/store.js';
import { rangeAll } from './range-all.js';

/** A record read in `tx`, or the error `missing` makes. */
export async function mustGet<T>(tx: Tx, parse: (value: string, key: string) => T, key: string, missing: () => Error): Promise<T> {
  const found = await tx.getRecord(parse, key);
  if (found === undefined) throw missing();
  return found;
}

/** Every record under `prefix`, parsed, in key order (IAM's listings are small: thousands at most). */
export async function listRecords<T>(store: Store, prefix: string, parse: (value: string, key: string) => T): Promise<T[]> {
  return (await rangeAll(store, prefix)).map((e) => parse(e.value, e.key));
}

/** Tags after TagX: new keys added, existing keys given the new value; over 50 in all is LimitExceeded. */
export function mergeTags(existing: readonly IamTag[], added: readonly IamTag[]): IamTag[] | undefined {
  const byKey = new Map(existing.map((t) => [t.Key, t.Value]));
  for (const t of added) byKey.set(t.Key, t.Value ?? '');
  if (byKey.size > 50) return undefined;
  return [...byKey].map(([Key, Value]) => ({ Key, Value }));
}

export const withoutTags = (existing: readonly IamTag[], keys: readonly string[]): IamTag[] => existing.filter((t) => !keys.includes(t.Key));

/** `/` unless given. */
export const pathOr = (path: string | undefined) => path ?? '/';

export const without = <T>(list: readonly T[], item: T): T[] => list.filter((x) => x !== item);
