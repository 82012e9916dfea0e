import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { condition, happened, MAX_SERVICE_EVENTS, serviceMessages, withEvents } from './events.js';
import { circuitBreakerThreshold, deploymentIdFrom, healthBounds } from './service.js';
import { deploymentLimitsOf, desiredCountOf } from './validate.js';

describe('rolling bounds', () => {
  it.each([
    [4, 50, 100, 2, 4],
    [4, 100, 200, 4, 8],
    [3, 50, 150, 2, 4],
    [1, 50, 150, 1, 1],
    [0, 100, 200, 0, 0],
    [7, 0, 100, 0, 7],
    [10, 33, 125, 4, 12],
  ])('desired %i with %i%%/%i%%: floor %i, ceiling %i', (desired, min, max, floor, ceiling) => {
    expect(healthBounds(desired, { minimumHealthyPercent: min, maximumPercent: max })).toEqual({ floor, ceiling });
  });

  it('are ceil and floor of the exact products', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 100, max: 2000 }), (d, min, max) => {
        const { floor, ceiling } = healthBounds(d, { minimumHealthyPercent: min, maximumPercent: max });
        expect(floor * 100).toBeGreaterThanOrEqual(d * min);
        expect((floor - 1) * 100).toBeLessThan(d * min);
        expect(ceiling * 100).toBeLessThanOrEqual(d * max);
        expect((ceiling + 1) * 100).toBeGreaterThan(d * max);
      }),
    );
  });
});

describe('the circuit breaker threshold', () => {
  it.each([
    [1, 3],
    [6, 3],
    [7, 4],
    [10, 5],
    [400, 200],
    [5000, 200],
  ])('for desired %i is %i', (desired, threshold) => expect(circuitBreakerThreshold(desired)).toBe(threshold));
});

describe('deployment ids', () => {
  it('are ecs-svc/ and 19 digits', () => {
    let n = 0;
    expect(deploymentIdFrom(() => n++)).toMatch(/^ecs-svc\/[1-9]\d{18}$/);
    expect(deploymentIdFrom(() => 0)).toBe('ecs-svc/1000000000000000000');
  });
});

describe('service events', () => {
  const at = (s: number) => s * 1000;
  let id = 0;
  const newId = () => `e${id++}`;

  it('are newest first, capped at 100', () => {
    let events = withEvents([], [happened('a'), happened('b')], at(1), newId);
    expect(events.map((e) => e.message)).toEqual(['b', 'a']);
    for (let i = 0; i < 150; i++) events = withEvents(events, [happened(`m${i}`)], at(2 + i), newId);
    expect(events).toHaveLength(MAX_SERVICE_EVENTS);
    expect(events[0]!.message).toBe('m149');
  });

  it('record a condition again only after the repeat window', () => {
    const msg = serviceMessages.unableToPlace('web', 'no container instance met all of its requirements.');
    let events = withEvents([], [condition(msg)], at(0), newId);
    events = withEvents(events, [condition(msg)], at(60), newId);
    expect(events).toHaveLength(1);
    events = withEvents(events, [condition(msg)], at(301), newId);
    expect(events).toHaveLength(2);
    // What happened is always recorded.
    events = withEvents(events, [happened('x'), happened('x')], at(302), newId);
    expect(events.filter((e) => e.message === 'x')).toHaveLength(2);
  });

  it('word starts and stops as ECS does, ten tasks a message', () => {
    expect(serviceMessages.started('web', ['a', 'b'])).toEqual(['(service web) has started 2 tasks: (task a) (task b).']);
    expect(serviceMessages.stopped('web', ['a'])).toEqual(['(service web) has stopped 1 running tasks: (task a).']);
    const many = serviceMessages.started('web', Array.from({ length: 25 }, (_, i) => `t${i}`));
    expect(many.map((m) => m.split(' ')[4])).toEqual(['10', '10', '5']);
  });
});

describe('request checks', () => {
  it('fill in ECS defaults and merge updates', () => {
    expect(deploymentLimitsOf('REPLICA', undefined)).toEqual({ minimumHealthyPercent: 100, maximumPercent: 200, circuitBreaker: { enable: false, rollback: false } });
    expect(deploymentLimitsOf('DAEMON', undefined)).toMatchObject({ minimumHealthyPercent: 0, maximumPercent: 100 });
    const current = deploymentLimitsOf('REPLICA', { minimumHealthyPercent: 50 });
    expect(deploymentLimitsOf('REPLICA', { maximumPercent: 150 }, current)).toMatchObject({ minimumHealthyPercent: 50, maximumPercent: 150 });
  });

  it.each([
    [{ minimumHealthyPercent: 101 }, /minimumHealthyPercent/],
    [{ maximumPercent: 99 }, /maximumPercent/],
  ])('refuse %j', (config, message) => expect(() => deploymentLimitsOf('REPLICA', config)).toThrow(message));

  it('want a desired count for REPLICA and none for DAEMON', () => {
    expect(() => desiredCountOf('REPLICA', undefined, true)).toThrow(/required/);
    expect(desiredCountOf('REPLICA', undefined, false)).toBeUndefined();
    expect(() => desiredCountOf('DAEMON', 1, true)).toThrow(/daemon/);
    expect(() => desiredCountOf('REPLICA', 5001, true)).toThrow(/5000/);
  });
});
