import { describe, expect, it } from 'vitest';
import { Informer, InformerStoppedError, InformerTimeoutError, type InformerClock, type InformerFailure } from './informer.js';
import { MemoryStore } from './memory.js';
import type { RangeOptions, RangeResult, Store, Watch, WatchListener, WatchOptions } from './store.js';

/** Timers that run only when the test moves time: backoff and catch-up without sleeping. */
class ManualClock implements InformerClock {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now = () => this.t;
  random = () => 0.5;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);
  /** Move time forward, running the timers that fall due (in order). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
  pending(): number[] {
    return [...this.timers.values()].map((x) => x.at - this.t);
  }
}

/** A MemoryStore whose watches the test can break, whose ranges can fail, and with a hook between list pages. */
class BreakableStore implements Store {
  readonly inner = new MemoryStore();
  private readonly live = new Set<{ listener: WatchListener; watch: Watch }>();
  failRanges = 0;
  ranges = 0;
  watches = 0;
  afterPage?: (page: number) => Promise<void>;
  private pageNo = 0;

  get = (key: string) => this.inner.get(key);
  count = (prefix: string) => this.inner.count(prefix);
  txn: Store['txn'] = (c, o) => this.inner.txn(c, o);
  revision = () => this.inner.revision();
  compact = (r: number) => this.inner.compact(r);
  close = () => this.inner.close();
  grantLease: Store['grantLease'] = (ttl) => this.inner.grantLease(ttl);
  keepAliveLease: Store['keepAliveLease'] = (id) => this.inner.keepAliveLease(id);
  revokeLease: Store['revokeLease'] = (id) => this.inner.revokeLease(id);

  async range(prefix: string, options?: RangeOptions): Promise<RangeResult> {
    this.ranges++;
    if (this.failRanges > 0) {
      this.failRanges--;
      throw new Error('store unavailable');
    }
    const page = await this.inner.range(prefix, options);
    await this.afterPage?.(++this.pageNo);
    return page;
  }

  /** Batches of events the open watches swallow (a revision whose event never arrives). */
  dropBatches = 0;

  watch(prefix: string, options: WatchOptions, listener: WatchListener): Watch {
    this.watches++;
    const filtered: WatchListener = {
      onEvents: (events) => {
        if (this.dropBatches > 0) {
          this.dropBatches--;
          return;
        }
        listener.onEvents(events);
      },
      onError: (error) => listener.onError(error),
    };
    const entry = { listener, watch: this.inner.watch(prefix, options, filtered) };
    this.live.add(entry);
    return {
      close: () => {
        this.live.delete(entry);
        entry.watch.close();
      },
    };
  }

  /** End every open watch with `error`, as a dropped connection or a failed listener would. */
  breakWatches(error = new Error('connection reset')): void {
    for (const entry of [...this.live]) {
      this.live.delete(entry);
      entry.watch.close();
      entry.listener.onError(error);
    }
  }
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const put = (store: Store, key: string, value: unknown) => store.txn([], [{ type: 'put', key, value: JSON.stringify(value) }]);
const del = (store: Store, key: string) => store.txn([], [{ type: 'delete', key }]);
const parseN = (value: string) => JSON.parse(value) as { n: number };
const contents = (informer: Informer<{ n: number }>) => Object.fromEntries([...informer.cache].map(([k, v]) => [k, v.value.n]));
async function storeContents(store: Store, prefix: string) {
  const { entries } = await store.range(prefix);
  return Object.fromEntries(entries.map((e) => [e.key, parseN(e.value).n]));
}

function start(store: Store, options: { pageSize?: number; catchUpMs?: number } = {}) {
  const clock = new ManualClock();
  const failures: InformerFailure[] = [];
  const events: string[] = [];
  const informer = new Informer({ store, prefix: 'a/', parse: parseN, clock, onError: (_e, f) => failures.push(f), ...options });
  informer.subscribe({
    added: (k, v) => events.push(`+${k}=${v.n}`),
    updated: (k, o, v) => events.push(`~${k}:${o.n}->${v.n}`),
    deleted: (k, o) => events.push(`-${k}(${o.n})`),
  });
  informer.start();
  return { informer, clock, failures, events };
}

describe('Informer', () => {
  it('lists, then follows changes under its prefix and tells handlers the old and new values', async () => {
    const store = new MemoryStore();
    await put(store, 'a/1', { n: 1 });
    await put(store, 'b/1', { n: 9 });
    const { informer, events } = start(store);
    await informer.ready();
    expect(contents(informer)).toEqual({ 'a/1': 1 });
    expect(informer.synced()).toBe(true);
    await put(store, 'a/1', { n: 2 });
    await put(store, 'a/2', { n: 3 });
    await del(store, 'a/1');
    await informer.waitFor(await store.revision());
    expect(contents(informer)).toEqual({ 'a/2': 3 });
    expect(events).toEqual(['+a/1=1', '~a/1:1->2', '+a/2=3', '-a/1(2)']);
    expect(informer.entry('a/2')?.modRevision).toBe(4);
    informer.stop();
  });

  it('follows the store revision when only other prefixes change, so waitFor(current) resolves', async () => {
    const store = new MemoryStore();
    const { informer } = start(store);
    await informer.ready();
    await put(store, 'b/1', { n: 1 });
    await put(store, 'c/1', { n: 1 });
    const current = await store.revision();
    await informer.waitFor(current);
    expect(informer.revision).toBe(current);
    informer.stop();
  });

  it('converges after a paged list that mixed revisions', async () => {
    const store = new BreakableStore();
    for (const k of ['a/1', 'a/2', 'a/3', 'a/4', 'a/5', 'a/6']) await put(store.inner, k, { n: 0 });
    // While the list is between pages: change a key already listed, delete and re-create keys not listed
    // yet, add keys before and after the cursor.
    store.afterPage = async (page) => {
      if (page === 1) {
        await put(store.inner, 'a/1', { n: 10 });
        await del(store.inner, 'a/4');
        await put(store.inner, 'a/0', { n: 11 });
        await put(store.inner, 'a/9', { n: 12 });
      }
      if (page === 2) {
        await put(store.inner, 'a/3', { n: 13 });
        await del(store.inner, 'a/5');
        await put(store.inner, 'a/5', { n: 14 });
      }
    };
    const { informer, events } = start(store, { pageSize: 2 });
    await informer.ready();
    store.afterPage = undefined;
    expect(informer.synced()).toBe(true);
    expect(contents(informer)).toEqual(await storeContents(store.inner, 'a/'));
    expect(informer.revision).toBe(await store.revision());
    expect(events).toContain('+a/0=11');
    informer.stop();
  });

  it('re-lists and re-watches with backoff when the watch breaks, and reports what changed meanwhile', async () => {
    const store = new BreakableStore();
    await put(store, 'a/1', { n: 1 });
    await put(store, 'a/2', { n: 2 });
    const { informer, clock, failures, events } = start(store);
    await informer.ready();
    events.length = 0;
    store.breakWatches();
    expect(failures).toEqual([{ kind: 'watch', prefix: 'a/', retryInMs: 75 }]);
    // Changes while nobody watches.
    await put(store, 'a/1', { n: 5 });
    await del(store, 'a/2');
    await put(store, 'a/3', { n: 3 });
    await settle();
    expect(contents(informer)).toEqual({ 'a/1': 1, 'a/2': 2 });
    const waiting = informer.waitFor(await store.revision());
    clock.advance(75);
    await waiting;
    expect(contents(informer)).toEqual({ 'a/1': 5, 'a/3': 3 });
    expect(events.sort()).toEqual(['+a/3=3', '-a/2(2)', '~a/1:1->5']);
    expect(store.watches).toBe(2);
    // And it keeps following.
    await put(store, 'a/4', { n: 4 });
    await informer.waitFor(await store.revision());
    expect(informer.get('a/4')).toEqual({ n: 4 });
    informer.stop();
  });

  it('a watch from a compacted revision makes it list again', async () => {
    const store = new BreakableStore();
    await put(store.inner, 'a/1', { n: 1 });
    // Between the list and the watch's start, history the watch needs is compacted away.
    store.afterPage = async () => {
      store.afterPage = undefined;
      await put(store.inner, 'a/1', { n: 2 });
      await put(store.inner, 'a/2', { n: 3 });
      await store.inner.compact(await store.inner.revision());
    };
    const { informer, clock, failures } = start(store);
    await settle();
    expect(failures.map((f) => f.kind)).toEqual(['watch']);
    expect(informer.synced()).toBe(false);
    clock.advance(failures[0]!.retryInMs!);
    await informer.waitFor(await store.revision());
    expect(contents(informer)).toEqual({ 'a/1': 2, 'a/2': 3 });
    expect(store.ranges).toBe(2);
    informer.stop();
  });

  it('backs off exponentially with jitter while the store is down, up to the cap, then recovers', async () => {
    const store = new BreakableStore();
    await put(store, 'a/1', { n: 1 });
    store.failRanges = 8;
    const clock = new ManualClock();
    const failures: InformerFailure[] = [];
    const informer = new Informer({ store, prefix: 'a/', parse: parseN, clock, backoff: { minMs: 100, maxMs: 2_000 }, onError: (_e, f) => failures.push(f) });
    informer.start();
    for (let i = 0; i < 8; i++) {
      await settle();
      clock.advance(failures.at(-1)!.retryInMs!);
    }
    await informer.ready();
    // random() = 0.5: each delay is three quarters of min·2^n, capped at maxMs.
    expect(failures.map((f) => f.retryInMs)).toEqual([75, 150, 300, 600, 1200, 1500, 1500, 1500]);
    expect(failures.every((f) => f.kind === 'list')).toBe(true);
    expect(contents(informer as Informer<{ n: number }>)).toEqual({ 'a/1': 1 });
    informer.stop();
  });

  it('a watch that stayed healthy resets the backoff; one failing at once keeps doubling it', async () => {
    const store = new BreakableStore();
    const { informer, clock, failures } = start(store);
    await informer.ready();
    store.breakWatches();
    clock.advance(75);
    await settle();
    store.breakWatches();
    expect(failures.map((f) => f.retryInMs)).toEqual([75, 150]);
    clock.advance(150);
    await settle();
    clock.advance(30_000);
    store.breakWatches();
    expect(failures.at(-1)!.retryInMs).toBe(75);
    informer.stop();
  });

  it('a revision whose event never arrives does not leave a waiter hanging: it lists again', async () => {
    const store = new BreakableStore();
    const { informer, clock, failures } = start(store, { catchUpMs: 500 });
    await informer.ready();
    // A revision the store counted but whose event this watch never delivers.
    store.dropBatches = 1;
    await put(store, 'a/unseen', { n: 1 });
    const target = await store.revision();
    let done = false;
    const waiting = informer.waitFor(target).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    clock.advance(500);
    await waiting;
    expect(failures.map((f) => f.kind)).toEqual(['catch-up']);
    expect(informer.revision).toBe(target);
    expect(contents(informer)).toMatchObject({ 'a/unseen': 1 });
    informer.stop();
  });

  it('waitFor times out, and rejects when the informer stops', async () => {
    const store = new BreakableStore();
    store.failRanges = 100;
    const { informer, clock } = start(store);
    const timed = informer.waitFor(1, { timeoutMs: 1_000 });
    const forever = informer.waitFor(1);
    clock.advance(1_000);
    await expect(timed).rejects.toBeInstanceOf(InformerTimeoutError);
    informer.stop();
    await expect(forever).rejects.toBeInstanceOf(InformerStoppedError);
    expect(clock.pending()).toEqual([]);
  });

  it('a record that does not parse is reported and left out; a throwing handler does not stop the others', async () => {
    const store = new MemoryStore();
    await store.txn([], [{ type: 'put', key: 'a/bad', value: 'not json' }]);
    await put(store, 'a/good', { n: 1 });
    const { informer, failures, events } = start(store);
    informer.subscribe({
      added: () => {
        throw new Error('handler bug');
      },
    });
    await informer.ready();
    expect(contents(informer)).toEqual({ 'a/good': 1 });
    expect(failures).toEqual([
      { kind: 'parse', prefix: 'a/', key: 'a/bad' },
      { kind: 'handler', prefix: 'a/' },
    ]);
    await put(store, 'a/new', { n: 2 });
    await informer.waitFor(await store.revision());
    expect(events).toContain('+a/new=2');
    expect(failures.at(-1)).toEqual({ kind: 'handler', prefix: 'a/' });
    informer.stop();
  });

  it('a store closed under it is a watch failure, retried', async () => {
    const store = new MemoryStore();
    const { informer, failures, clock } = start(store);
    await informer.ready();
    await store.close();
    await settle();
    expect(failures.map((f) => f.kind)).toEqual(['watch']);
    clock.advance(failures[0]!.retryInMs!);
    await settle();
    expect(failures.map((f) => f.kind)).toEqual(['watch', 'list']);
    informer.stop();
  });
});
