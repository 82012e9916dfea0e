import { describe, expect, it } from 'vitest';
import { stopDeployment } from '../../model/service/stop-deployment.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { reconcileService } from './reconcile.js';
import type { ServicePlan } from './state.js';
import { addTask, agentStep, deploy, live, TD1, TD2, world, type World } from './testing/world.js';
import { weightsFor } from './traffic-shift.js';

/**
 * Traffic-shifting deployments, pure, with fake time (`w.now`): which group each revision's tasks go to, the
 * production and test rules' weights at each stage, the bakes, the held old tasks, the role swap, and rollback.
 */

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/blue/0123456789abcdef';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/green/fedcba9876543210';
const PROD = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/lb/1111111111111111/2222222222222222/3333333333333333';
const TEST = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/lb/1111111111111111/4444444444444444/5555555555555555';
const MIN = 60_000;
const DRAIN_MS = 5_000;

type Group = { arn: string; targetType: 'instance'; drainMs: number; targets: { id: string; port: number; state: string }[] };
interface Lab {
  w: World;
  groups: Map<string, Group>;
  /** The weights last written, per rule. */
  rules: Map<string, { targetGroupArn: string; weight: number }[]>;
  last?: ServicePlan;
  /** Groups whose targets fail their health checks (the data plane reports them unhealthy). */
  sick?: Set<string>;
}

function lab(deploymentConfiguration: Record<string, unknown>, desired = 2): Lab {
  const w = world({
    desired,
    service: {
      loadBalancers: [
        { targetGroupArn: TG_A, containerName: 'app', containerPort: 80, advancedConfiguration: { alternateTargetGroupArn: TG_B, productionListenerRule: PROD, testListenerRule: TEST } },
      ],
    },
  });
  w.record = { ...w.record, deploymentConfiguration: { ...w.record.deploymentConfiguration, ...deploymentConfiguration } };
  const group = (arn: string): Group => ({ arn, targetType: 'instance', drainMs: DRAIN_MS, targets: [] });
  return { w, groups: new Map([TG_A, TG_B].map((a) => [a, group(a)])), rules: new Map() };
}

let port = 40000;
/** One pass applied as the shell would: target changes, forward weights, stops, launches; then the agent moves tasks. */
function pass(l: Lab, failing?: string): ServicePlan {
  const { w } = l;
  const plan = reconcileService({
    record: w.record,
    tasks: w.tasks,
    instances: w.instances.map((i) => ({ ...i, tasks: w.tasks.filter((t) => t.instanceId === i.id && t.task.lastStatus !== 'STOPPED').map((t) => ({ taskId: t.id, group: 'service:web' })) })),
    disconnectedAt: w.disconnectedAt,
    taskDefinitions: w.taskDefinitions,
    now: w.now,
    settings: w.settings,
    seed: w.seed,
    targetGroups: l.groups,
  });
  for (const d of plan.deregistrations ?? []) for (const x of d.targets) for (const t of l.groups.get(d.targetGroupArn)!.targets) if (t.id === x.id && t.port === x.port) t.state = 'draining';
  for (const r of plan.registrations ?? []) for (const x of r.targets) l.groups.get(r.targetGroupArn)!.targets.push({ ...x, state: 'initial' });
  for (const f of plan.forwards ?? []) l.rules.set(f.ruleArn, f.weights.map((x) => ({ ...x })));
  for (const s of plan.stops) {
    const t = w.tasks.find((x) => x.id === s.taskId)!;
    t.task.desiredStatus = 'STOPPED';
    t.task.stoppedReason = s.reason;
    t.task.stopCode = 'ServiceSchedulerInitiated';
  }
  const deployment = plan.record.deployments?.find((d) => d.id === plan.launchDeploymentId);
  for (const i of plan.launches) addTask(w, i, deployment!);
  w.record = plan.record;
  for (const t of w.tasks) {
    if (t.task.lastStatus === 'STOPPED' || (t.task.lastStatus === 'RUNNING' && t.task.desiredStatus !== 'STOPPED')) continue;
    agentStep(w, t, failing !== undefined && t.task.startedBy === failing ? 'fail' : 'start');
    if (t.task.lastStatus === 'RUNNING' && !t.task.containers) t.task.containers = [{ name: 'app', networkBindings: [{ containerPort: 80, hostPort: port++, protocol: 'tcp' }] }];
  }
  // Targets of stopped tasks drain away; the rest become healthy (the data plane's checks pass).
  for (const g of l.groups.values()) for (const t of g.targets) if (t.state !== 'draining') t.state = l.sick?.has(g.arn) ? 'unhealthy' : t.state === 'initial' ? 'healthy' : t.state;
  l.last = plan;
  return plan;
}
const run = (l: Lab, n = 6) => {
  for (let i = 0; i < n; i++) pass(l);
};
const deploymentOf = (t: TaskRecord) => t.task.startedBy;
const inGroup = (l: Lab, arn: string) => l.groups.get(arn)!.targets.filter((t) => t.state !== 'draining').length;
const greenShare = (l: Lab) => {
  const [prod, alt] = l.rules.get(PROD)!;
  return (alt!.weight / (prod!.weight + alt!.weight)) * 100;
};
const primary = (l: Lab) => l.w.record.deployments!.find((d) => d.status === 'PRIMARY')!;

/** A service steady on TG_A, then a deployment of TD2 that has scaled up in TG_B and starts shifting. */
function toShift(config: Record<string, unknown>): { l: Lab; blue: string[]; green: string } {
  const l = lab(config);
  run(l);
  expect(primary(l).rolloutState).toBe('COMPLETED');
  expect(inGroup(l, TG_A)).toBe(2);
  expect(l.rules.get(PROD)).toEqual(weightsFor(TG_A, TG_B, 0));
  const blue = live(l.w).map((t) => t.id);
  const green = deploy(l.w, TD2);
  run(l);
  return { l, blue, green };
}

describe('traffic-shifting deployments', () => {
  it('weights are tenths of a percent, within ELBv2 0-999', () => {
    expect(weightsFor(TG_A, TG_B, 0)).toEqual([{ targetGroupArn: TG_A, weight: 1 }, { targetGroupArn: TG_B, weight: 0 }]);
    expect(weightsFor(TG_A, TG_B, 12.5)).toEqual([{ targetGroupArn: TG_A, weight: 875 }, { targetGroupArn: TG_B, weight: 125 }]);
    expect(weightsFor(TG_A, TG_B, 100)).toEqual([{ targetGroupArn: TG_A, weight: 0 }, { targetGroupArn: TG_B, weight: 1 }]);
  });

  it('CANARY: green scales up in the alternate group beside blue, takes canaryPercent for the canary bake, then 100 %, bakes, cleans up and swaps roles', () => {
    const { l, blue, green } = toShift({ strategy: 'CANARY', bakeTimeInMinutes: 3, canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 5 } });
    // Both revisions run at full size; green is in TG_B only; the test rule sends test traffic to green.
    expect(live(l.w)).toHaveLength(4);
    expect(inGroup(l, TG_A)).toBe(2);
    expect(inGroup(l, TG_B)).toBe(2);
    expect(l.w.record.berth.shift).toMatchObject({ deploymentId: green, stage: 'PRODUCTION_TRAFFIC_SHIFT', percent: 10 });
    expect(greenShare(l)).toBe(10);
    expect(l.rules.get(TEST)).toEqual(weightsFor(TG_A, TG_B, 100));
    expect(l.last!.requeueAfterMs).toBe(5 * MIN);
    // The canary bake holds, on the pass's clock.
    l.w.now += 5 * MIN - 1;
    run(l, 2);
    expect(greenShare(l)).toBe(10);
    expect(live(l.w).filter((t) => blue.includes(t.id))).toHaveLength(2);
    l.w.now += 1;
    pass(l);
    expect(greenShare(l)).toBe(100);
    expect(l.w.record.berth.shift).toMatchObject({ stage: 'BAKE_TIME' });
    expect(l.last!.requeueAfterMs).toBe(3 * MIN);
    l.w.now += 3 * MIN - 1;
    run(l, 2);
    expect(live(l.w).filter((t) => blue.includes(t.id))).toHaveLength(2);
    l.w.now += 1;
    pass(l);
    expect(l.w.record.berth.shift).toMatchObject({ stage: 'CLEAN_UP' });
    // Blue's targets drain, then its tasks stop; the deployment completes and the groups swap roles.
    expect(inGroup(l, TG_A)).toBe(0);
    l.w.now += DRAIN_MS;
    run(l);
    expect(live(l.w).map(deploymentOf)).toEqual([green, green]);
    expect(primary(l)).toMatchObject({ id: green, rolloutState: 'COMPLETED' });
    expect(l.w.record.berth.shift).toBeUndefined();
    expect(l.w.record.berth.productionTargetGroups).toEqual({ [TG_A]: TG_B });
    expect(l.rules.get(PROD)).toEqual(weightsFor(TG_B, TG_A, 0));
    expect(l.rules.get(TEST)).toEqual(weightsFor(TG_B, TG_A, 0));
    // The next deployment starts in TG_A, the group the old revision left.
    const next = deploy(l.w, TD1);
    run(l);
    expect(l.groups.get(TG_A)!.targets.filter((t) => t.state === 'healthy')).toHaveLength(2);
    expect(l.w.record.berth.shift).toMatchObject({ deploymentId: next, percent: 10 });
    expect(l.rules.get(PROD)).toEqual(weightsFor(TG_B, TG_A, 10));
  });

  it('LINEAR: stepPercent every stepBakeTimeInMinutes up to 100 %, with no step bake after 100', () => {
    const { l } = toShift({ strategy: 'LINEAR', bakeTimeInMinutes: 0, linearConfiguration: { stepPercent: 30, stepBakeTimeInMinutes: 2 } });
    const seen = [greenShare(l)];
    for (let i = 0; i < 4; i++) {
      l.w.now += 2 * MIN;
      pass(l);
      seen.push(greenShare(l));
    }
    expect(seen).toEqual([30, 60, 90, 100, 100]);
    l.w.now += DRAIN_MS;
    run(l);
    expect(primary(l).rolloutState).toBe('COMPLETED');
  });

  it('BLUE_GREEN: all production traffic at once when green is healthy, old tasks held for bakeTimeInMinutes', () => {
    const l = lab({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 });
    run(l);
    const blue = live(l.w).map((t) => t.id);
    deploy(l.w, TD2);
    pass(l);
    // Green not yet healthy: production stays on blue, test traffic too.
    expect(l.w.record.berth.shift).toMatchObject({ stage: 'SCALE_UP', percent: 0 });
    expect(greenShare(l)).toBe(0);
    run(l);
    expect(greenShare(l)).toBe(100);
    expect(l.w.record.berth.shift).toMatchObject({ stage: 'BAKE_TIME' });
    expect(live(l.w).filter((t) => blue.includes(t.id))).toHaveLength(2);
    expect(inGroup(l, TG_A)).toBe(2);
    l.w.now += MIN;
    run(l);
    l.w.now += DRAIN_MS;
    run(l);
    expect(live(l.w).filter((t) => blue.includes(t.id))).toHaveLength(0);
    expect(primary(l).rolloutState).toBe('COMPLETED');
  });

  it('a rollback (StopServiceDeployment ROLLBACK) mid-canary puts all traffic back on blue at once and drains green', () => {
    const { l, blue, green } = toShift({ strategy: 'CANARY', bakeTimeInMinutes: 0, canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 10 } });
    expect(greenShare(l)).toBe(20);
    const target = l.w.record.berth.lastCompleted!;
    const outcome = stopDeployment(l.w.record.deployments!, green, 'ROLLBACK', target, 2, l.w.now);
    l.w.record = { ...l.w.record, taskDefinition: outcome.taskDefinition, deployments: outcome.deployments, berth: { ...l.w.record.berth, lastCompleted: undefined } };
    pass(l);
    expect(greenShare(l)).toBe(0);
    expect(l.rules.get(TEST)).toEqual(weightsFor(TG_A, TG_B, 0));
    expect(inGroup(l, TG_B)).toBe(0);
    l.w.now += DRAIN_MS;
    run(l);
    expect(live(l.w).map((t) => t.id).sort()).toEqual(blue.sort());
    expect(primary(l)).toMatchObject({ id: target.id, rolloutState: 'COMPLETED' });
    // Roles unchanged: blue's group is still production.
    expect(l.w.record.berth.productionTargetGroups).toBeUndefined();
  });

  it('the circuit breaker failing the new revision mid-scale-up rolls back: traffic stays on blue, nothing of blue was stopped', () => {
    const l = lab({ strategy: 'CANARY', bakeTimeInMinutes: 0, canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 10 } });
    l.w.record = { ...l.w.record, deploymentConfiguration: { ...l.w.record.deploymentConfiguration, deploymentCircuitBreaker: { enable: true, rollback: true } } };
    run(l);
    const blue = live(l.w).map((t) => t.id);
    const blueDeployment = primary(l).id;
    const green = deploy(l.w, TD2);
    for (let i = 0; i < 8; i++) pass(l, green);
    // Three green tasks failed (the threshold for 2), the breaker rolled back to blue, and green drained away.
    expect(l.w.tasks.filter((t) => t.task.startedBy === green && t.task.stopCode === 'TaskFailedToStart').length).toBeGreaterThanOrEqual(3);
    expect(l.w.record.deployments!.map((d) => d.id)).toEqual([blueDeployment]);
    expect(primary(l)).toMatchObject({ id: blueDeployment, rolloutState: 'COMPLETED' });
    expect(greenShare(l)).toBe(0);
    expect(l.rules.get(TEST)).toEqual(weightsFor(TG_A, TG_B, 0));
    expect(live(l.w).map((t) => t.id).sort()).toEqual(blue.sort());
    expect(l.w.record.berth.shift).toBeUndefined();
  });

  it('new tasks failing ELB health checks mid-canary: the circuit breaker rolls back and production is all blue in that same pass', () => {
    const { l, blue } = toShift({ strategy: 'CANARY', bakeTimeInMinutes: 0, canaryConfiguration: { canaryPercent: 20, canaryBakeTimeInMinutes: 10 } });
    l.w.record = { ...l.w.record, deploymentConfiguration: { ...l.w.record.deploymentConfiguration, deploymentCircuitBreaker: { enable: true, rollback: true } } };
    expect(greenShare(l)).toBe(20);
    l.sick = new Set([TG_B]);
    const shares: number[] = [];
    for (let i = 0; i < 12 && primary(l).taskDefinition === TD2; i++) {
      pass(l);
      l.w.now += DRAIN_MS;
      shares.push(greenShare(l));
    }
    // While green's tasks were being replaced the canary held at 20 %; the pass that rolled back set 0 %.
    expect(primary(l).taskDefinition).toBe(TD1);
    expect(shares.at(-1)).toBe(0);
    expect(shares.slice(0, -1).every((x) => x === 20)).toBe(true);
    expect(l.rules.get(TEST)).toEqual(weightsFor(TG_A, TG_B, 0));
    run(l);
    expect(live(l.w).map((t) => t.id).sort()).toEqual(blue.sort());
    expect(primary(l).rolloutState).toBe('COMPLETED');
  });
});
