import { describe, expect, it } from 'vitest';
import { maxMessageBytes } from '../model/log-limits.js';
import { batchSize, monotonic } from './log-shipper-batch.js';

describe('batching', () => {
  it('takes at most 10,000 events', () => {
    expect(batchSize(Array.from({ length: 25_000 }, () => ({ message: 'x' })))).toBe(10_000);
    expect(batchSize([{ message: 'x' }])).toBe(1);
    expect(batchSize([])).toBe(0);
  });

  it('takes at most 1 MiB counting 26 bytes per event', () => {
    const big = { message: 'a'.repeat(maxMessageBytes) };
    expect(batchSize([big, big, big, big, big])).toBe(4);
    expect(batchSize([{ message: 'é' }, big, big, big, big])).toBe(4);
  });

  it('makes timestamps non-decreasing from a floor', () => {
    const { events, last } = monotonic([{ timestamp: 5 }, { timestamp: 3 }, { timestamp: 9 }], 4);
    expect(events.map((e) => e.timestamp)).toEqual([5, 5, 9]);
    expect(last).toBe(9);
  });
});
