import { describe, expect, it } from 'vitest';
import { checkStrategy, splitByStrategy, type StrategyItem } from './capacity-strategy.js';

const item = (capacityProvider: string, weight: number, base = 0): StrategyItem => ({ capacityProvider, base, weight });
const split = (strategy: StrategyItem[], count: number, existing?: Record<string, number>) =>
  Object.fromEntries(splitByStrategy(strategy, count, existing ? new Map(Object.entries(existing)) : undefined));

describe('splitByStrategy', () => {
  // ECS's own examples: equal weights split evenly once the base is met; weights 1 and 4 give one on A for four on B.
  it.each([
    { name: 'one provider', strategy: [item('a', 1)], count: 7, want: { a: 7 } },
    { name: 'equal weights, even count', strategy: [item('a', 1), item('b', 1)], count: 6, want: { a: 3, b: 3 } },
    { name: 'equal weights, odd count: the first listed takes the extra', strategy: [item('a', 1), item('b', 1)], count: 5, want: { a: 3, b: 2 } },
    { name: 'weights 1 and 4, five tasks', strategy: [item('a', 1), item('b', 4)], count: 5, want: { a: 1, b: 4 } },
    { name: 'weights 1 and 4, ten tasks', strategy: [item('a', 1), item('b', 4)], count: 10, want: { a: 2, b: 8 } },
    { name: 'weights 1 and 4, three tasks', strategy: [item('a', 1), item('b', 4)], count: 3, want: { b: 3 } },
    { name: 'base 2 then equal weights', strategy: [item('a', 1, 2), item('b', 1)], count: 6, want: { a: 4, b: 2 } },
    { name: 'base larger than the count', strategy: [item('a', 1, 10), item('b', 1)], count: 4, want: { a: 4 } },
    { name: 'base on a weight-0 provider takes only its base', strategy: [item('a', 0, 2), item('b', 1)], count: 5, want: { a: 2, b: 3 } },
    { name: 'weight 0 takes nothing', strategy: [item('a', 0), item('b', 3)], count: 4, want: { b: 4 } },
    { name: 'weights 2 and 3 over 10', strategy: [item('a', 2), item('b', 3)], count: 10, want: { a: 4, b: 6 } },
    { name: 'three providers 1/1/2 over 8', strategy: [item('a', 1), item('b', 1), item('c', 2)], count: 8, want: { a: 2, b: 2, c: 4 } },
    { name: 'zero tasks', strategy: [item('a', 1)], count: 0, want: {} },
  ])('$name', ({ strategy, count, want }) => {
    expect(split(strategy, count)).toEqual(want);
  });

  it('counts the tasks a service already has: the base is met once, new tasks fill the shares', () => {
    const strategy = [item('a', 1, 2), item('b', 1)];
    expect(split(strategy, 2, { a: 2 })).toEqual({ a: 1, b: 1 });
    expect(split(strategy, 3, { a: 3, b: 0 })).toEqual({ a: 1, b: 2 });
    // Growing one task at a time ends where growing all at once does.
    const have = new Map<string, number>();
    for (let i = 0; i < 9; i++) for (const [p, n] of splitByStrategy(strategy, 1, have)) have.set(p, (have.get(p) ?? 0) + n);
    expect(Object.fromEntries(have)).toEqual(split(strategy, 9));
  });
});

describe('checkStrategy', () => {
  const ctx = { clusterProviders: ['FARGATE', 'FARGATE_SPOT', 'web', 'batch'], isFargate: (n: string) => n.startsWith('FARGATE') };
  it('fills in the defaults', () => {
    expect(checkStrategy([{ capacityProvider: 'web', weight: 1 }], ctx)).toEqual([item('web', 1)]);
  });
  it.each([
    { name: 'a provider not of the cluster', items: [{ capacityProvider: 'other', weight: 1 }], message: /not associated with the cluster/ },
    { name: 'two bases', items: [{ capacityProvider: 'web', base: 1, weight: 1 }, { capacityProvider: 'batch', base: 1, weight: 1 }], message: /only one capacity provider in a strategy can have a base/ },
    { name: 'no weight', items: [{ capacityProvider: 'web', base: 1 }], message: /weight greater than zero/ },
    { name: 'Fargate and an Auto Scaling group mixed', items: [{ capacityProvider: 'FARGATE', weight: 1 }, { capacityProvider: 'web', weight: 1 }], message: /mix of capacity providers using Auto Scaling groups and Fargate/ },
    { name: 'a provider twice', items: [{ capacityProvider: 'web', weight: 1 }, { capacityProvider: 'web', weight: 2 }], message: /more than once/ },
    { name: 'a weight out of range', items: [{ capacityProvider: 'web', weight: 1001 }], message: /weight must be between 0 and 1000/ },
  ])('refuses $name with InvalidParameterException', ({ items, message }) => {
    expect(() => checkStrategy(items, ctx)).toThrow(expect.objectContaining({ type: 'InvalidParameterException', message: expect.stringMatching(message) }));
  });
});
