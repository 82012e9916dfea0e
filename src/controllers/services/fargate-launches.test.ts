import { describe, expect, it } from 'vitest';
import { instance } from '../../scheduler/testing/instances.js';
import { launchKindOf } from './launch-plan.js';
import { reconcileService } from './reconcile.js';
import { addTask, stateOf, world } from './testing/world.js';

/** A Fargate service through the pure reconcile: its tasks go to the cluster's Fargate pool, split by provider. */
describe('a Fargate service', () => {
  const pool = [instance('p1', { attributes: { 'ecs.availability-zone': 'a', 'berth.fargate-pool': undefined } })];
  const mixed = [
    { capacityProvider: 'FARGATE', base: 1, weight: 1 },
    { capacityProvider: 'FARGATE_SPOT', weight: 3 },
  ];

  it('knows a launch by its launch type or strategy', () => {
    expect(launchKindOf({ launchType: 'FARGATE' })).toEqual({ kind: 'fargate', strategy: [{ capacityProvider: 'FARGATE', base: 0, weight: 1 }] });
    expect(launchKindOf({ capacityProviderStrategy: mixed }).kind).toBe('fargate');
    expect(launchKindOf({ capacityProviderStrategy: [{ capacityProvider: 'asg-cp', weight: 1 }] }).kind).toBe('providers');
    expect(launchKindOf({ launchType: 'EC2' })).toEqual({ kind: 'ec2' });
  });

  it('places the FARGATE launch type on the pool only, never on container instances', () => {
    const w = world({ desired: 2, service: { launchType: 'FARGATE' } });
    const plan = reconcileService({ ...stateOf(w), fargatePool: pool });
    expect(plan.launches).toEqual([]);
    expect(plan.providerLaunches).toEqual([{ provider: 'FARGATE', instanceIds: ['p1', 'p1'], waiting: 0 }]);
  });

  it('splits FARGATE base 1 + FARGATE_SPOT weight 3 as ECS documents: of 5, 2 and 3; then counts what each has', () => {
    const w = world({ desired: 5, service: { capacityProviderStrategy: mixed } });
    const plan = reconcileService({ ...stateOf(w), fargatePool: pool });
    expect(plan.providerLaunches).toEqual([
      { provider: 'FARGATE', instanceIds: ['p1', 'p1'], waiting: 0 },
      { provider: 'FARGATE_SPOT', instanceIds: ['p1', 'p1', 'p1'], waiting: 0 },
    ]);
    // Two FARGATE tasks running, scaled to 6: the base is met, so the 4 new ones go by weight — all to FARGATE_SPOT
    // (FARGATE's one task beyond the base against SPOT's 0, 1, 2, 3 at weight 3).
    const deployment = w.record.deployments![0]!;
    for (let i = 0; i < 2; i++) addTask(w, 'p1', deployment, 'RUNNING').task.capacityProviderName = 'FARGATE';
    const grown = reconcileService({ ...stateOf({ ...w, record: { ...w.record, desiredCount: 6 } }), fargatePool: pool });
    expect(grown.providerLaunches).toEqual([{ provider: 'FARGATE_SPOT', instanceIds: ['p1', 'p1', 'p1', 'p1'], waiting: 0 }]);
    // Its tasks on the pool host are neither orphaned nor stopped.
    expect(grown.stops).toEqual([]);
  });

  it('says it cannot place a task when the pool has no host, and looks again', () => {
    const w = world({ desired: 1, service: { launchType: 'FARGATE' } });
    const plan = reconcileService({ ...stateOf(w), fargatePool: [] });
    expect(plan.providerLaunches).toBeUndefined();
    expect(plan.events.map((e) => e.message)).toContain(
      "(service web) was unable to place a task because the cluster's Fargate pool has no hosts (join one with `berth agent --fargate`). For more information, see the Troubleshooting section of the Amazon ECS Developer Guide.",
    );
    expect(plan.requeueAfterMs).toBeLessThanOrEqual(5_000);
  });

  it('rolls a deployment with its own launch: a FARGATE deployment of an EC2 service launches on the pool', () => {
    const w = world({ desired: 1 });
    const old = w.record.deployments![0]!;
    addTask(w, 'i1', old, 'RUNNING');
    const next = { ...old, id: 'ecs-svc/2000000000000000002', launchType: 'FARGATE' as const, platformVersion: '1.4.0' };
    w.record = { ...w.record, deployments: [next, { ...old, status: 'ACTIVE' }] };
    const plan = reconcileService({ ...stateOf(w), fargatePool: pool });
    expect(plan.launchDeploymentId).toBe(next.id);
    expect(plan.providerLaunches).toEqual([{ provider: 'FARGATE', instanceIds: ['p1'], waiting: 0 }]);
  });
});
