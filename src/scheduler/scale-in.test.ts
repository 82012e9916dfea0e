import { describe, expect, it } from 'vitest';
import { DEFAULT_SERVICE_PLACEMENT_STRATEGY, type PlacementStrategy } from './request.js';
import { chooseTasksToStop, type StopCandidate } from './scale-in.js';
import { instance } from './testing/instances.js';

const az = (zone: string) => ({ 'ecs.availability-zone': zone });
const task = (taskId: string, instanceId: string, memory = 0): StopCandidate => ({
  taskId,
  instanceId,
  needs: { cpu: 0, memory, ports: [], portsUdp: [] },
});

const instances = [
  instance('a1', { attributes: az('a'), remaining: { memory: 1000 } }),
  instance('a2', { attributes: az('a'), remaining: { memory: 3000 } }),
  instance('b1', { attributes: az('b'), remaining: { memory: 2000 } }),
  instance('c1', { attributes: az('c'), remaining: { memory: 500 } }),
];
// Zone a runs 4 of the service's tasks, b 2, c 1; a1 holds 3.
const tasks = [task('t1', 'a1', 100), task('t2', 'a1', 100), task('t3', 'a1', 100), task('t4', 'a2', 100), task('t5', 'b1', 100), task('t6', 'b1', 100), task('t7', 'c1', 100)];
const zoneOf = (taskId: string) => tasks.find((t) => t.taskId === taskId)!.instanceId[0];

describe('chooseTasksToStop', () => {
  it('spread(az): stops from the zone with the most tasks, re-counting after each choice', () => {
    const stopped = chooseTasksToStop(instances, tasks, 3, DEFAULT_SERVICE_PLACEMENT_STRATEGY, 1);
    // a: 4 → 3 → (a 3, b 2) → 2: then a 2, b 2, c 1 → the third from a or b.
    expect(stopped.slice(0, 2).map(zoneOf)).toEqual(['a', 'a']);
    expect(['a', 'b']).toContain(zoneOf(stopped[2]!));
  });

  it('spread(instanceId): stops from the instance with the most tasks', () => {
    const stopped = chooseTasksToStop(instances, tasks, 2, [{ type: 'spread', field: 'instanceId' }], 1);
    // a1 holds 3; after one stops it ties with b1 at 2.
    expect(['t1', 't2', 't3']).toContain(stopped[0]);
    expect(['t1', 't2', 't3', 't5', 't6']).toContain(stopped[1]);
    const three = chooseTasksToStop(instances, [...tasks, task('t9', 'a1')], 2, [{ type: 'spread', field: 'instanceId' }], 1);
    expect(three.every((id) => ['t1', 't2', 't3', 't9'].includes(id))).toBe(true);
  });

  it('spread(az) then spread(instanceId): the most loaded zone, then its most loaded instance', () => {
    const strategies: PlacementStrategy[] = [...DEFAULT_SERVICE_PLACEMENT_STRATEGY, { type: 'spread', field: 'instanceId' }];
    expect(['t1', 't2', 't3']).toContain(chooseTasksToStop(instances, tasks, 1, strategies, 1)[0]);
  });

  it.each<[string, PlacementStrategy[], string[]]>([
    // a2 would have 3000 + 100 left, more than any other: its one task goes first; then b1 (2000 + 100, then + 200).
    ['binpack(memory)', [{ type: 'binpack', field: 'memory' }], ['t4', 'b1', 'b1']],
  ])('%s stops the task whose instance would have the most left afterwards', (_name, strategies, expected) => {
    const stopped = chooseTasksToStop(instances, tasks, 3, strategies, 1);
    expect(stopped[0]).toBe(expected[0]);
    expect(stopped.slice(1).map((id) => tasks.find((t) => t.taskId === id)!.instanceId)).toEqual(expected.slice(1));
  });

  it('binpack counts what earlier choices free on the same instance', () => {
    const two = [instance('x', { remaining: { memory: 1000 } }), instance('y', { remaining: { memory: 1100 } })];
    const candidates = [task('x1', 'x', 300), task('x2', 'x', 50), task('y1', 'y', 100)];
    // x1 first (1000 + 300 > 1100 + 100); then x2, because x1 freed 300 (1300 + 50 > 1200; 1000 + 50 would not be).
    expect(chooseTasksToStop(two, candidates, 2, [{ type: 'binpack', field: 'memory' }], 3)).toEqual(['x1', 'x2']);
  });

  it('random: a seeded order over all candidates, and never more than there are', () => {
    const a = chooseTasksToStop(instances, tasks, 10, [{ type: 'random' }], 5);
    expect([...a].sort()).toEqual(tasks.map((t) => t.taskId).sort());
    expect(chooseTasksToStop(instances, tasks, 10, [{ type: 'random' }], 5)).toEqual(a);
    expect(chooseTasksToStop(instances, tasks, 10, [{ type: 'random' }], 6)).not.toEqual(a);
  });

  it('stops tasks on instances that are leaving (DRAINING, or gone from the snapshot) first', () => {
    const leaving = [...instances.slice(0, 3), instance('c1', { attributes: az('c'), status: 'DRAINING' })];
    const candidates = [...tasks, task('t8', 'gone')];
    const stopped = chooseTasksToStop(leaving, candidates, 3, DEFAULT_SERVICE_PLACEMENT_STRATEGY, 1);
    expect([...stopped.slice(0, 2)].sort()).toEqual(['t7', 't8']);
    expect(zoneOf(stopped[2]!)).toBe('a');
  });
});
