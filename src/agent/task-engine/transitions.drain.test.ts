import { describe, expect, it } from 'vitest';
import { runningTask } from '../testing/task-states.js';
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

  it('without a drain the stop is signalled at once', () => {
    const state = runningTask('t2');
    state.desired = 'STOPPED';
    expect(planStep(state, ctx(0))).toEqual({ kind: 'signal', container: 'app', signal: 'SIGTERM' });
  });
});
