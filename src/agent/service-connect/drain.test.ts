import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { drainTask, type DrainEnd } from './drain.js';
import { PassGate } from './pass-gate.js';

/** Let promise callbacks run. */
const flush = () => new Promise((r) => setImmediate(r));

function setup(sessions: () => Promise<number>) {
  const clock = new ManualClock();
  let kicks = 0;
  const gate = new PassGate(clock, () => kicks++);
  let end: DrainEnd | undefined;
  void drainTask({ gate, sessions, timers: clock, now: clock.now, pollMs: 100 }, 17_000).then((e) => (end = e));
  return { clock, gate, kicks: () => kicks, end: () => end };
}

/** One whole proxy pass. */
const pass = (gate: PassGate) => gate.succeeded(gate.begin());

describe('drainTask', () => {
  it('asks for a pass at once, then waits for the next one on the usual interval, then for no open session', async () => {
    let open = 2;
    const d = setup(async () => open);
    expect(d.kicks()).toBe(1);
    pass(d.gate); // this host's proxy took the task out
    await flush();
    expect(d.kicks()).toBe(1); // the second pass is not hurried: the other hosts' proxies are on the same interval
    expect(d.end()).toBeUndefined();
    pass(d.gate);
    await flush();
    expect(d.end()).toBeUndefined(); // 2 sessions still open
    open = 0;
    d.clock.advance(100);
    await flush();
    expect(d.end()).toBe('drained');
  });

  it('a failed look at the sessions (HAProxy reloading) is no proof: looked at again', async () => {
    let reads = 0;
    const d = setup(async () => (++reads === 1 ? Promise.reject(new Error('socket gone')) : 0));
    pass(d.gate);
    await flush();
    pass(d.gate);
    await flush();
    expect(d.end()).toBeUndefined();
    d.clock.advance(100);
    await flush();
    expect(d.end()).toBe('drained');
    expect(reads).toBe(2);
  });

  it('the bound ends it whatever is still open', async () => {
    const d = setup(async () => 1);
    pass(d.gate);
    await flush();
    pass(d.gate);
    await flush();
    for (let t = 0; t < 17_000 && !d.end(); t += 100) {
      d.clock.advance(100);
      await flush();
    }
    expect(d.end()).toBe('bound');
    expect(d.clock.now() - Date.UTC(2026, 0, 1)).toBe(17_000);
  });

  it('no pass succeeding (the API unreachable) ends it at the bound', async () => {
    const d = setup(async () => 0);
    d.clock.advance(17_000);
    await flush();
    await flush();
    expect(d.end()).toBe('bound');
  });
});
