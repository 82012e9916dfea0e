import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../state/records/tasks.js';
import { FAILED_START_WINDOW_MS } from './deployments.js';
import { reconcileService } from './reconcile.js';
import type { ServicePlan } from './state.js';
import { elbVerdict, taskTarget, type GroupView } from './target-of.js';
import { addTask, agentStep, deploy, live, messages, stateOf, TD2, world, type World } from './testing/world.js';
import { withEvents } from '../../model/service/events.js';

/**
 * The pure side of services behind load balancers, with fake time: which targets to register and deregister, when
 * a planned stop waits for the drain, how target health gates the healthy count and replaces unhealthy tasks.
 */

const TG = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/0123456789abcdef';
const DRAIN_MS = 30_000;
const lbWorld = (options: Parameters<typeof world>[0] = {}) =>
  world({ desired: 2, ...options, service: { loadBalancers: [{ targetGroupArn: TG, containerName: 'app', containerPort: 80 }], ...options.service } });

/** The group as the store holds it, changed by the plans as the shell's store functions would. */
interface Lb {
  group: { arn: string; targetType: GroupView['targetType']; drainMs: number; targets: { id: string; port: number; state: string }[] };
}
const newLb = (targetType: 'instance' | 'ip' = 'instance', arn = TG): Lb => ({ group: { arn, targetType, drainMs: DRAIN_MS, targets: [] } });

let nextPort = 32768;
/** The agent starts a task: RUNNING with a dynamic host port for container port 80 (bridge). */
function start(w: World, t: TaskRecord): void {
  agentStep(w, t);
  if (t.task.lastStatus === 'RUNNING' && !t.task.containers) t.task.containers = [{ name: 'app', networkBindings: [{ containerPort: 80, hostPort: nextPort++, protocol: 'tcp' }] }];
}

function pass(w: World, lb: Lb, ...more: Lb[]): ServicePlan {
  const all = [lb, ...more];
  const plan = reconcileService({ ...stateOf(w), targetGroups: new Map(all.map((l) => [l.group.arn, l.group])) });
  const groupOf = (arn: string) => all.find((l) => l.group.arn === arn)!.group;
  for (const d of plan.deregistrations ?? []) {
    for (const x of d.targets) {
      const t = groupOf(d.targetGroupArn).targets.find((y) => y.id === x.id && y.port === x.port);
      if (t) t.state = 'draining';
    }
  }
  for (const r of plan.registrations ?? []) for (const x of r.targets) groupOf(r.targetGroupArn).targets.push({ ...x, state: 'initial' });
  // As stopTaskInTx (`drained`) and deactivateTaskInTx do.
  for (const stop of plan.stops) {
    const t = w.tasks.find((x) => x.id === stop.taskId)!;
    if (t.task.lastStatus === 'DEACTIVATING') t.task.lastStatus = 'STOPPING';
    if (t.task.desiredStatus === 'STOPPED') continue;
    t.task.desiredStatus = 'STOPPED';
    t.task.stoppedReason = stop.reason;
    t.task.stopCode = 'ServiceSchedulerInitiated';
  }
  for (const d of plan.deactivations ?? []) {
    const t = w.tasks.find((x) => x.id === d.taskId)!;
    Object.assign(t.task, { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', stoppedReason: d.reason, stopCode: 'ServiceSchedulerInitiated' });
  }
  const deployment = plan.record.deployments?.find((d) => d.id === plan.launchDeploymentId);
  for (const i of plan.launches) addTask(w, i, deployment!);
  w.record = { ...plan.record, events: withEvents(plan.record.events ?? [], plan.events, w.now, () => `e${w.nextId++}`) };
  return plan;
}

/** Pass and let the agent move every task, `rounds` times. */
function run(w: World, lb: Lb, rounds = 4, ...more: Lb[]): void {
  for (let i = 0; i < rounds; i++) {
    pass(w, lb, ...more);
    for (const t of w.tasks) if (t.task.lastStatus !== 'STOPPED' && (t.task.lastStatus !== 'RUNNING' || t.task.desiredStatus === 'STOPPED')) start(w, t);
  }
}

const setHealth = (lb: Lb, state: string, pick: (t: { id: string; port: number }) => boolean = () => true) => {
  for (const t of lb.group.targets) if (t.state !== 'draining' && pick(t)) t.state = state;
};
const primary = (w: World) => w.record.deployments!.find((d) => d.status === 'PRIMARY')!;
const portOf = (t: TaskRecord) => t.task.containers![0]!.networkBindings![0]!.hostPort!;

describe('taskTarget', () => {
  const task = (containers: TaskRecord['task']['containers']) => ({ task: { containers } }) as TaskRecord;
  const entry = { containerName: 'app', containerPort: 80 };
  it('is the instance id and the host port bound to the container port for instance groups', () => {
    const t = task([{ name: 'app', networkBindings: [{ containerPort: 443, hostPort: 40000 }, { containerPort: 80, hostPort: 32777, protocol: 'tcp' }] }]);
    expect(taskTarget(entry, { targetType: 'instance' }, t, 'i-0abc')).toEqual({ id: 'i-0abc', port: 32777 });
    expect(taskTarget(entry, { targetType: 'instance' }, task([{ name: 'app' }]), 'i-0abc')).toBeUndefined();
    expect(taskTarget({ containerName: 'other', containerPort: 80 }, { targetType: 'instance' }, t, 'i-0abc')).toBeUndefined();
  });
  it('is the task address and the container port for ip groups', () => {
    const t = task([{ name: 'app', networkInterfaces: [{ attachmentId: 'a', privateIpv4Address: '10.1.0.7' }] }]);
    expect(taskTarget(entry, { targetType: 'ip' }, t, undefined)).toEqual({ id: '10.1.0.7', port: 80 });
  });
});

describe('a service behind a target group', () => {
  it('registers tasks once RUNNING and completes only when their targets are healthy', () => {
    const w = lbWorld();
    const lb = newLb();
    run(w, lb);
    expect(live(w)).toHaveLength(2);
    expect(lb.group.targets.map((t) => t.id)).toEqual(['i-i1', 'i-i2']);
    expect(lb.group.targets.map((t) => t.port).sort()).toEqual(live(w).map(portOf).sort());
    // Registered, not healthy: RUNNING but not counted healthy, the deployment goes on.
    expect(elbVerdict({ ...stateOf(w), targetGroups: new Map([[TG, lb.group]]) }, live(w)[0]!)).toEqual({ state: 'waiting' });
    expect(primary(w).rolloutState).toBe('IN_PROGRESS');
    expect(pass(w, lb).registrations).toEqual([]);
    setHealth(lb, 'healthy');
    run(w, lb, 1);
    expect(primary(w).rolloutState).toBe('COMPLETED');
  });

  it('keeps old tasks in a rolling deployment until the new targets are healthy, then drains them before they stop', () => {
    const w = lbWorld({ limits: { minimumHealthyPercent: 100, maximumPercent: 200 } });
    const lb = newLb();
    run(w, lb);
    setHealth(lb, 'healthy');
    run(w, lb, 1);
    const old = live(w).map((t) => t.id);
    deploy(w, TD2);
    run(w, lb, 6);
    // New tasks RUNNING and registered but initial: every old task still wanted.
    expect(live(w)).toHaveLength(4);
    expect(lb.group.targets.filter((t) => t.state === 'initial')).toHaveLength(2);
    setHealth(lb, 'healthy');
    const plan = pass(w, lb);
    // Deregistered first (draining), the stops held back for the deregistration delay.
    expect(plan.stops).toEqual([]);
    expect(plan.deregistrations![0]!.targets).toHaveLength(2);
    expect(Object.keys(w.record.berth.deregistering!).sort()).toEqual(old.sort());
    expect(plan.requeueAfterMs).toBe(DRAIN_MS);
    expect(messages(w).filter((m) => m.includes('has stopped'))).toEqual([]);
    // What ECS shows while the targets drain: DEACTIVATING, desired STOPPED (the agent keeps it running).
    expect(plan.deactivations!.map((d) => d.taskId).sort()).toEqual(old.sort());
    const draining = w.tasks.filter((t) => old.includes(t.id));
    expect(draining.map((t) => [t.task.lastStatus, t.task.desiredStatus])).toEqual([
      ['DEACTIVATING', 'STOPPED'],
      ['DEACTIVATING', 'STOPPED'],
    ]);
    expect(pass(w, lb).deactivations).toEqual([]);
    w.now += DRAIN_MS - 1;
    expect(pass(w, lb).stops).toEqual([]);
    w.now += 1;
    const after = pass(w, lb);
    expect(after.stops.map((s) => s.taskId).sort()).toEqual(old.sort());
    expect(after.stops[0]!.reason).toMatch(/^Scaling activity initiated by \(deployment /);
    expect(messages(w)[0]).toMatch(/^\(service web\) has stopped 2 running tasks: /);
    expect(draining.map((t) => t.task.lastStatus)).toEqual(['STOPPING', 'STOPPING']);
    run(w, lb, 2);
    expect(w.record.berth.deregistering).toBeUndefined();
    expect(primary(w).rolloutState).toBe('COMPLETED');
  });

  it('holds an unhealthy verdict back for the grace period, then replaces the task with ECS reason and event, counted as a failure', () => {
    const w = lbWorld({ service: { healthCheckGracePeriodSeconds: 60 } });
    const lb = newLb();
    run(w, lb);
    const [victim] = live(w);
    setHealth(lb, 'healthy');
    setHealth(lb, 'unhealthy', (t) => t.port === portOf(victim!));
    const inGrace = pass(w, lb);
    expect(inGrace.stops).toEqual([]);
    expect(inGrace.deregistrations).toEqual([]);
    expect(inGrace.requeueAfterMs).toBe(60_000);
    w.now += 60_000 + FAILED_START_WINDOW_MS;
    pass(w, lb);
    expect(w.record.berth.deregistering?.[victim!.id]).toEqual({ reason: `Task failed ELB health checks in (target-group ${TG})`, stopAt: w.now + DRAIN_MS });
    expect(messages(w)).toContain(`(service web) (task ${victim!.id}) failed ELB health checks in (target-group ${TG}).`);
    w.now += DRAIN_MS;
    run(w, lb, 3);
    expect(victim!.task).toMatchObject({ lastStatus: 'STOPPED', stoppedReason: `Task failed ELB health checks in (target-group ${TG})` });
    expect(primary(w).failedTasks).toBe(1);
    expect(live(w)).toHaveLength(2);
  });

  it('stops at once, deregistering all the same, when the group is not used (nothing to drain) or the task stopped on its own', () => {
    const w = lbWorld();
    const lb = newLb();
    lb.group.drainMs = 0;
    run(w, lb);
    setHealth(lb, 'healthy');
    w.record = { ...w.record, desiredCount: 1 };
    const plan = pass(w, lb);
    expect(plan.stops).toHaveLength(1);
    expect(plan.deregistrations![0]!.targets).toHaveLength(1);
    run(w, lb, 2);
    const [survivor] = live(w);
    survivor!.task.lastStatus = 'STOPPED';
    survivor!.task.desiredStatus = 'STOPPED';
    const crashed = pass(w, lb);
    expect(crashed.deregistrations).toEqual([{ targetGroupArn: TG, targets: [{ id: survivor!.instanceId === 'i1' ? 'i-i1' : 'i-i2', port: portOf(survivor!) }] }]);
  });

  it('a stopped task whose host port a new task got on the same instance does not take the new target out', () => {
    const w = lbWorld({ desired: 1 });
    const lb = newLb();
    run(w, lb);
    setHealth(lb, 'healthy');
    const [old] = live(w);
    old!.task.lastStatus = 'STOPPED';
    old!.task.desiredStatus = 'STOPPED';
    pass(w, lb); // deregisters the old target, launches a replacement
    const replacement = w.tasks.find((t) => t.id !== old!.id)!;
    start(w, replacement);
    // The agent gave the replacement the port the stopped task had, on the same instance.
    Object.assign(replacement, { instanceId: old!.instanceId });
    replacement.task.containers = [{ name: 'app', networkBindings: [{ containerPort: 80, hostPort: portOf(old!), protocol: 'tcp' }] }];
    const registered = pass(w, lb);
    expect(registered.registrations).toEqual([{ targetGroupArn: TG, targets: [{ id: `i-${old!.instanceId}`, port: portOf(old!) }] }]);
    for (let i = 0; i < 3; i++) {
      const next = pass(w, lb);
      expect(next.deregistrations ?? []).toEqual([]);
      expect(next.registrations ?? []).toEqual([]);
    }
  });

  it('keeps the tasks of a deployment in the target groups they were started for when UpdateService changes them', () => {
    const TG2 = TG.replace('/web/', '/web2/');
    const w = lbWorld({ limits: { minimumHealthyPercent: 100, maximumPercent: 200 } });
    const lb = newLb();
    const lb2 = newLb('instance', TG2);
    run(w, lb, 4, lb2);
    setHealth(lb, 'healthy');
    const oldId = primary(w).id!;
    // What UpdateService writes when loadBalancers change: a new deployment, the old one's entries kept.
    w.record = {
      ...w.record,
      loadBalancers: [{ targetGroupArn: TG2, containerName: 'app', containerPort: 80 }],
      berth: { ...w.record.berth, deploymentLoadBalancers: { [oldId]: w.record.loadBalancers! } },
    };
    deploy(w, TD2);
    run(w, lb, 6, lb2);
    expect(lb.group.targets.filter((t) => t.state !== 'draining')).toHaveLength(2);
    expect(lb2.group.targets).toHaveLength(2);
    setHealth(lb2, 'healthy');
    pass(w, lb, lb2);
    // The old tasks leave the old group (draining), the new ones are only in the new one.
    expect(lb.group.targets.map((t) => t.state)).toEqual(['draining', 'draining']);
    w.now += DRAIN_MS;
    run(w, lb, 4, lb2);
    expect(live(w).every((t) => t.task.taskDefinitionArn === TD2)).toBe(true);
    expect(w.record.berth.deploymentLoadBalancers).toBeUndefined();
    expect(primary(w).rolloutState).toBe('COMPLETED');
  });

  it('StopTask of a registered task: deregistered and held DEACTIVATING until drained, replaced meanwhile, no "has stopped" event', () => {
    const w = lbWorld();
    const lb = newLb();
    run(w, lb);
    setHealth(lb, 'healthy');
    run(w, lb, 1);
    const [victim] = live(w);
    // What StopTask writes for a service task behind a load balancer.
    Object.assign(victim!.task, { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', stoppedReason: 'Task stopped by user', stopCode: 'UserInitiated' });
    const plan = pass(w, lb);
    expect(plan.deregistrations).toEqual([{ targetGroupArn: TG, targets: [{ id: victim!.instanceId === 'i1' ? 'i-i1' : 'i-i2', port: portOf(victim!) }] }]);
    expect(plan.stops).toEqual([]);
    expect(w.record.berth.deregistering?.[victim!.id]).toEqual({ reason: 'Task stopped by user', stopAt: w.now + DRAIN_MS });
    // Its replacement starts at once (it no longer counts).
    expect(plan.launches).toHaveLength(1);
    run(w, lb, 2);
    expect(victim!.task.lastStatus).toBe('DEACTIVATING');
    w.now += DRAIN_MS;
    const after = pass(w, lb);
    expect(after.stops.map((s) => s.taskId)).toEqual([victim!.id]);
    expect(victim!.task).toMatchObject({ lastStatus: 'STOPPING', stopCode: 'UserInitiated', stoppedReason: 'Task stopped by user' });
    expect(messages(w).filter((m) => m.includes('has stopped'))).toEqual([]);
    run(w, lb, 2);
    expect(victim!.task.lastStatus).toBe('STOPPED');
  });

  it('releases a DEACTIVATING task at once when its service has no target group left (nothing to drain)', () => {
    const w = lbWorld();
    const lb = newLb();
    run(w, lb);
    setHealth(lb, 'healthy');
    run(w, lb, 1);
    const [victim] = live(w);
    Object.assign(victim!.task, { lastStatus: 'DEACTIVATING', desiredStatus: 'STOPPED', stoppedReason: 'Task stopped by user', stopCode: 'UserInitiated' });
    w.record = { ...w.record, loadBalancers: [] };
    const plan = pass(w, lb);
    expect(plan.stops.map((s) => s.taskId)).toEqual([victim!.id]);
    expect(victim!.task.lastStatus).toBe('STOPPING');
  });
});
