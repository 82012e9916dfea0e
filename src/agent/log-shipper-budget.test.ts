import { describe, expect, it } from 'vitest';
import { QueueBudget } from './log-shipper-budget.js';

describe('QueueBudget', () => {
  it('lets containers read until the sum reaches the limit, then only those with nothing queued', () => {
    const budget = new QueueBudget(100);
    expect(budget.mayRead(0)).toBe(true);
    budget.add(60);
    expect(budget.mayRead(60)).toBe(true);
    budget.add(50);
    expect(budget.queued).toBe(110);
    expect(budget.mayRead(60)).toBe(false);
    expect(budget.mayRead(50)).toBe(false);
    // A container with nothing queued is never starved by the others.
    expect(budget.mayRead(0)).toBe(true);
    budget.add(-50);
    expect(budget.mayRead(60)).toBe(true);
  });
});
