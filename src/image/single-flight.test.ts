import { describe, expect, it } from 'vitest';
import { Gate, SingleFlight } from './single-flight.js';

const deferred = <T>() => {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('SingleFlight', () => {
  it('runs one work per key and shares its result', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const gate = deferred<void>();
    const work = async () => {
      runs++;
      await gate.promise;
      return 42;
    };
    const a = flights.run('k', work);
    const b = flights.run('k', work);
    const c = flights.run('other', work);
    gate.resolve();
    expect(await Promise.all([a, b, c])).toEqual([42, 42, 42]);
    expect(runs).toBe(2);
    expect(await flights.run('k', work)).toBe(42); // a finished flight is not cached
    expect(runs).toBe(3);
  });

  it('aborts the work only when every waiter has given up, and lets the last one wait for it to wind down', async () => {
    const flights = new SingleFlight<string>();
    const events: string[] = [];
    const work = (signal: AbortSignal) =>
      new Promise<string>((_, reject) =>
        signal.addEventListener('abort', () => setTimeout(() => (events.push('work wound down'), reject(signal.reason)), 20)),
      );
    const one = new AbortController();
    const two = new AbortController();
    const a = flights.run('k', work, one.signal).catch((e: Error) => (events.push(`a: ${e.message}`), 'a'));
    const b = flights.run('k', work, two.signal).catch((e: Error) => (events.push(`b: ${e.message}`), 'b'));
    one.abort(new Error('first gave up'));
    await a;
    expect(events).toEqual(['a: first gave up']);
    two.abort(new Error('second gave up'));
    await b;
    expect(events).toEqual(['a: first gave up', 'work wound down', 'b: second gave up']);
  });
});

describe('Gate', () => {
  it('lets shared sections overlap and runs an exclusive one alone, ahead of later shared ones', async () => {
    const gate = new Gate();
    const log: string[] = [];
    const first = deferred<void>();
    const s1 = gate.withShared(async () => {
      log.push('s1 start');
      await first.promise;
      log.push('s1 end');
    });
    const s2 = gate.withShared(async () => void log.push('s2'));
    const x = gate.withExclusive(async () => void log.push('exclusive'));
    const s3 = gate.withShared(async () => void log.push('s3'));
    await s2;
    first.resolve();
    await Promise.all([s1, x, s3]);
    expect(log).toEqual(['s1 start', 's2', 's1 end', 'exclusive', 's3']);
  });
});
