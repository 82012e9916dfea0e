import { describe, expect, it } from 'vitest';
import type { TaskNeeds } from '../model/task.js';
import { place, type PlacementResult } from './place.js';
import { DEFAULT_SERVICE_PLACEMENT_STRATEGY, type PlacementRequest, type PlacementStrategy } from './request.js';
import { instance, tasksOf } from './testing/instances.js';

const needs = (over: Partial<TaskNeeds> = {}): TaskNeeds => ({ cpu: 256, memory: 256, ports: [], portsUdp: [], ...over });
const request = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({ count: 1, needs: needs(), group: 'service:web', ...over });
const tally = (r: PlacementResult) => {
  const m: Record<string, number> = {};
  for (const id of r.placements) m[id] = (m[id] ?? 0) + 1;
  return m;
};
const az = (zone: string, extra: Record<string, string> = {}) => ({ 'ecs.availability-zone': zone, ...extra });

describe('place: strategies', () => {
  it.each<[string, number, string[], PlacementStrategy[]]>([
    // binpack: the instance with the least of the resource left that still fits, until it no longer fits.
    ['binpack(memory)', 4, ['mid', 'mid', 'mid', 'big'], [{ type: 'binpack', field: 'memory' }]],
    ['binpack(MEMORY)', 1, ['mid'], [{ type: 'binpack', field: 'MEMORY' }]],
    ['binpack(cpu)', 3, ['big', 'big', 'mid'], [{ type: 'binpack', field: 'cpu' }]],
  ])('%s places %i tasks on %j', (_name, count, expected, strategies) => {
    const instances = [
      instance('tiny', { remaining: { cpu: 4096, memory: 200 } }),
      instance('mid', { remaining: { cpu: 1024, memory: 768 } }),
      instance('big', { remaining: { cpu: 512, memory: 4096 } }),
    ];
    expect(place(instances, request({ count, strategies }), 1).placements).toEqual(expected);
  });

  it.each<[string, PlacementStrategy[]]>([
    ['spread(instanceId)', [{ type: 'spread', field: 'instanceId' }]],
    ['spread(host)', [{ type: 'spread', field: 'host' }]],
  ])('%s balances the group across instances, counting tasks already running', (_name, strategies) => {
    const instances = [
      instance('a', { tasks: [...tasksOf('service:web', 2), ...tasksOf('service:other', 5)] }),
      instance('b'),
      instance('c', { tasks: tasksOf('service:other', 3) }),
    ];
    const r = place(instances, request({ count: 4, strategies }), 7);
    // Tasks of other groups do not count: b and c catch up with a, then nothing is left over.
    expect(tally(r)).toEqual({ b: 2, c: 2 });
    const more = place(instances, request({ count: 7, strategies }), 7);
    expect(tally(more)).toEqual({ a: 1, b: 3, c: 3 });
  });

  it('spread(attribute:ecs.availability-zone) balances zones, not instances, counting running tasks of the group', () => {
    const instances = [
      instance('a1', { attributes: az('us-east-1a'), tasks: tasksOf('service:web', 3) }),
      instance('a2', { attributes: az('us-east-1a') }),
      instance('b1', { attributes: az('us-east-1b'), tasks: tasksOf('family:web', 4) }),
      instance('c1', { attributes: az('us-east-1c') }),
      instance('c2', { attributes: az('us-east-1c') }),
    ];
    const r = place(instances, request({ count: 6, strategies: [...DEFAULT_SERVICE_PLACEMENT_STRATEGY] }), 3);
    const perZone = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const id of r.placements) perZone[id[0]!]! += 1;
    // 3 already run in us-east-1a; family:web tasks are another group. 3+1, 0+4… → 3 + 6 = 9 → 3 per zone.
    expect(perZone).toEqual({ a: 0, b: 3, c: 3 });
    // Every prefix of the placements keeps the zones within one task of each other (b and c alternate).
    const seen = { b: 0, c: 0 } as Record<string, number>;
    for (const id of r.placements) {
      seen[id[0]!]! += 1;
      expect(Math.abs(seen.b! - seen.c!)).toBeLessThanOrEqual(1);
    }
  });

  it('instances without the spread attribute form a value of their own', () => {
    const instances = [instance('x', { attributes: az('us-east-1a') }), instance('y'), instance('z')];
    const r = place(instances, request({ count: 4, strategies: [...DEFAULT_SERVICE_PLACEMENT_STRATEGY] }), 1);
    expect(tally(r).x).toBe(2);
  });

  it('spread(az) then binpack(memory): zones balance, and inside a zone the fullest instance that fits wins', () => {
    const instances = [
      instance('a-roomy', { attributes: az('a'), remaining: { memory: 4096 } }),
      instance('a-snug', { attributes: az('a'), remaining: { memory: 512 } }),
      instance('b-roomy', { attributes: az('b'), remaining: { memory: 8192 } }),
      instance('b-snug', { attributes: az('b'), remaining: { memory: 1024 } }),
    ];
    const strategies: PlacementStrategy[] = [...DEFAULT_SERVICE_PLACEMENT_STRATEGY, { type: 'binpack', field: 'memory' }];
    const r = place(instances, request({ count: 6, strategies }), 5);
    // Zones tie at 0: binpack across both picks a-snug (512); then zone b is behind: b-snug (1024); tie again:
    // a-snug (256 left) before b-snug (768); b: b-snug; tie: a-snug is full, so a-roomy (4096) against b-snug
    // (512): b-snug; zone a is behind: a-roomy.
    expect(r.placements).toEqual(['a-snug', 'b-snug', 'a-snug', 'b-snug', 'b-snug', 'a-roomy']);
  });

  it('binpack(memory) then spread(az): equal memory goes to the emptier zone (the scan serves this chain)', () => {
    const instances = [
      instance('a1', { attributes: az('a'), remaining: { memory: 1024 } }),
      instance('a2', { attributes: az('a'), remaining: { memory: 1024 } }),
      instance('b1', { attributes: az('b'), remaining: { memory: 1024 } }),
    ];
    const strategies: PlacementStrategy[] = [{ type: 'binpack', field: 'memory' }, ...DEFAULT_SERVICE_PLACEMENT_STRATEGY];
    const r = place(instances, request({ count: 3, strategies }), 9);
    expect(r.placements[0]).toMatch(/^a/); // all tie on memory and zones (0, 0); random key decides
    // After one task, its instance has less memory and binpack keeps packing it.
    expect(r.placements[1]).toBe(r.placements[0]);
    expect(() => place(instances, request({ strategies }), 9, { selection: 'indexed' })).toThrow(/indexed/);
  });

  it('random (and no strategy at all) uses every instance that fits, reproducibly for a seed', () => {
    const instances = ['a', 'b', 'c', 'd'].map((id) => instance(id, { remaining: { cpu: 1e6, memory: 1e6 } }));
    for (const strategies of [[{ type: 'random' } as const], []]) {
      const r = place(instances, request({ count: 400, strategies }), 42);
      const counts = Object.values(tally(r));
      expect(counts).toHaveLength(4);
      // Uniform: 100 each give or take a few standard deviations (about 9).
      for (const c of counts) {
        expect(c).toBeGreaterThan(70);
        expect(c).toBeLessThan(130);
      }
      expect(place(instances, request({ count: 400, strategies }), 42).placements).toEqual(r.placements);
      expect(place(instances, request({ count: 400, strategies }), 43).placements).not.toEqual(r.placements);
    }
  });

  it('strategies after random do not matter', () => {
    const instances = ['a', 'b', 'c'].map((id, k) => instance(id, { remaining: { memory: 1000 * (k + 1) } }));
    const random = place(instances, request({ count: 5, strategies: [{ type: 'random' }] }), 11);
    const randomThenBinpack = place(instances, request({ count: 5, strategies: [{ type: 'random' }, { type: 'binpack', field: 'memory' }] }), 11);
    expect(randomThenBinpack.placements).toEqual(random.placements);
  });

  it('gives the same placements through the index and the scan', () => {
    const instances = Array.from({ length: 30 }, (_, k) =>
      instance(`i${k}`, { attributes: az(`z${k % 3}`), remaining: { memory: 512 * (1 + (k % 5)), cpu: 1024 }, tasks: tasksOf('service:web', k % 2) }),
    );
    for (const strategies of [
      [...DEFAULT_SERVICE_PLACEMENT_STRATEGY, { type: 'binpack', field: 'memory' }],
      [...DEFAULT_SERVICE_PLACEMENT_STRATEGY, { type: 'spread', field: 'instanceId' }],
      [{ type: 'binpack', field: 'cpu' }],
      [],
    ] as PlacementStrategy[][]) {
      const req = request({ count: 40, strategies });
      expect(place(instances, req, 2, { selection: 'indexed' })).toEqual(place(instances, req, 2, { selection: 'scan' }));
    }
  });
});

describe('place: who may receive tasks', () => {
  it('never places on DRAINING instances or instances whose agent is disconnected', () => {
    const instances = [
      instance('draining', { status: 'DRAINING' }),
      instance('gone', { agentConnected: false }),
      instance('inactive', { status: 'INACTIVE' }),
      instance('ok', { remaining: { memory: 512 } }),
    ];
    const r = place(instances, request({ count: 3 }), 1);
    expect(r.placements).toEqual(['ok', 'ok']);
    expect(r.failures).toHaveLength(1);
    // The ECS failures list names ACTIVE instances only; the disconnected one with AGENT.
    expect(r.instanceFailures).toEqual([
      { arn: instances[1]!.arn, reason: 'AGENT' },
      { arn: instances[3]!.arn, reason: 'RESOURCE:MEMORY' },
    ]);
  });

  it('reports that there is no instance when none is ACTIVE', () => {
    const r = place([instance('d', { status: 'DRAINING' })], request({ count: 2 }), 1);
    expect(r.placements).toEqual([]);
    expect(r.failures).toEqual([
      { reason: 'NO_INSTANCES', message: 'no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.' },
      { reason: 'NO_INSTANCES', message: 'no container instance met all of its requirements. Reason: No Container Instances were found in your cluster.' },
    ]);
    expect(r.instanceFailures).toEqual([]);
  });

  it('a count of 0 places nothing and fails nothing', () => {
    expect(place([instance('a')], request({ count: 0 }), 1)).toEqual({ placements: [], failures: [], instanceFailures: [] });
  });
});
