import { describe, expect, it } from 'vitest';
import { SampleBatch } from './sample-batch.js';

describe('SampleBatch', () => {
  it('holds each series once per unit and resolution, whatever the order of its dimensions', () => {
    const batch = new SampleBatch();
    const ab = [{ Name: 'a', Value: '1' }, { Name: 'b', Value: '2' }];
    const ba = [{ Name: 'b', Value: '2' }, { Name: 'a', Value: '1' }];
    const first = batch.seriesAt('App', 'Latency', ab, 'Seconds', false);
    expect(batch.seriesAt('App', 'Latency', ba, 'Seconds', false)).toBe(first);
    expect(batch.series[first]!.series.dimensions).toEqual(ab);
    // Another unit, resolution, value, dimension, name or namespace is another entry.
    const others = [
      batch.seriesAt('App', 'Latency', ab, 'Milliseconds', false),
      batch.seriesAt('App', 'Latency', ab, 'Seconds', true),
      batch.seriesAt('App', 'Latency', [{ Name: 'a', Value: '1' }, { Name: 'b', Value: '3' }], 'Seconds', false),
      batch.seriesAt('App', 'Latency', [{ Name: 'a', Value: '1' }], 'Seconds', false),
      batch.seriesAt('App', 'Latency', undefined, 'Seconds', false),
      batch.seriesAt('App', 'Errors', ab, 'Seconds', false),
      batch.seriesAt('Other', 'Latency', ab, 'Seconds', false),
    ];
    expect(new Set([first, ...others]).size).toBe(8);
    // One dimension or none: found again without sorting.
    expect(batch.seriesAt('App', 'Latency', [{ Name: 'a', Value: '1' }], 'Seconds', false)).toBe(others[3]);
    expect(batch.seriesAt('App', 'Latency', [], 'Seconds', false)).toBe(others[4]);
  });

  it('keeps plain values as parallel arrays and counts every datapoint', () => {
    const batch = new SampleBatch();
    const s = batch.seriesAt('App', 'Latency', undefined, 'None', false);
    batch.addValue(s, 100, 1.5);
    batch.addValue(s, 101, 2.5);
    batch.addAggregated(s, { t: 102, count: 3, sum: 6, min: 1, max: 3 });
    expect([batch.at, batch.t, batch.value]).toEqual([[0, 0], [100, 101], [1.5, 2.5]]);
    expect(batch.size).toBe(3);
  });
});
