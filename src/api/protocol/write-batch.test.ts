import { describe, expect, it } from 'vitest';
import { WriteBatch } from './write-batch.js';

describe('WriteBatch', () => {
  it('runs the writes queued in one turn together, in order, after the turn', async () => {
    const batch = new WriteBatch();
    const done: string[] = [];
    batch.later(() => done.push('a'));
    batch.later(() => done.push('b'));
    expect(done).toEqual([]);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(done).toEqual(['a', 'b']);
    batch.later(() => done.push('c'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(done).toEqual(['a', 'b', 'c']);
  });

  it('still runs the other writes when one throws (its client is gone)', async () => {
    const batch = new WriteBatch();
    const done: string[] = [];
    batch.later(() => {
      throw new Error('socket gone');
    });
    batch.later(() => done.push('b'));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(done).toEqual(['b']);
  });
});
