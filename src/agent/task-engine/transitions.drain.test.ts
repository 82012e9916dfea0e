import { describe, expect, it } from 'vitest';
import { runningTask } from '../testing/task-states.js';
import { applyEvent } from './task-events.js';
import { planStep } from './transitions.js';

const ctx = (now: number) => ({ now, defaultStartTimeoutMs: 30_000, defaultStopTimeoutMs: 30_000 });

describe('a stopped Service Connect task drains before its containers are signalled', () => {
  it('no SIGTERM before drainUntil (a wake-up at it instead); SIGTERM from then on', () => {
    const state = runningTask('t1', { spec: { serviceName: 'backend' } });
    state.desired = 'STOPPED';
    state.drainUntil = 10_000;
    // STOPPING is reported while it drains.
    expect(planStep(state, ctx(9_999))).toEqual({ kind: 'report' });
    state.known = 'STOPPING';
    expect(planStep(state, ctx(9_999))).toEqual({ kind: 'idle', wake: [{ name: 'drain', at: 10_000 }] });
    expect(planStep(state, ctx(10_000))).toEqual({ kind: 'signal', container: 'app', signal: 'SIGTERM' });
  });

  it("a drain that ends before its bound (the 'drained' event) lets the SIGTERM go at once", () => {
    const state = runningTask('t3', { spec: { serviceName: 'backend' } });
    state.desired = 'STOPPED';
    state.known = 'STOPPING';
    state.drainUntil = 17_000;
    expect(planStep(state, ctx(1_000))).toEqual({ kind: 'idle', wake: [{ name: 'drain', at: 17_000 }] });
    expect(applyEvent(state, { kind: 'drained' })).toBe(true);
    expect(applyEvent(state, { kind: 'drained' })).toBe(false);
    expect(planStep(state, ctx(1_000))).toEqual({ kind: 'signal', container: 'app', signal: 'SIGTERM' });
  });

  it("a 'drained' event for a task with no drain changes nothing", () => {
    const state = runningTask('t4');
    expect(applyEvent(state, { kind: 'drained' })).toBe(false);
  });

  it('without a drain the stop is signalled at once', () => {
    const state = runningTask('t2');
    state.desired = 'STOPPED';
    expect(planStep(state, ctx(0))).toEqual({ kind: 'signal', container: 'app', signal: 'SIGTERM' });
  });
});
