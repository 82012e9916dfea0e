import { rangePages } from '../../store/range-pages.js';
import type { Entry, Store } from '../../store/store.js';

/** All entries under `prefix`, read a page at a time. */
export async function rangeAll(store: Store, prefix: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const entries of rangePages(store, prefix, 500)) out.push(...entries);
  return out;
}
