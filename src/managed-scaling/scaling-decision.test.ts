import { describe, expect, it } from 'vitest';
import { hostGroup, hostInstance } from '../hostgroups/testing/records.js';
import type { TerminationHook } from '../state/records/host-groups.js';
import { drainStep } from './draining.js';
import { decideScaling, protectionChanges, type DecisionView, type ScalingSettings } from './scaling-decision.js';

const MIN = 60_000;
const instance = hostInstance;
const group = hostGroup;
const settings: ScalingSettings = { targetCapacity: 100, minimumScalingStepSize: 1, maximumScalingStepSize: 10_000, instanceWarmupPeriod: 300 };
const now = 60 * MIN;
const view = (extra: Partial<DecisionView> = {}): DecisionView => ({ now, needed: 0, lowSince: undefined, scaleInAfterMs: 15 * MIN, busy: () => false, ...extra });

describe('managed scaling: scale-out', () => {
  it('scales an empty group out at once when tasks wait', () => {
    expect(decideScaling(group(0, []), settings, view({ needed: 1 }))).toEqual({ kind: 'scale-out', target: 1, to: 1 });
  });

  it('moves in steps within the minimum and maximum step sizes and the group maximum', () => {
    expect(decideScaling(group(2, [instance('i-1'), instance('i-2')]), { ...settings, maximumScalingStepSize: 3 }, view({ needed: 9 }))).toMatchObject({ kind: 'scale-out', to: 5 });
    expect(decideScaling(group(2, [instance('i-1'), instance('i-2')]), { ...settings, minimumScalingStepSize: 4 }, view({ needed: 3 }))).toMatchObject({ kind: 'scale-out', to: 6 });
    expect(decideScaling(group(2, [instance('i-1'), instance('i-2')], { maxSize: 4 }), { ...settings, minimumScalingStepSize: 4 }, view({ needed: 3 }))).toMatchObject({ kind: 'scale-out', to: 4 });
    expect(decideScaling(group(4, [], { maxSize: 4 }), settings, view({ needed: 6 }))).toMatchObject({ kind: 'hold', why: 'at MaxSize' });
  });

  it('keeps spare instances under a target capacity below 100', () => {
    expect(decideScaling(group(4, [1, 2, 3, 4].map((n) => instance(`i-${n}`))), { ...settings, targetCapacity: 50 }, view({ needed: 4 }))).toMatchObject({ kind: 'scale-out', to: 8 });
  });

  it('does not launch again for tasks a warming instance will take (the desired capacity already counts it)', () => {
    const g = group(2, [instance('i-1'), instance('i-2', { lifecycleState: 'Pending', launchedAt: now - 1000 })]);
    // N = 1 running; the waiting tasks need one instance more: M = 2 = desired.
    expect(decideScaling(g, settings, view({ needed: 2 }))).toMatchObject({ kind: 'hold', why: 'at target' });
  });
});

describe('managed scaling: scale-in', () => {
  const idle = () => group(3, [instance('i-1', { launchedAt: 1 }), instance('i-2', { launchedAt: 2 }), instance('i-3', { launchedAt: 3 })]);
  const busyOne = (id: string) => id === 'i-1';

  it('waits until the metric has stayed low for the scale-in period', () => {
    expect(decideScaling(idle(), settings, view({ needed: 1, busy: busyOne, lowSince: now - 14 * MIN }))).toMatchObject({ kind: 'hold', why: 'waiting for the scale-in period' });
    expect(decideScaling(idle(), settings, view({ needed: 1, busy: busyOne, lowSince: undefined }))).toMatchObject({ kind: 'hold' });
  });

  it('then names empty instances only, newest first, at most half the group per step', () => {
    expect(decideScaling(idle(), settings, view({ needed: 1, busy: busyOne, lowSince: now - 15 * MIN }))).toEqual({ kind: 'scale-in', target: 1, to: 2, instanceIds: ['i-3'] });
    const six = group(6, [1, 2, 3, 4, 5, 6].map((n) => instance(`i-${n}`, { launchedAt: n })));
    expect(decideScaling(six, settings, view({ needed: 0, lowSince: 0 }))).toEqual({ kind: 'scale-in', target: 0, to: 3, instanceIds: ['i-6', 'i-5', 'i-4'] });
  });

  it('never names an instance running tasks', () => {
    expect(decideScaling(idle(), settings, view({ needed: 1, busy: () => true, lowSince: 0 }))).toMatchObject({ kind: 'hold', why: 'every instance runs tasks' });
  });

  it('respects MinSize, and holds while an instance warms up', () => {
    expect(decideScaling(group(3, idle().instances, { minSize: 3 }), settings, view({ lowSince: 0 }))).toMatchObject({ kind: 'hold', why: 'at target' });
    const warming = group(3, [...idle().instances.slice(0, 2), instance('i-3', { launchedAt: now - 299_000 })]);
    expect(decideScaling(warming, settings, view({ needed: 1, lowSince: 0 }))).toMatchObject({ kind: 'hold', why: 'an instance is warming up' });
    expect(decideScaling(warming, { ...settings, instanceWarmupPeriod: 60 }, view({ needed: 1, busy: busyOne, lowSince: 0 }))).toMatchObject({ kind: 'scale-in', instanceIds: ['i-3'] });
  });

  it('lowers a desired capacity above the instances there are before naming any', () => {
    const g = group(3, [instance('i-1'), instance('i-2', { lifecycleState: 'Terminating' })]);
    expect(decideScaling(g, settings, view({ needed: 0, lowSince: 0 }))).toEqual({ kind: 'lower-desired', target: 0, to: 2 });
  });
});

describe('managed termination protection', () => {
  it('protects InService instances running tasks and unprotects empty ones; Pending ones keep theirs', () => {
    const g = group(3, [instance('i-1'), instance('i-2', { protectedFromScaleIn: true }), instance('i-3', { lifecycleState: 'Pending', protectedFromScaleIn: true }), instance('i-4', { protectedFromScaleIn: true })]);
    expect(protectionChanges(g, (id) => id === 'i-1' || id === 'i-4')).toEqual([
      { instanceId: 'i-1', protect: true },
      { instanceId: 'i-2', protect: false },
    ]);
  });
});

describe('managed draining', () => {
  const hook: TerminationHook = { name: 'ecs-managed-draining-termination-hook', heartbeatTimeoutS: 600 };
  const waiting = instance('i-1', { lifecycleState: 'Terminating:Wait', waitingSince: now });

  it('sets the container instance DRAINING, waits for its tasks, then lets the termination go on', () => {
    expect(drainStep(waiting, hook, { now, containerInstanceStatus: 'ACTIVE', liveTasks: 2 })).toEqual({ kind: 'set-draining' });
    expect(drainStep(waiting, hook, { now: now + 5_000, containerInstanceStatus: 'DRAINING', liveTasks: 1 })).toEqual({ kind: 'wait' });
    expect(drainStep(waiting, hook, { now: now + 9_000, containerInstanceStatus: 'DRAINING', liveTasks: 0 })).toEqual({ kind: 'continue', why: 'drained' });
  });

  it('gives up at the hook timeout, and does not wait for an instance that is not registered', () => {
    expect(drainStep(waiting, hook, { now: now + 600_000, containerInstanceStatus: 'DRAINING', liveTasks: 1 })).toEqual({ kind: 'continue', why: 'timed-out' });
    expect(drainStep(waiting, hook, { now, containerInstanceStatus: undefined, liveTasks: 0 })).toEqual({ kind: 'continue', why: 'not-registered' });
  });
});
