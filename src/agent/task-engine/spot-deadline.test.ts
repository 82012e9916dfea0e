import { describe, expect, it } from 'vitest';
import { SPOT_INTERRUPTION_REASON } from '../../model/spot-interruption.js';
import { container, id, setupTimed, task } from '../testing/task-fixtures.js';

/**
 * A FARGATE_SPOT interruption's two-minute warning on the agent, with time moved by hand: SIGTERM at once, and
 * every container still running is SIGKILLed at the task's stopDeadline, whatever its stopTimeout or dependents.
 */
const interrupted = (spec: ReturnType<typeof task>, stopDeadline: number) => ({ ...spec, desiredStatus: 'STOPPED' as const, stoppedReason: SPOT_INTERRUPTION_REASON, stopDeadline });
const signals = (w: ReturnType<typeof setupTimed>) => w.runtime.signals.map((s) => `${s.id.split('-').at(-1)}:${s.signal}`);

/** A task of `containers` running, those named in `ignoring` trapping SIGTERM, then interrupted with `leftMs` of its warning left. */
async function interruptedTask(containers: Parameters<typeof task>[0], ignoring: readonly string[], leftMs: number) {
  const w = setupTimed();
  const spec = task(containers);
  await w.engine.handlePayload([spec]);
  await w.settle();
  for (const name of ignoring) w.runtime.ignoreTerm.add(id(name));
  await w.engine.handlePayload([interrupted(spec, w.clock.now() + leftMs)]);
  await w.settle();
  return w;
}

describe('a Spot interruption on the agent', () => {
  it('SIGTERM at once; SIGKILL at the deadline when it comes before the stopTimeout', async () => {
    // The payload came 40 s into the warning (the agent was reconnecting): 80 s of it are left.
    const w = await interruptedTask([container('web', { stopTimeout: 120 })], ['web'], 80_000);
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
    const w = await interruptedTask([container('web', { stopTimeout: 30 })], ['web'], 120_000);
    await w.advance(30_000);
    await w.settle();
    expect(signals(w)).toEqual(['web:SIGTERM', 'web:SIGKILL']);
  });

  it('dependents first, but within the two minutes: the container others depend on is SIGKILLed at the deadline', async () => {
    const w = await interruptedTask(
      [container('app', { stopTimeout: 100, dependsOn: [{ containerName: 'db', condition: 'START' }] }), container('db', { stopTimeout: 100 })],
      ['app', 'db'],
      120_000,
    );
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
    const w = await interruptedTask([container('web', { stopTimeout: 120 })], [], -1);
    expect(signals(w)).toEqual(['web:SIGKILL']);
    expect(w.state()).toMatchObject({ known: 'STOPPED' });
  });
});
