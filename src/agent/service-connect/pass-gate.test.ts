import { describe, expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.js';
import { PassGate, ProxyNotReadyError } from './pass-gate.js';

const settled = async <T>(p: Promise<T>) => {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('PassGate', () => {
  it('a wait is met only by a pass that began after it, and asks for one', async () => {
    const clock = new ManualClock();
    let kicks = 0;
    const gate = new PassGate(clock, () => kicks++);
    const running = gate.begin(); // a pass already under way when the task asks
    const waited = gate.wait(60_000);
    expect(kicks).toBe(1);
    expect(gate.waiting).toBe(true);
    gate.succeeded(running);
    expect(await settled(waited)).toBe('pending');
    const next = gate.begin();
    gate.succeeded(next);
    expect(await settled(waited)).toBe('resolved');
    expect(gate.waiting).toBe(false);
  });

  it('a failed pass leaves the waiters waiting; past the deadline they are told why', async () => {
    const clock = new ManualClock();
    const gate = new PassGate(clock, () => {});
    const waited = gate.wait(60_000);
    gate.begin(); // fails: never succeeded
    clock.advance(59_999);
    expect(await settled(waited)).toBe('pending');
    clock.advance(1);
    await expect(waited).rejects.toThrow(ProxyNotReadyError);
    await expect(waited).rejects.toThrow(/within 60000 ms/);
    expect(gate.waiting).toBe(false);
  });

  it('a wait without a kick asks for no pass: it is met by the next pass on the usual interval', async () => {
    const clock = new ManualClock();
    let kicks = 0;
    const gate = new PassGate(clock, () => kicks++);
    const waited = gate.wait(60_000, false);
    expect(kicks).toBe(0);
    expect(gate.waiting).toBe(false);
    gate.succeeded(gate.begin());
    expect(await settled(waited)).toBe('resolved');
  });

  it('closing rejects every waiter', async () => {
    const gate = new PassGate(new ManualClock(), () => {});
    const waited = gate.wait(1_000);
    gate.close();
    await expect(waited).rejects.toThrow(/stopped/);
  });
});
