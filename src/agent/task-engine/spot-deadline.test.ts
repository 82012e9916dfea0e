import { describe, expect, it } from 'vitest';
import { SPOT_INTERRUPTION_REASON } from '../../model/spot-interruption.js';
import { container, id, setupTimed, task } from '../testing/task-fixtures.js';

/**
 * A FARGATE_SPOT interruption's two-minute warning on the agent, with time moved by hand: SIGTERM at once, and
 * every container still running is SIGKILLed at the task's stopDeadline, whatever its stopTimeout or dependents.
 */
const interrupted = (spec: ReturnType<typeof task>, stopDeadline: number) => ({ ...spec, desiredStatus: 'STOPPED' as const, stoppedReason: SPOT_INTERRUPTION_REASON, stopDeadline });
const signals = (w: ReturnType<typeof setupTimed>) => w.runtime.signals.map((s) => `${s.id.split('-').at(-1)}:${s.signal}`);

describe('a Spot interruption on the agent', () => {
  it('SIGTERM at once; SIGKILL at the deadline when it comes before the stopTimeout', async () => {
    const w = setupTimed();
    const spec = task([container('web', { stopTimeout: 120 })]);
    await w.engine.handlePayload([spec]);
    await w.settle();
    w.runtime.ignoreTerm.add(id('web'));
    // The payload came 40 s into the warning (the agent was reconnecting): 80 s of it are left.
    await w.engine.handlePayload([interrupted(spec, w.clock.now() + 80_000)]);
    await w.settle();
    expect(signals(w)).toEqual(['web:SIGTERM']);
    expect(w.state()).toMatchObject({ known: 'STOPPING', stopReason: SPOT_INTERRUPTION_REASON });
    await w.advance(79_999);
    expect(signals(w)).toEqual(['web:SIGTERM']);
    await w.advance(1);
    await w.settle();
    expect(signals(w)).toEqual(['web:SIGTERM', 'web:SIGKILL']);
    expect(w.state()).toMatchObject({ known: 'STOPPED' });
  });

  it('the stopTimeout still ends a container sooner than the deadline', async () => {
    const w = setupTimed();
    const spec = task([container('web', { stopTimeout: 30 })]);
    await w.engine.handlePayload([spec]);
    await w.settle();
    w.runtime.ignoreTerm.add(id('web'));
    await w.engine.handlePayload([interrupted(spec, w.clock.now() + 120_000)]);
    await w.settle();
    await w.advance(30_000);
    await w.settle();
    expect(signals(w)).toEqual(['web:SIGTERM', 'web:SIGKILL']);
  });

  it('dependents first, but within the two minutes: the container others depend on is SIGKILLed at the deadline', async () => {
    const w = setupTimed();
    const spec = task([container('app', { stopTimeout: 100, dependsOn: [{ containerName: 'db', condition: 'START' }] }), container('db', { stopTimeout: 100 })]);
    await w.engine.handlePayload([spec]);
    await w.settle();
    w.runtime.ignoreTerm.add(id('app'));
    w.runtime.ignoreTerm.add(id('db'));
    await w.engine.handlePayload([interrupted(spec, w.clock.now() + 120_000)]);
    await w.settle();
    // app stops first; db waits for it.
    expect(signals(w)).toEqual(['app:SIGTERM']);
    await w.advance(100_000);
    await w.settle();
    expect(signals(w)).toEqual(['app:SIGTERM', 'app:SIGKILL', 'db:SIGTERM']);
    // Its own stopTimeout would end it at 200 s; the warning ends at 120 s.
    await w.advance(19_999);
    expect(signals(w)).toHaveLength(3);
    await w.advance(1);
    await w.settle();
    expect(signals(w)).toEqual(['app:SIGTERM', 'app:SIGKILL', 'db:SIGTERM', 'db:SIGKILL']);
    expect(w.state()).toMatchObject({ known: 'STOPPED' });
  });

  it('a deadline already past when the payload comes: SIGKILL at once, nothing waits', async () => {
    const w = setupTimed();
    const spec = task([container('web', { stopTimeout: 120 })]);
    await w.engine.handlePayload([spec]);
    await w.settle();
    await w.engine.handlePayload([interrupted(spec, w.clock.now() - 1)]);
    await w.settle();
    expect(signals(w)).toEqual(['web:SIGKILL']);
    expect(w.state()).toMatchObject({ known: 'STOPPED' });
  });
});
