import { afterEach, describe, expect, it } from 'vitest';
import { CompactedError, type Store, type WatchEvent } from './store.js';
import { transact } from './transact.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Close `store` and open the same data again, for backends that persist; omitted for those that don't. */
  reopen?: (store: Store) => Promise<Store>;
  /** Whether a watch can resume from any revision since the store was created (no in-memory-only limit). */
  readonly fullHistory: boolean;
}

const put = (key: string, value: string) => ({ type: 'put', key, value }) as const;
const del = (key: string) => ({ type: 'delete', key }) as const;

/** Collects watch events until `n` have arrived or the deadline passes. */
function collect(store: Store, prefix: string, fromRevision?: number) {
  const events: WatchEvent[] = [];
  let error: Error | undefined;
  const waiters: Array<() => void> = [];
  const watch = store.watch(prefix, fromRevision === undefined ? {} : { fromRevision }, {
    onEvents: (batch) => {
      events.push(...batch);
      waiters.splice(0).forEach((w) => w());
    },
    onError: (e) => {
      error = e;
      waiters.splice(0).forEach((w) => w());
    },
  });
  return {
    events,
    get error() {
      return error;
    },
    close: () => watch.close(),
    async waitFor(n: number, timeoutMs = 2_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n && !error) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${n} events, got ${events.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
      return events;
    },
  };
}

const keyOf = (e: WatchEvent) => (e.type === 'put' ? e.entry.key : e.key);

/** The behaviour every Store backend must have. Run it from each backend's own test file. */
export function storeConformance(name: string, harness: StoreHarness): void {
  describe(`Store conformance: ${name}`, () => {
    const open: Store[] = [];
    const fresh = async () => {
      const s = await harness.open();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => {});
    });

    it('starts empty at revision 0', async () => {
      const s = await fresh();
      expect(await s.revision()).toBe(0);
      expect(await s.get('a')).toBeUndefined();
      expect((await s.range('')).entries).toEqual([]);
    });

    it('gives each transaction one new revision and tracks create/mod revision and version', async () => {
      const s = await fresh();
      const r1 = await s.txn([], [put('a', '1'), put('b', '1')]);
      expect(r1).toEqual({ succeeded: true, revision: 1 });
      const r2 = await s.txn([], [put('a', '2')]);
      expect(r2.revision).toBe(2);
      expect(await s.get('a')).toEqual({ key: 'a', value: '2', createRevision: 1, modRevision: 2, version: 2 });
      expect(await s.get('b')).toEqual({ key: 'b', value: '1', createRevision: 1, modRevision: 1, version: 1 });
      expect(await s.revision()).toBe(2);
    });

    it('applies nothing when a compare fails, and compares absence as revision 0', async () => {
      const s = await fresh();
      await s.txn([], [put('a', '1')]);
      const failed = await s.txn([{ key: 'a', modRevision: 0 }], [put('a', 'x'), put('c', 'x')]);
      expect(failed).toEqual({ succeeded: false, revision: 1 });
      expect((await s.get('a'))?.value).toBe('1');
      expect(await s.get('c')).toBeUndefined();
      const created = await s.txn([{ key: 'c', modRevision: 0 }], [put('c', 'y')]);
      expect(created.succeeded).toBe(true);
      const swapped = await s.txn(
        [
          { key: 'a', modRevision: 1 },
          { key: 'c', modRevision: 2 },
        ],
        [put('a', '3'), del('c')],
      );
      expect(swapped).toEqual({ succeeded: true, revision: 3 });
      expect(await s.get('c')).toBeUndefined();
    });

    it('deletes keys, and a delete of a missing key is a no-op that still commits', async () => {
      const s = await fresh();
      await s.txn([], [put('k', 'v')]);
      await s.txn([], [del('k')]);
      expect(await s.get('k')).toBeUndefined();
      const again = await s.txn([], [put('k', 'w')]);
      expect(await s.get('k')).toMatchObject({ createRevision: again.revision, version: 1 });
    });

    it('ranges a prefix in key order, pages with after/limit, and reverses', async () => {
      const s = await fresh();
      const keys = ['p/b', 'p/a', 'p/c', 'p0', 'q/a', 'p/a/x', 'o/z'];
      await s.txn([], keys.map((k) => put(k, k)));
      const all = await s.range('p/');
      expect(all.entries.map((e) => e.key)).toEqual(['p/a', 'p/a/x', 'p/b', 'p/c']);
      expect(all.more).toBe(false);
      const page1 = await s.range('p/', { limit: 2 });
      expect(page1.entries.map((e) => e.key)).toEqual(['p/a', 'p/a/x']);
      expect(page1.more).toBe(true);
      const page2 = await s.range('p/', { limit: 2, after: 'p/a/x' });
      expect(page2.entries.map((e) => e.key)).toEqual(['p/b', 'p/c']);
      expect(page2.more).toBe(false);
      const rev = await s.range('p/', { reverse: true, limit: 3 });
      expect(rev.entries.map((e) => e.key)).toEqual(['p/c', 'p/b', 'p/a/x']);
      expect(rev.more).toBe(true);
      const rev2 = await s.range('p/', { reverse: true, after: 'p/a/x' });
      expect(rev2.entries.map((e) => e.key)).toEqual(['p/a']);
      expect(await s.count('p/')).toBe(4);
      expect(await s.count('')).toBe(keys.length);
    });

    it('orders keys by code point, the same in every backend', async () => {
      const s = await fresh();
      const keys = ['u/é', 'u/z', 'u/A', 'u/a', 'u/\u{1F600}', 'u/\uFFFD'];
      await s.txn([], keys.map((k) => put(k, '')));
      const got = (await s.range('u/')).entries.map((e) => e.key);
      expect(got).toEqual(['u/A', 'u/a', 'u/z', 'u/é', 'u/\uFFFD', 'u/\u{1F600}']);
    });

    it('watches a prefix from now on, in commit order, with whole transactions', async () => {
      const s = await fresh();
      await s.txn([], [put('w/old', '0')]);
      const w = collect(s, 'w/');
      await s.txn([], [put('w/a', '1'), put('x/ignored', '1')]);
      await s.txn([], [put('w/a', '2'), put('w/b', '1')]);
      await s.txn([], [del('w/a')]);
      const events = await w.waitFor(4);
      expect(events.map((e) => [e.type, keyOf(e)])).toEqual([
        ['put', 'w/a'],
        ['put', 'w/a'],
        ['put', 'w/b'],
        ['delete', 'w/a'],
      ]);
      expect(events[1]).toMatchObject({ entry: { value: '2', modRevision: 3, version: 2 } });
      expect(events[3]).toMatchObject({ modRevision: 4 });
      w.close();
    });

    it('replays history from an earlier revision, then continues live without gaps', async () => {
      const s = await fresh();
      for (let i = 1; i <= 5; i++) await s.txn([], [put(`h/${i}`, String(i))]);
      const w = collect(s, 'h/', 3);
      await s.txn([], [put('h/6', '6')]);
      const events = await w.waitFor(4);
      expect(events.map(keyOf)).toEqual(['h/3', 'h/4', 'h/5', 'h/6']);
      w.close();
    });

    it('stops delivering after close', async () => {
      const s = await fresh();
      const w = collect(s, '');
      await s.txn([], [put('a', '1')]);
      await w.waitFor(1);
      w.close();
      await s.txn([], [put('a', '2')]);
      await new Promise((r) => setTimeout(r, 20));
      expect(w.events).toHaveLength(1);
    });

    it('commits concurrent read-modify-write transactions without losing updates', async () => {
      const s = await fresh();
      const workers = Array.from({ length: 25 }, () =>
        transact(s, async (tx) => {
          const n = Number((await tx.get('counter'))?.value ?? '0');
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          tx.put('counter', String(n + 1));
        }),
      );
      await Promise.all(workers);
      expect((await s.get('counter'))?.value).toBe('25');
    });

    if (harness.reopen) {
      const reopen = harness.reopen;
      it('keeps every committed write and the revision across a reopen', async () => {
        let s = await fresh();
        await s.txn([], [put('d/a', '1')]);
        await s.txn([], [put('d/b', '2'), del('d/a')]);
        s = await reopen(s);
        open.push(s);
        expect(await s.revision()).toBe(2);
        expect(await s.get('d/a')).toBeUndefined();
        expect(await s.get('d/b')).toMatchObject({ value: '2', modRevision: 2 });
        const r = await s.txn([], [put('d/c', '3')]);
        expect(r.revision).toBe(3);
      });

      if (harness.fullHistory) {
        it('resumes a watch from a revision committed before the reopen', async () => {
          let s = await fresh();
          await s.txn([], [put('r/1', '1')]);
          await s.txn([], [del('r/1')]);
          s = await reopen(s);
          open.push(s);
          const w = collect(s, 'r/', 1);
          const events = await w.waitFor(2);
          expect(events.map((e) => [e.type, keyOf(e)])).toEqual([
            ['put', 'r/1'],
            ['delete', 'r/1'],
          ]);
          w.close();
        });
      }
    }

    it('fails a watch from a compacted revision with CompactedError', async () => {
      const s = await fresh();
      for (let i = 0; i < 3; i++) await s.txn([], [put('c', String(i))]);
      await s.compact(2);
      const w = collect(s, '', 2);
      await expect.poll(() => w.error, { timeout: 2_000 }).toBeInstanceOf(CompactedError);
      const ok = collect(s, '', 3);
      expect((await ok.waitFor(1)).map(keyOf)).toEqual(['c']);
      ok.close();
    });
  });
}
