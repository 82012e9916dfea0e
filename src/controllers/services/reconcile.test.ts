import { describe, expect, it } from 'vitest';
import { instance } from '../../scheduler/testing/instances.js';
import { FAILED_START_WINDOW_MS, THROTTLE_AFTER_FAILURES } from './deployments.js';
import { INACTIVE_RETENTION_MS, reconcileService } from './reconcile.js';
import { UNPLACED_RETRY_MS } from './replica.js';
import { addTask, agentStep, deploy, live, messages, pass, running, settle, stateOf, TD1, TD2, TD_HEALTH, world, type World } from './testing/world.js';

/** The pure reconcile, scenario by scenario (property tests in reconcile.property.test.ts). */

const primary = (w: World) => w.record.deployments!.find((d) => d.status === 'PRIMARY')!;
const steadyWorld = (options: Parameters<typeof world>[0] = {}) => {
  const w = world(options);
  settle(w);
  return w;
};
const tasksOf = (w: World, id: string) => live(w).filter((t) => t.task.startedBy === id);

describe('a new service', () => {
  it('starts the desired tasks in one pass, spread across zones, then completes and is steady', () => {
    const w = world({ desired: 4 });
    const plan = pass(w);
    expect(plan.launches).toHaveLength(4);
    expect(plan.launchDeploymentId).toBe(primary(w).id);
    expect(new Set(plan.launches.filter((i) => i === 'i1')).size).toBe(1);
    expect(plan.launches.filter((i) => i === 'i1')).toHaveLength(2);
    expect(primary(w).rolloutState).toBe('IN_PROGRESS');
    settle(w);
    expect(running(w)).toHaveLength(4);
    expect(w.record).toMatchObject({ runningCount: 4, pendingCount: 0 });
    expect(primary(w)).toMatchObject({ rolloutState: 'COMPLETED', runningCount: 4, rolloutStateReason: `ECS deployment ${primary(w).id} completed.` });
    expect(messages(w).slice(0, 2)).toEqual(['(service web) has reached a steady state.', `(service web) (deployment ${primary(w).id}) deployment completed.`]);
    // Steady: another pass changes nothing and says nothing again.
    const again = pass(w);
    expect(again.launches).toEqual([]);
    expect(again.stops).toEqual([]);
    expect(messages(w).filter((m) => m.includes('steady state'))).toHaveLength(1);
  });

  it('counts pending tasks and does not launch again while they start', () => {
    const w = world({ desired: 2 });
    pass(w);
    const second = pass(w);
    expect(second.launches).toEqual([]);
    expect(w.record).toMatchObject({ pendingCount: 2, runningCount: 0 });
  });

  it('launches at most maxLaunchesPerPass tasks a pass', () => {
    const w = world({ desired: 30 });
    w.settings = { ...w.settings, maxLaunchesPerPass: 10 };
    expect(pass(w).launches).toHaveLength(10);
    expect(pass(w).launches).toHaveLength(10);
  });

  it('reports tasks it cannot place, once within the repeat window, and looks again soon', () => {
    const w = world({ desired: 3, instances: [instance('small', { remaining: { memory: 100 } })] });
    const plan = pass(w);
    expect(plan.launches).toEqual(['small']);
    expect(plan.requeueAfterMs).toBe(UNPLACED_RETRY_MS);
    const unable = '(service web) was unable to place a task because no container instance met all of its requirements. The closest matching (container-instance small) has insufficient memory available. For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.';
    expect(messages(w)).toContain(unable);
    w.instances = [instance('small', { remaining: { memory: 36 } })];
    pass(w);
    expect(messages(w).filter((m) => m === unable)).toHaveLength(1);
  });
});

describe('rolling deployments', () => {
  it('min 50 / max 100: stops old tasks down to the floor first, then starts new ones into the room', () => {
    const w = steadyWorld({ desired: 4, limits: { minimumHealthyPercent: 50, maximumPercent: 100 } });
    const id = deploy(w, TD2);
    const first = pass(w);
    expect(first.launches).toEqual([]);
    expect(first.stops).toHaveLength(2);
    expect(first.stops[0]!.reason).toBe(`Scaling activity initiated by (deployment ${id})`);
    // Stopping tasks still count against the ceiling until they have stopped.
    expect(pass(w).launches).toEqual([]);
    for (const t of w.tasks.filter((t) => t.task.desiredStatus === 'STOPPED')) agentStep(w, t);
    expect(pass(w).launches).toHaveLength(2);
    settle(w);
    expect(live(w).every((t) => t.task.startedBy === id)).toBe(true);
    expect(w.record.deployments).toHaveLength(1);
    expect(primary(w)).toMatchObject({ id, rolloutState: 'COMPLETED' });
  });

  it('min 100 / max 200: starts the new tasks up to the ceiling, and stops old ones only once new ones are healthy', () => {
    const w = steadyWorld({ desired: 4 });
    const id = deploy(w, TD2);
    const first = pass(w);
    expect(first.launches).toHaveLength(4);
    expect(first.stops).toEqual([]);
    const fresh = tasksOf(w, id);
    agentStep(w, fresh[0]!);
    const second = pass(w);
    expect(second.stops).toHaveLength(1);
    expect(w.record.deployments!.map((d) => [d.status, d.runningCount, d.pendingCount])).toEqual([
      ['PRIMARY', 1, 3],
      ['ACTIVE', 4, 0],
    ]);
  });

  it('stops unhealthy and pending old tasks first, at no cost to the floor', () => {
    const w = steadyWorld({ desired: 4, limits: { minimumHealthyPercent: 50, maximumPercent: 100 } });
    const [sick] = running(w);
    sick!.task.healthStatus = 'UNHEALTHY';
    deploy(w, TD2);
    const plan = pass(w);
    // Three healthy, floor two: the unhealthy one and one healthy one go.
    expect(plan.stops.map((s) => s.taskId)).toContain(sick!.id);
    expect(plan.stops).toHaveLength(2);
    expect(plan.reliesOn).toHaveLength(3);
  });

  it('supersedes an unfinished deployment: tasks of every older deployment are old', () => {
    const w = steadyWorld({ desired: 2 });
    deploy(w, TD2);
    pass(w);
    const last = deploy(w, TD1);
    settle(w);
    expect(live(w).every((t) => t.task.startedBy === last)).toBe(true);
    expect(w.record.deployments!.map((d) => d.id)).toEqual([last]);
  });

  it('scales in by the placement strategies, pending tasks first', () => {
    const w = steadyWorld({ desired: 4 });
    w.record.desiredCount = 6;
    pass(w);
    w.record.desiredCount = 3;
    const plan = pass(w);
    // Two pending go for free, one healthy within the floor (3 of 3 then).
    expect(plan.stops).toHaveLength(3);
    const pending = live(w).filter((t) => t.task.lastStatus === 'PROVISIONING').map((t) => t.id);
    expect(pending.every((id) => plan.stops.some((s) => s.taskId === id))).toBe(true);
  });
});

describe('health', () => {
  it('replaces an UNHEALTHY task after the grace period, and looks again when it ends', () => {
    const w = steadyWorld({ desired: 2, service: { healthCheckGracePeriodSeconds: 30 } });
    const [sick] = running(w);
    sick!.task.healthStatus = 'UNHEALTHY';
    const within = pass(w);
    expect(within.stops).toEqual([]);
    expect(within.requeueAfterMs).toBe(30_000);
    w.now += 30_000;
    const after = pass(w);
    expect(after.stops).toEqual([{ taskId: sick!.id, reason: 'Task failed container health checks' }]);
    expect(messages(w)).toContain(`(service web) (task ${sick!.id}) failed container health checks.`);
    expect(after.launches).toHaveLength(1);
  });

  it('counts a task with health checks healthy only once HEALTHY', () => {
    const w = world({ desired: 2, taskDefinition: TD_HEALTH });
    settle(w);
    expect(primary(w).rolloutState).toBe('IN_PROGRESS');
    for (const t of running(w)) t.task.healthStatus = 'HEALTHY';
    pass(w);
    expect(primary(w).rolloutState).toBe('COMPLETED');
  });
});

describe('the circuit breaker', () => {
  const breaker = { enable: true, rollback: true };

  it('counts tasks that stop before they are established, fails the deployment at the threshold and rolls back', () => {
    const w = steadyWorld({ desired: 2, limits: { circuitBreaker: breaker, minimumHealthyPercent: 50 } });
    const good = primary(w).id!;
    const bad = deploy(w, TD2);
    for (let round = 0; round < 5 && primary(w).id === bad; round++) {
      pass(w);
      for (const t of tasksOf(w, bad)) agentStep(w, t, 'fail');
      w.now += 1000;
    }
    expect(primary(w)).toMatchObject({ id: good, rolloutState: 'IN_PROGRESS', rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${good}.` });
    const failed = w.record.deployments!.find((d) => d.id === bad)!;
    expect(failed).toMatchObject({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.' });
    expect(failed.failedTasks).toBeGreaterThanOrEqual(3);
    expect(w.record.taskDefinition).toBe(TD1);
    expect(messages(w)).toContain(`(service web) (deployment ${bad}) deployment failed: tasks failed to start.`);
    expect(messages(w)).toContain(`(service web) rolling back to deployment ${good}.`);
    settle(w);
    expect(w.record.deployments!.map((d) => [d.id, d.rolloutState])).toEqual([[good, 'COMPLETED']]);
  });

  it('counts each failed task once, and a task that ran long enough not at all', () => {
    const w = steadyWorld({ desired: 1, limits: { circuitBreaker: breaker } });
    const [t] = running(w);
    w.now += FAILED_START_WINDOW_MS;
    agentStep(w, t!, 'fail');
    pass(w);
    pass(w);
    expect(primary(w).failedTasks).toBe(0);
    const [next] = live(w);
    agentStep(w, next!);
    agentStep(w, next!, 'fail');
    pass(w);
    pass(w);
    expect(primary(w).failedTasks).toBe(1);
  });

  it('without a COMPLETED deployment to return to, stalls: FAILED starts no tasks', () => {
    const w = world({ desired: 1, limits: { circuitBreaker: breaker } });
    for (let i = 0; i < 3; i++) {
      pass(w);
      for (const t of live(w)) agentStep(w, t, 'fail');
    }
    const plan = pass(w);
    expect(primary(w).rolloutState).toBe('FAILED');
    expect(plan.launches).toEqual([]);
  });

  it('backs launches off after many failures in a row, circuit breaker or not', () => {
    const w = world({ desired: 1 });
    for (let i = 0; i < THROTTLE_AFTER_FAILURES; i++) {
      pass(w);
      for (const t of live(w)) agentStep(w, t, 'fail');
    }
    const plan = pass(w);
    expect(plan.launches).toEqual([]);
    expect(plan.requeueAfterMs).toBe(10_000);
    expect(messages(w)).toContain('(service web) is unable to consistently start tasks successfully.');
    w.now += 10_000;
    expect(pass(w).launches).toHaveLength(1);
  });
});

describe('draining, lost and deleted', () => {
  it('stops pending tasks on a DRAINING instance at once and replaces running ones within the bounds', () => {
    const w = steadyWorld({ desired: 2, instances: [instance('i1'), instance('i2')] });
    w.record.desiredCount = 3;
    pass(w);
    const drained = w.instances.find((i) => i.id === 'i1')!;
    w.instances = [{ ...drained, status: 'DRAINING' }, w.instances.find((i) => i.id === 'i2')!];
    const onI1 = live(w).filter((t) => t.instanceId === 'i1');
    const plan = pass(w);
    const pendingOnI1 = onI1.filter((t) => t.task.lastStatus === 'PROVISIONING');
    expect(pendingOnI1.every((t) => plan.stops.some((s) => s.taskId === t.id))).toBe(true);
    settle(w);
    expect(live(w).every((t) => t.instanceId === 'i2')).toBe(true);
    expect(live(w)).toHaveLength(3);
  });

  it("replaces a lost instance's tasks once the agent has been gone long enough, and they stop counting", () => {
    const w = steadyWorld({ desired: 2, instances: [instance('i1'), instance('i2')] });
    w.instances = w.instances.map((i) => (i.id === 'i1' ? { ...i, agentConnected: false } : i));
    w.disconnectedAt.set('i1', w.now);
    const early = pass(w);
    expect(early.stops).toEqual([]);
    expect(early.requeueAfterMs).toBe(60_000);
    w.now += 60_000;
    const onI1 = live(w).filter((t) => t.instanceId === 'i1').map((t) => t.id);
    const plan = pass(w);
    expect(plan.stops.map((s) => s.taskId).sort()).toEqual(onI1.sort());
    expect(plan.stops[0]!.reason).toMatch(/container instance i1 was lost/);
    expect(plan.launches.every((i) => i === 'i2')).toBe(true);
    expect(plan.launches).toHaveLength(onI1.length);
  });

  it('stops the tasks of a deregistered instance for good, and they hold no place under the ceiling', () => {
    const w = steadyWorld({ desired: 2, limits: { minimumHealthyPercent: 100, maximumPercent: 100 }, instances: [instance('i1'), instance('i2')] });
    const onI1 = live(w).filter((t) => t.instanceId === 'i1');
    for (const t of onI1) t.task.desiredStatus = 'STOPPED';
    w.instances = w.instances.map((i) => (i.id === 'i1' ? { ...i, status: 'INACTIVE' as const, agentConnected: false } : i));
    const plan = pass(w);
    expect(plan.stops.map((s) => s.taskId).sort()).toEqual(onI1.map((t) => t.id).sort());
    expect(plan.stops[0]!.reason).toBe('Task stopped because its container instance i1 was deregistered');
    expect(plan.launches).toEqual(onI1.map(() => 'i2'));
  });

  it('a DRAINING service stops everything, becomes INACTIVE, and is forgotten an hour later', () => {
    const w = steadyWorld({ desired: 2 });
    w.record = { ...w.record, status: 'DRAINING', desiredCount: 0 };
    expect(pass(w).stops).toHaveLength(2);
    settle(w);
    expect(w.record.status).toBe('INACTIVE');
    expect(reconcileService(stateOf(w)).forget).toBe(false);
    w.now += INACTIVE_RETENTION_MS;
    expect(reconcileService(stateOf(w)).forget).toBe(true);
  });
});

describe('a DAEMON service', () => {
  const three = () => [instance('i1', { attributes: { role: 'w' } }), instance('i2', { attributes: { role: 'w' } }), instance('i3', { attributes: { role: 'db' } })];

  it('runs one task on each instance that meets its constraints', () => {
    const w = world({ strategy: 'DAEMON', instances: three(), service: { placementConstraints: [{ type: 'memberOf', expression: 'attribute:role == w' }] } });
    const plan = pass(w);
    expect([...plan.launches].sort()).toEqual(['i1', 'i2']);
    expect(w.record.desiredCount).toBe(2);
    expect(pass(w).launches).toEqual([]);
    settle(w);
    expect(primary(w).rolloutState).toBe('COMPLETED');
  });

  it('starts a task on a new instance and stops the one on a DRAINING instance', () => {
    const w = world({ strategy: 'DAEMON', instances: three() });
    settle(w);
    w.instances = [...w.instances.map((i) => (i.id === 'i3' ? { ...i, status: 'DRAINING' as const } : i)), instance('i4')];
    const plan = pass(w);
    expect(plan.launches).toEqual(['i4']);
    expect(plan.stops.map((s) => w.tasks.find((t) => t.id === s.taskId)!.instanceId)).toEqual(['i3']);
    expect(w.record.desiredCount).toBe(3);
  });

  it('rolls out a new task definition instance by instance: stop the old task, then start the new one', () => {
    const w = world({ strategy: 'DAEMON', instances: three() });
    settle(w);
    deploy(w, TD2);
    const first = pass(w);
    expect(first.stops).toHaveLength(3);
    expect(first.launches).toEqual([]);
    settle(w);
    expect(live(w).map((t) => t.task.taskDefinitionArn)).toEqual([TD2, TD2, TD2]);
  });
});
