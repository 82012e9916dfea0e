import type { Entry, Store } from './store.js';

/**
 * The entries under `prefix` in key order, a page of `pageSize` at a time (each page one range read), starting
 * after the key `after` when given. One walk for every caller that goes through a prefix too large for one read.
 */
export async function* rangePages(store: Store, prefix: string, pageSize: number, after?: string): AsyncGenerator<readonly Entry[]> {
  for (;;) {
    const page = await store.range(prefix, { limit: pageSize, ...(after !== undefined ? { after } : {}) });
    if (page.entries.length) yield page.entries;
    if (!page.more) return;
    after = page.entries.at(-1)!.key;
  }
}
