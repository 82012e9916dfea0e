import { describe, expect, it } from 'vitest';
import type { TaskNeeds } from '../model/task.js';
import { CqlSyntaxError, PlacementRequestError } from './errors.js';
import { place } from './place.js';
import type { PlacementConstraint, PlacementRequest } from './request.js';
import { instance, tasksOf } from './testing/instances.js';

const needs = (over: Partial<TaskNeeds> = {}): TaskNeeds => ({ cpu: 256, memory: 256, ports: [], portsUdp: [], ...over });
const request = (over: Partial<PlacementRequest> = {}): PlacementRequest => ({ count: 1, needs: needs(), group: 'service:web', ...over });
const memberOf = (expression: string): PlacementConstraint => ({ type: 'memberOf', expression });
const day = (iso: string) => Date.parse(iso) / 1000;

const fleet = [
  instance('small-1a', {
    ec2InstanceId: 'i-abcd1234',
    agentVersion: '1.14.4',
    registeredAt: day('2018-02-12T10:00:00Z'),
    attributes: { 'ecs.instance-type': 't2.small', 'ecs.availability-zone': 'us-east-1a' },
    tasks: tasksOf('service:production', 1),
  }),
  instance('gpu-1d', {
    ec2InstanceId: 'i-wxyx7890',
    agentVersion: '1.14.5',
    registeredAt: day('2018-02-13T10:00:00Z'),
    attributes: { 'ecs.instance-type': 'g2.2xlarge', 'ecs.availability-zone': 'us-east-1d' },
    tasks: tasksOf('database', 2),
  }),
  instance('gpu-1b', {
    ec2InstanceId: 'i-00001111',
    agentVersion: '1.20.0',
    registeredAt: day('2019-01-01T00:00:00Z'),
    attributes: { 'ecs.instance-type': 'g2.8xlarge', 'ecs.availability-zone': 'us-east-1b' },
  }),
];

describe('place: memberOf', () => {
  it.each([
    // The ECS developer guide's examples, as constraints on where three tasks may go.
    ['attribute:ecs.instance-type == t2.small', ['small-1a']],
    ['attribute:ecs.availability-zone in [us-east-1a, us-east-1b]', ['small-1a', 'gpu-1b']],
    ['attribute:ecs.instance-type =~ g2.* and attribute:ecs.availability-zone != us-east-1d', ['gpu-1b']],
    ['task:group == service:production', ['small-1a']],
    ['not(task:group == database)', ['small-1a', 'gpu-1b']],
    ['runningTasksCount == 1', ['small-1a']],
    ['agentVersion < 1.14.5', ['small-1a']],
    ['registeredAt < 2018-02-13', ['small-1a']],
    ["ec2InstanceId in ['i-abcd1234', 'i-wxyx7890']", ['small-1a', 'gpu-1d']],
  ])('%s places only on %j', (expression, allowed) => {
    const r = place(fleet, request({ count: 6, constraints: [memberOf(expression)], strategies: [{ type: 'spread', field: 'instanceId' }] }), 1);
    expect(new Set(r.placements)).toEqual(new Set(allowed));
  });

  it('needs every constraint to hold', () => {
    const r = place(fleet, request({ count: 3, constraints: [memberOf('attribute:ecs.instance-type =~ g2.*'), memberOf('agentVersion >= 1.20')] }), 1);
    expect(r.placements).toEqual(['gpu-1b', 'gpu-1b', 'gpu-1b']);
  });

  it('counts the tasks it places: runningTasksCount == 0 puts one task on each empty instance', () => {
    const empty = [instance('e1'), instance('e2'), instance('busy', { tasks: tasksOf('x', 1) }), instance('e3')];
    const r = place(empty, request({ count: 4, constraints: [memberOf('runningTasksCount == 0')] }), 1);
    expect([...r.placements].sort()).toEqual(['e1', 'e2', 'e3']);
    expect(r.failures[0]).toMatchObject({ reason: 'MemberOf placement constraint unsatisfied.' });
  });

  it('task:group sees the tasks it places: not(task:group == <own group>) keeps them apart', () => {
    const r = place([instance('a'), instance('b')], request({ count: 3, constraints: [memberOf('not(task:group == service:web)')] }), 1);
    expect([...r.placements].sort()).toEqual(['a', 'b']);
    expect(r.failures).toHaveLength(1);
  });

  it('task:group == <another group> places beside it (affinity)', () => {
    const r = place(fleet, request({ count: 2, constraints: [memberOf('task:group == database')] }), 1);
    expect(r.placements).toEqual(['gpu-1d', 'gpu-1d']);
  });
});

describe('place: distinctInstance', () => {
  it('puts each task of the group on its own instance, counting ones already running', () => {
    const instances = [instance('a', { tasks: tasksOf('service:web', 1) }), instance('b'), instance('c', { tasks: tasksOf('service:other', 1) })];
    const r = place(instances, request({ count: 3, constraints: [{ type: 'distinctInstance' }] }), 1);
    expect([...r.placements].sort()).toEqual(['b', 'c']);
    expect(r.failures).toEqual([
      {
        reason: 'DistinctInstance placement constraint unsatisfied.',
        closestInstance: { id: 'a', arn: instances[0]!.arn },
        message:
          'no container instance met all of its requirements. The closest matching (container-instance a) did not match the placement constraints (distinctInstance: it already runs a task of this group).',
      },
    ]);
  });
});

describe('place: required attributes', () => {
  it('places only where the attribute is (with the value, when one is required)', () => {
    const instances = [
      instance('plain'),
      instance('efs', { attributes: { 'ecs.capability.efs': undefined } }),
      instance('arm', { attributes: { 'ecs.capability.efs': undefined, 'ecs.cpu-architecture': 'arm64' } }),
    ];
    const efs = place(instances, request({ count: 4, requiredAttributes: [{ name: 'ecs.capability.efs' }], strategies: [{ type: 'spread', field: 'instanceId' }] }), 1);
    expect(new Set(efs.placements)).toEqual(new Set(['efs', 'arm']));
    const arm = place(instances, request({ count: 2, requiredAttributes: [{ name: 'ecs.cpu-architecture', value: 'arm64' }] }), 1);
    expect(arm.placements).toEqual(['arm', 'arm']);
  });

  it('names the missing attribute', () => {
    const r = place([instance('plain')], request({ requiredAttributes: [{ name: 'com.amazonaws.ecs.capability.ecr-auth' }] }), 1);
    expect(r.failures[0]!.message).toBe(
      'no container instance met all of its requirements. The closest matching (container-instance plain) is missing an attribute required by your task (com.amazonaws.ecs.capability.ecr-auth).',
    );
    expect(r.instanceFailures).toEqual([{ arn: instance('plain').arn, reason: 'ATTRIBUTE' }]);
  });
});

describe('place: resources and the closest instance', () => {
  it.each([
    // [what, instances' remaining, needs, reason, closest, phrase]
    ['CPU', [{ cpu: 100 }, { cpu: 200 }], needs({ cpu: 256 }), 'RESOURCE:CPU', 'n1', 'has insufficient CPU units available.'],
    ['memory', [{ memory: 300 }, { memory: 100 }], needs({ memory: 512 }), 'RESOURCE:MEMORY', 'n0', 'has insufficient memory available.'],
    ['TCP ports', [{ ports: [22, 80] }, { ports: [80] }], needs({ ports: [80] }), 'RESOURCE:PORTS', 'n0', 'is already using a port required by your task.'],
    ['UDP ports', [{ portsUdp: [53] }], needs({ portsUdp: [53] }), 'RESOURCE:PORTS', 'n0', 'is already using a port required by your task.'],
  ] as const)('%s: the failure names the closest instance in ECS words', (_what, remaining, taskNeeds, reason, closest, phrase) => {
    const instances = remaining.map((r, k) => instance(`n${k}`, { remaining: r }));
    const r = place(instances, request({ needs: taskNeeds }), 1);
    expect(r.placements).toEqual([]);
    expect(r.failures).toEqual([
      {
        reason,
        closestInstance: { id: closest, arn: instances.find((i) => i.id === closest)!.arn },
        message: `no container instance met all of its requirements. The closest matching (container-instance ${closest}) ${phrase}`,
      },
    ]);
    expect(r.instanceFailures).toEqual(instances.map((i) => ({ arn: i.arn, reason })));
  });

  it('does not put two tasks with the same host port on one instance', () => {
    const r = place([instance('only')], request({ count: 2, needs: needs({ ports: [8080] }) }), 1);
    expect(r.placements).toEqual(['only']);
    expect(r.failures[0]!.reason).toBe('RESOURCE:PORTS');
  });

  it('the closest instance is the one turned down furthest along the pipeline', () => {
    const instances = [
      instance('no-agent', { agentConnected: false }),
      instance('no-attr', { remaining: { memory: 100_000 } }),
      instance('no-mem', { attributes: { role: 'web' }, remaining: { memory: 64 } }),
      instance('wrong-zone', { attributes: { role: 'web', zone: 'b' } }),
    ];
    const r = place(instances, request({ requiredAttributes: [{ name: 'role' }], constraints: [memberOf('attribute:zone == a')] }), 1);
    expect(r.failures[0]).toMatchObject({
      reason: 'MemberOf placement constraint unsatisfied.',
      closestInstance: { id: 'wrong-zone' },
      message:
        'no container instance met all of its requirements. The closest matching (container-instance wrong-zone) did not match the placement constraints (memberOf: attribute:zone == a).',
    });
    expect(r.instanceFailures.map((f) => f.reason)).toEqual(['AGENT', 'ATTRIBUTE', 'RESOURCE:MEMORY', 'MemberOf placement constraint unsatisfied.']);
  });

  it('fails every task it cannot place with the same reason, after placing what fits', () => {
    const r = place([instance('a', { remaining: { memory: 600 } })], request({ count: 5 }), 1);
    expect(r.placements).toEqual(['a', 'a']);
    expect(r.failures).toHaveLength(3);
    expect(new Set(r.failures.map((f) => f.message)).size).toBe(1);
  });
});

describe('place: invalid requests', () => {
  it.each<[string, Partial<PlacementRequest>, RegExp]>([
    ['11 constraints', { constraints: Array.from({ length: 11 }, () => memberOf('attribute:a exists')) }, /at most 10 placement constraints/],
    ['memberOf without expression', { constraints: [{ type: 'memberOf' }] }, /needs an expression/],
    ['distinctInstance with expression', { constraints: [{ type: 'distinctInstance', expression: 'attribute:a exists' }] }, /cannot have an expression/],
    ['binpack by disk', { strategies: [{ type: 'binpack', field: 'disk' }] }, /cpu or memory/],
    ['spread without field', { strategies: [{ type: 'spread' }] }, /instanceId, host or attribute/],
    ['spread by attribute: with no name', { strategies: [{ type: 'spread', field: 'attribute:' }] }, /instanceId, host or attribute/],
    ['6 strategies', { strategies: Array.from({ length: 6 }, () => ({ type: 'random' as const })) }, /at most 5 placement strategies/],
    ['a negative count', { count: -1 }, /count/],
  ])('refuses %s', (_what, over, message) => {
    expect(() => place(fleet, request(over), 1)).toThrow(PlacementRequestError);
    expect(() => place(fleet, request(over), 1)).toThrow(message);
  });

  it('refuses a malformed expression with a CqlSyntaxError', () => {
    expect(() => place(fleet, request({ constraints: [memberOf('attribute:a = b')] }), 1)).toThrow(CqlSyntaxError);
  });
});
