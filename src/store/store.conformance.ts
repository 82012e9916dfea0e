import { afterEach, describe, expect, it } from 'vitest';
import {
  CompactedError,
  LeaseNotFoundError,
  TxnTooLargeError,
  ValueTooLargeError,
  type Store,
  type WatchEvent,
} from './store.js';
import { transact } from './transact.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Close `store` and open the same data again, for backends that persist; omitted for those that don't. */
  reopen?: (store: Store) => Promise<Store>;
  /** Whether a watch can resume from any revision since the store was created (no in-memory-only limit). */
  readonly fullHistory: boolean;
  /** The limits every opened store enforces, to test that they are refused cleanly; omitted: not tested. */
  readonly limits?: { readonly maxValueBytes: number; readonly maxTxnOps: number };
  /** A lease TTL the backend grants as asked (etcd's minimum is 2 s); the lease tests wait a few of them. */
  readonly leaseTtlMs: number;
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

    it('starts empty', async () => {
      const s = await fresh();
      expect(await s.revision()).toBeGreaterThanOrEqual(0);
      expect(await s.get('a')).toBeUndefined();
      expect((await s.range('')).entries).toEqual([]);
      expect(await s.count('')).toBe(0);
    });

    // Revisions are compared relatively: etcd's are global to its cluster and start at 1.
    it('gives each transaction one new revision and tracks create/mod revision and version', async () => {
      const s = await fresh();
      const r0 = await s.revision();
      const r1 = await s.txn([], [put('a', '1'), put('b', '1')]);
      expect(r1.succeeded).toBe(true);
      expect(r1.revision).toBe(r0 + 1);
      const r2 = await s.txn([], [put('a', '2')]);
      expect(r2.revision).toBe(r1.revision + 1);
      expect(await s.get('a')).toEqual({
        key: 'a',
        value: '2',
        createRevision: r1.revision,
        modRevision: r2.revision,
        version: 2,
      });
      expect(await s.get('b')).toEqual({
        key: 'b',
        value: '1',
        createRevision: r1.revision,
        modRevision: r1.revision,
        version: 1,
      });
      expect(await s.revision()).toBe(r2.revision);
    });

    it('applies nothing when a compare fails, and compares absence as revision 0', async () => {
      const s = await fresh();
      const r1 = await s.txn([], [put('a', '1')]);
      const failed = await s.txn([{ key: 'a', modRevision: 0 }], [put('a', 'x'), put('c', 'x')]);
      expect(failed).toEqual({ succeeded: false, revision: r1.revision });
      expect((await s.get('a'))?.value).toBe('1');
      expect(await s.get('c')).toBeUndefined();
      const created = await s.txn([{ key: 'c', modRevision: 0 }], [put('c', 'y')]);
      expect(created.succeeded).toBe(true);
      const swapped = await s.txn(
        [
          { key: 'a', modRevision: r1.revision },
          { key: 'c', modRevision: created.revision },
        ],
        [put('a', '3'), del('c')],
      );
      expect(swapped).toEqual({ succeeded: true, revision: created.revision + 1 });
      expect(await s.get('c')).toBeUndefined();
      expect(await s.get('a')).toMatchObject({ value: '3', modRevision: swapped.revision });
    });

    it('lets the last of several ops on one key win', async () => {
      const s = await fresh();
      await s.txn([], [put('m', '1'), del('m'), put('m', '2'), put('n', '1'), del('n')]);
      expect((await s.get('m'))?.value).toBe('2');
      expect(await s.get('n')).toBeUndefined();
    });

    it('deletes keys; a delete of a missing key succeeds and changes nothing', async () => {
      const s = await fresh();
      await s.txn([], [put('k', 'v')]);
      const deleted = await s.txn([], [del('k')]);
      expect(await s.get('k')).toBeUndefined();
      const noop = await s.txn([], [del('k')]);
      expect(noop.succeeded).toBe(true);
      expect(noop.revision).toBe(deleted.revision);
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
      const second = await s.txn([], [put('w/a', '2'), put('w/b', '1')]);
      const third = await s.txn([], [del('w/a')]);
      const events = await w.waitFor(4);
      expect(events.map((e) => [e.type, keyOf(e)])).toEqual([
        ['put', 'w/a'],
        ['put', 'w/a'],
        ['put', 'w/b'],
        ['delete', 'w/a'],
      ]);
      expect(events[1]).toMatchObject({ entry: { value: '2', modRevision: second.revision, version: 2 } });
      expect(events[3]).toMatchObject({ modRevision: third.revision });
      w.close();
    });

    it('replays history from an earlier revision, then continues live without gaps', async () => {
      const s = await fresh();
      const revisions: number[] = [];
      for (let i = 1; i <= 5; i++) revisions.push((await s.txn([], [put(`h/${i}`, String(i))])).revision);
      const w = collect(s, 'h/', revisions[2]);
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
        const r2 = await s.txn([], [put('d/b', '2'), del('d/a')]);
        s = await reopen(s);
        open.push(s);
        expect(await s.revision()).toBe(r2.revision);
        expect(await s.get('d/a')).toBeUndefined();
        expect(await s.get('d/b')).toMatchObject({ value: '2', modRevision: r2.revision });
        const r = await s.txn([], [put('d/c', '3')]);
        expect(r.revision).toBe(r2.revision + 1);
      });

      if (harness.fullHistory) {
        it('resumes a watch from a revision committed before the reopen', async () => {
          let s = await fresh();
          const first = await s.txn([], [put('r/1', '1')]);
          await s.txn([], [del('r/1')]);
          s = await reopen(s);
          open.push(s);
          const w = collect(s, 'r/', first.revision);
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
      const revisions: number[] = [];
      for (let i = 0; i < 3; i++) revisions.push((await s.txn([], [put('c', String(i))])).revision);
      await s.compact(revisions[1]!);
      const w = collect(s, '', revisions[1]);
      await expect.poll(() => w.error, { timeout: 2_000 }).toBeInstanceOf(CompactedError);
      expect(w.error).toMatchObject({ requestedRevision: revisions[1], compactRevision: revisions[1] });
      const ok = collect(s, '', revisions[2]);
      expect((await ok.waitFor(1)).map(keyOf)).toEqual(['c']);
      ok.close();
    });

    describe('leases', () => {
      const ttl = harness.leaseTtlMs;
      // Generous: etcd's leader checks for expired leases every 500 ms.
      const expiryWait = ttl * 3 + 2_000;

      it('deletes a leased key when the lease is revoked, with a delete event, and detaches on a plain put', async () => {
        const s = await fresh();
        const lease = await s.grantLease(ttl);
        expect(lease.ttlMs).toBeGreaterThanOrEqual(ttl);
        const attached = await s.txn([], [{ type: 'put', key: 'l/a', value: '1', lease: lease.id }, put('l/b', '1')]);
        await s.txn([], [{ type: 'put', key: 'l/c', value: '1', lease: lease.id }]);
        await s.txn([], [put('l/c', '2')]);
        expect(await s.get('l/a')).toMatchObject({ lease: lease.id, modRevision: attached.revision });
        expect((await s.get('l/c'))?.lease).toBeUndefined();
        const w = collect(s, 'l/');
        await s.revokeLease(lease.id);
        const events = await w.waitFor(1);
        expect(events.map((e) => [e.type, keyOf(e)])).toEqual([['delete', 'l/a']]);
        expect(await s.get('l/a')).toBeUndefined();
        expect(await s.get('l/b')).toMatchObject({ value: '1' });
        expect(await s.get('l/c')).toMatchObject({ value: '2' });
        await expect(s.keepAliveLease(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
        await expect(s.revokeLease(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
        w.close();
      });

      it('deletes every key of a lease that expires, in one revision', async () => {
        const s = await fresh();
        const lease = await s.grantLease(ttl);
        await s.txn([], [1, 2, 3].map((i) => ({ type: 'put', key: `e/${i}`, value: '', lease: lease.id }) as const));
        const w = collect(s, 'e/');
        const events = await w.waitFor(3, expiryWait);
        expect(events.map((e) => [e.type, keyOf(e)])).toEqual([
          ['delete', 'e/1'],
          ['delete', 'e/2'],
          ['delete', 'e/3'],
        ]);
        expect(new Set(events.map((e) => (e.type === 'delete' ? e.modRevision : 0))).size).toBe(1);
        expect(await s.count('e/')).toBe(0);
        await expect(s.keepAliveLease(lease.id)).rejects.toBeInstanceOf(LeaseNotFoundError);
        w.close();
      }, 30_000);

      it('keeps a lease alive while it is kept alive', async () => {
        const s = await fresh();
        const lease = await s.grantLease(ttl);
        await s.txn([], [{ type: 'put', key: 'k/alive', value: '', lease: lease.id }]);
        const until = Date.now() + lease.ttlMs * 2;
        while (Date.now() < until) {
          expect(await s.keepAliveLease(lease.id)).toBeGreaterThanOrEqual(ttl);
          await new Promise((r) => setTimeout(r, lease.ttlMs / 4));
        }
        expect(await s.get('k/alive')).toBeDefined();
        await s.revokeLease(lease.id);
        expect(await s.get('k/alive')).toBeUndefined();
      }, 30_000);

      it('fails a txn that puts with an unknown lease, writing nothing', async () => {
        const s = await fresh();
        const lease = await s.grantLease(ttl);
        await s.revokeLease(lease.id);
        const before = await s.revision();
        await expect(
          s.txn([], [put('u/plain', '1'), { type: 'put', key: 'u/leased', value: '1', lease: lease.id }]),
        ).rejects.toBeInstanceOf(LeaseNotFoundError);
        expect(await s.get('u/plain')).toBeUndefined();
        expect(await s.revision()).toBe(before);
      });
    });

    if (harness.limits) {
      const limits = harness.limits;
      it('refuses a value over the size limit with ValueTooLargeError, writing nothing', async () => {
        const s = await fresh();
        const big = 'x'.repeat(limits.maxValueBytes + 1);
        const error = await s.txn([], [put('small', '1'), put('big', big)]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ValueTooLargeError);
        expect(error).toMatchObject({ key: 'big' });
        expect((error as Error).message).toMatch(/big/);
        expect(await s.get('small')).toBeUndefined();
        const fits = 'y'.repeat(limits.maxValueBytes - 'fits'.length);
        await s.txn([], [put('fits', fits)]);
        expect((await s.get('fits'))?.value).toHaveLength(fits.length);
      });

      it('refuses a txn with more ops than the limit with TxnTooLargeError, writing nothing', async () => {
        const s = await fresh();
        const ops = Array.from({ length: limits.maxTxnOps + 1 }, (_, i) => put(`o/${i}`, ''));
        await expect(s.txn([], ops)).rejects.toBeInstanceOf(TxnTooLargeError);
        expect(await s.count('o/')).toBe(0);
        await s.txn([], ops.slice(1));
        expect(await s.count('o/')).toBe(limits.maxTxnOps);
      });
    }
  });
}
