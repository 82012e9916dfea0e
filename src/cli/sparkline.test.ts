import { describe, expect, it } from 'vitest';
import { metricChart, onPeriods, shortNumber, sparkline } from './sparkline.js';

describe('sparkline', () => {
  it('draws each value between the minimum and the maximum, gaps as spaces', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇██');
    expect(sparkline([5, undefined, 10])).toBe('▁ █');
    expect(sparkline([3, 3, 3])).toBe('▁▁▁');
    expect(sparkline([undefined, undefined])).toBe('  ');
  });

  it('lays points on their periods and drops the ones outside the window', () => {
    const start = new Date('2026-12-06T10:00:00Z');
    const end = new Date('2026-12-06T10:05:00Z');
    const at = (m: number) => new Date(start.getTime() + m * 60_000);
    expect(onPeriods([{ at: at(0), value: 1 }, { at: at(3), value: 4 }, { at: at(5), value: 9 }, { at: at(-1), value: 7 }], start, end, 60)).toEqual([1, undefined, undefined, 4, undefined]);
  });

  it('summarises min, max and last with the unit', () => {
    expect(metricChart('t', [1.23456, undefined, 40], 'Percent')).toEqual(['t', '│▁ █│', 'min 1.235 Percent · max 40 Percent · last 40 Percent']);
    expect(metricChart('t', [undefined])[2]).toBe('no datapoints in this window');
    expect(shortNumber(123456789)).toBe('123500000');
  });
});
