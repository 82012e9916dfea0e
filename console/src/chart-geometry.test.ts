import { describe, expect, it } from 'vitest';
import { linePath, summary, yTop } from './chart-geometry.js';

const MIN = 60_000;
const box = { width: 600, height: 100, from: 0, to: 10 * MIN, periodMs: MIN };

describe('chart geometry', () => {
  it('scales time across the width and 0–100 % up the height', () => {
    expect(linePath([{ t: 0, v: 0 }, { t: MIN, v: 50 }, { t: 2 * MIN, v: 100 }], box)).toBe('M0 100 L60 50 L120 0');
  });

  it('breaks the line where minutes are missing, and sorts the points by time', () => {
    expect(linePath([{ t: 4 * MIN, v: 10 }, { t: MIN, v: 10 }, { t: 2 * MIN, v: 10 }], box)).toBe('M60 90 L120 90 M240 90');
  });

  it('raises the top above 100 % to the next multiple of 50, and leaves points outside the window out', () => {
    expect(yTop([{ t: 0, v: 130 }])).toBe(150);
    expect(yTop([{ t: 0, v: 3 }])).toBe(100);
    expect(linePath([{ t: -MIN, v: 10 }, { t: MIN, v: 150 }], box)).toBe('M60 0');
    expect(linePath([], box)).toBe('');
  });

  it('summarises the latest and the peak value', () => {
    expect(summary([{ t: 2, v: 5 }, { t: 3, v: 1 }, { t: 1, v: 9 }])).toEqual({ latest: 1, peak: 9 });
    expect(summary([])).toBeUndefined();
  });
});
