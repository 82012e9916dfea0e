import { describe, expect, it } from 'vitest';
import { reconcileService } from './reconcile.js';
import { addTask, stateOf, world } from './testing/world.js';

/** A REPLICA service with a capacity provider strategy, through the pure reconcile (the commit: state/task-launch.ts). */
describe('a service with a capacity provider strategy', () => {
  const strategy = [
    { capacityProvider: 'a', base: 1, weight: 1 },
    { capacityProvider: 'b', weight: 1 },
  ];
  // Provider a's group has instance i1 (EC2 id i-i1); b's group has no host yet; i2 belongs to neither.
  const providerHosts = new Map([
    ['a', new Set(['i-i1'])],
    ['b', new Set<string>()],
  ]);

  it('splits base then weight, places each share on its group only, and lets what finds no host wait (no unplaced event)', () => {
    const w = world({ desired: 4, service: { capacityProviderStrategy: strategy } });
    const plan = reconcileService({ ...stateOf(w), providerHosts });
    expect(plan.launches).toEqual([]);
    expect(plan.providerLaunches).toEqual([
      { provider: 'a', instanceIds: ['i1', 'i1', 'i1'], waiting: 0 },
      { provider: 'b', instanceIds: [], waiting: 1 },
    ]);
    expect(plan.events.map((e) => e.message).join('\n')).not.toMatch(/unable to place/);
  });

  it('counts a waiting task (no instance) as the service’s: neither stopped as orphaned nor launched again; grows by the shares', () => {
    const w = world({ desired: 4, service: { capacityProviderStrategy: strategy } });
    const deployment = w.record.deployments![0]!;
    for (let i = 0; i < 3; i++) addTask(w, 'i1', deployment, 'RUNNING').task.capacityProviderName = 'a';
    const waiting = addTask(w, 'i1', deployment);
    delete (waiting as { instanceId?: string }).instanceId;
    Object.assign(waiting, { waiting: { capacityProvider: 'b', since: w.now, constraints: [], strategies: [], requiredAttributes: [] } });
    waiting.task.capacityProviderName = 'b';
    const plan = reconcileService({ ...stateOf(w), providerHosts });
    expect(plan.stops).toEqual([]);
    expect(plan.launches).toEqual([]);
    expect(plan.providerLaunches).toBeUndefined();
    expect(plan.record.pendingCount).toBe(1);

    // Scaled in to 3: the task still waiting goes first (it holds nothing).
    const shrunk = reconcileService({ ...stateOf({ ...w, record: { ...plan.record, desiredCount: 3, deployments: plan.record.deployments!.map((d) => ({ ...d, desiredCount: 3 })) } }), providerHosts });
    expect(shrunk.stops.map((s) => s.taskId)).toEqual([waiting.id]);

    // Scaled to 6: the two new tasks fill the shares given what each provider has (a 3, b 1 → b, then a).
    const grown = reconcileService({ ...stateOf({ ...w, record: { ...plan.record, desiredCount: 6, deployments: plan.record.deployments!.map((d) => ({ ...d, desiredCount: 6 })) } }), providerHosts });
    expect(grown.providerLaunches).toEqual([
      { provider: 'a', instanceIds: ['i1'], waiting: 0 },
      { provider: 'b', instanceIds: [], waiting: 1 },
    ]);
  });
});
