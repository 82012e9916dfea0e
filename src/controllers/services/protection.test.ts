import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../state/records/tasks.js';
import { agentStep, deploy, live, messages, pass, settle, TD2, world, type World } from './testing/world.js';

/** Task scale-in protection in the pure reconcile, with the pretend cluster's clock moved by hand. */

const MINUTE = 60_000;
const protect = (w: World, t: TaskRecord, minutes: number) => {
  const i = w.tasks.indexOf(t);
  w.tasks[i] = { ...t, protection: { expiresAt: w.now + minutes * MINUTE } };
  return w.tasks[i]!;
};
const steady = (desired: number) => {
  const w = world({ desired });
  settle(w);
  return w;
};

describe('scale-in with protected tasks', () => {
  it('stops only unprotected tasks, says why it holds back, and finishes when the protection ends', () => {
    const w = steady(3);
    const [a, b, c] = live(w);
    protect(w, a!, 10);
    protect(w, b!, 30);
    w.record = { ...w.record, desiredCount: 1 };
    const plan = pass(w);
    expect(plan.stops.map((s) => s.taskId)).toEqual([c!.id]);
    expect(plan.requeueAfterMs).toBe(10 * MINUTE);
    expect(messages(w)).toContain('(service web) was unable to scale in due to (reason: 1 tasks under protection).');
    agentStep(w, w.tasks.find((t) => t.id === c!.id)!);
    // Still protected a minute before the end: nothing more goes.
    w.now += 9 * MINUTE;
    expect(pass(w).stops).toEqual([]);
    // The first protection ended: that task can go now, the one still protected stays.
    w.now += MINUTE;
    const after = pass(w);
    expect(after.stops.map((s) => s.taskId)).toEqual([a!.id]);
    expect(live(w).map((t) => t.id)).toEqual([b!.id]);
  });

  it('protects nothing once the protection is turned off (no record of it left)', () => {
    const w = steady(2);
    const [a] = live(w);
    const i = w.tasks.indexOf(a!);
    w.tasks[i] = { ...a!, protection: { expiresAt: w.now - 1 } };
    w.record = { ...w.record, desiredCount: 0 };
    expect(pass(w).stops).toHaveLength(2);
  });
});

describe('deployments and protected tasks', () => {
  it('leaves a protected old task running until its protection ends, then replaces it', () => {
    const w = steady(2);
    const [old1, old2] = live(w);
    protect(w, old1!, 15);
    deploy(w, TD2);
    settle(w);
    // Everything else moved to the new task definition; the protected old task is still there.
    const still = live(w).filter((t) => t.task.taskDefinitionArn !== TD2);
    expect(still.map((t) => t.id)).toEqual([old1!.id]);
    expect(w.tasks.find((t) => t.id === old2!.id)!.task.lastStatus).toBe('STOPPED');
    w.now += 15 * MINUTE;
    settle(w);
    expect(live(w).every((t) => t.task.taskDefinitionArn === TD2)).toBe(true);
    expect(live(w)).toHaveLength(2);
  });

  it('replaces a protected task whose instance is lost', () => {
    const w = steady(2);
    const [a] = live(w);
    protect(w, a!, 60);
    const instanceId = a!.instanceId!;
    w.instances = w.instances.map((i) => (i.id === instanceId ? { ...i, agentConnected: false } : i));
    w.disconnectedAt.set(instanceId, w.now - w.settings.instanceLostAfterMs);
    expect(pass(w).stops.map((s) => s.taskId)).toContain(a!.id);
  });
});
