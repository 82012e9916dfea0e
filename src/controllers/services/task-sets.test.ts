import type { TaskSet } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import type { Wire } from '../../model/wire.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { agentStep, live, messages, pass, settle, TD1, TD2, world, type World } from './testing/world.js';

/** The EXTERNAL deployment controller's pass: each task set kept at its computed desired count. */

const BLUE = 'ecs-svc/1111111111111111111';
const GREEN = 'ecs-svc/2222222222222222222';
const set = (id: string, taskDefinition: string, value: number, status = 'ACTIVE'): Wire<TaskSet> => ({
  id,
  taskSetArn: `arn:aws:ecs:us-east-1:000000000000:task-set/c/web/${id}`,
  status,
  taskDefinition,
  scale: { value, unit: 'PERCENT' },
  computedDesiredCount: 0,
  runningCount: 0,
  pendingCount: 0,
  stabilityStatus: 'STABILIZING',
  launchType: 'EC2',
});
const external = (desired: number, sets: Wire<TaskSet>[]) =>
  world({ desired, service: { deploymentController: { type: 'EXTERNAL' }, deployments: [], taskSets: sets } });
const setOf = (w: World, id: string) => w.record.taskSets!.find((s) => s.id === id);
const liveIn = (w: World, id: string) => live(w).filter((t) => t.task.startedBy === id);

describe('task sets', () => {
  it('runs each set at desiredCount × scale, rounded up, and reports counts and stability as ECS does', () => {
    const w = external(5, [set(BLUE, TD1, 100, 'PRIMARY'), set(GREEN, TD2, 30)]);
    expect(pass(w).launches).toHaveLength(5);
    // The next pass counts what the first started (a pass's counts are of the tasks it read).
    pass(w);
    expect(setOf(w, BLUE)).toMatchObject({ computedDesiredCount: 5, pendingCount: 5, runningCount: 0, stabilityStatus: 'STABILIZING' });
    settle(w);
    expect(liveIn(w, BLUE)).toHaveLength(5);
    // 5 × 30 % = 1.5 → 2
    expect(liveIn(w, GREEN)).toHaveLength(2);
    expect(liveIn(w, GREEN).every((t) => t.task.taskDefinitionArn === TD2)).toBe(true);
    expect(setOf(w, GREEN)).toMatchObject({ computedDesiredCount: 2, runningCount: 2, pendingCount: 0, stabilityStatus: 'STEADY_STATE' });
    expect(setOf(w, GREEN)!.stabilityStatusAt).toBe(w.now / 1000);
    expect(w.record).toMatchObject({ runningCount: 7, pendingCount: 0, taskDefinition: TD1, deployments: [] });
    expect(messages(w)).toContain('(service web) has reached a steady state.');
  });

  it('scales a set in and out when its scale or the service desired count changes', () => {
    const w = external(4, [set(BLUE, TD1, 100)]);
    settle(w);
    w.record = { ...w.record, taskSets: [{ ...setOf(w, BLUE)!, scale: { value: 50, unit: 'PERCENT' } }] };
    settle(w);
    expect(liveIn(w, BLUE)).toHaveLength(2);
    w.record = { ...w.record, desiredCount: 10 };
    settle(w);
    expect(liveIn(w, BLUE)).toHaveLength(5);
    expect(setOf(w, BLUE)).toMatchObject({ computedDesiredCount: 5, runningCount: 5, stabilityStatus: 'STEADY_STATE' });
  });

  it('drains a DRAINING set and then drops it from the service', () => {
    const w = external(2, [set(BLUE, TD1, 100, 'PRIMARY'), set(GREEN, TD2, 100)]);
    settle(w);
    w.record = { ...w.record, taskSets: w.record.taskSets!.map((s) => (s.id === GREEN ? { ...s, status: 'DRAINING' } : s)) };
    const plan = pass(w);
    expect(plan.stops).toHaveLength(2);
    expect(setOf(w, GREEN)).toMatchObject({ status: 'DRAINING', computedDesiredCount: 0 });
    for (const t of w.tasks) agentStep(w, t);
    pass(w);
    expect(setOf(w, GREEN)).toBeUndefined();
    expect(liveIn(w, BLUE)).toHaveLength(2);
  });

  it('replaces a task that stopped, within its own set', () => {
    const w = external(2, [set(BLUE, TD1, 100)]);
    settle(w);
    const [t] = liveIn(w, BLUE);
    agentStep(w, t!, 'fail');
    const plan = pass(w);
    expect(plan.launches).toHaveLength(1);
    expect(plan.launchDeploymentId).toBe(BLUE);
  });

  it('keeps protected tasks when a set scales in, and scales in when the protection ends', () => {
    const w = external(3, [set(BLUE, TD1, 100)]);
    settle(w);
    const tasks = liveIn(w, BLUE);
    for (const t of tasks) {
      const i = w.tasks.indexOf(t);
      w.tasks[i] = { ...t, protection: { expiresAt: w.now + 60_000 } } satisfies TaskRecord;
    }
    w.record = { ...w.record, taskSets: [{ ...setOf(w, BLUE)!, scale: { value: 0, unit: 'PERCENT' } }] };
    const plan = pass(w);
    expect(plan.stops).toEqual([]);
    expect(plan.requeueAfterMs).toBe(60_000);
    expect(setOf(w, BLUE)).toMatchObject({ computedDesiredCount: 0, runningCount: 3, stabilityStatus: 'STABILIZING' });
    expect(messages(w)).toContain('(service web) was unable to scale in due to (reason: 3 tasks under protection).');
    w.now += 60_000;
    expect(pass(w).stops).toHaveLength(3);
  });

  it('a draining service drains every set, then becomes INACTIVE', () => {
    const w = external(2, [set(BLUE, TD1, 100)]);
    settle(w);
    w.record = { ...w.record, status: 'DRAINING', desiredCount: 0, taskSets: w.record.taskSets!.map((s) => ({ ...s, status: 'DRAINING' })) };
    settle(w);
    expect(live(w)).toHaveLength(0);
    expect(w.record.status).toBe('INACTIVE');
    expect(w.record.taskSets).toEqual([]);
  });
});
