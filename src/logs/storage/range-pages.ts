import type { Entry, Store } from '../../store/store.js';

/** The entries under `prefix`, a page of `pageSize` at a time (each page one range read). */
export async function* rangePages(store: Store, prefix: string, pageSize: number): AsyncGenerator<readonly Entry[]> {
  let after: string | undefined;
  for (;;) {
    const page = await store.range(prefix, { limit: pageSize, ...(after !== undefined ? { after } : {}) });
    if (page.entries.length) yield page.entries;
    if (!page.more) return;
    after = page.entries.at(-1)!.key;
  }
}
