import { describe, expect, it } from 'vitest';
import { background } from './background.js';

function recordingLog() {
  const lines: { context: Record<string, unknown>; message: string }[] = [];
  return { lines, error: (context: object, message: string) => lines.push({ context: context as Record<string, unknown>, message }) };
}

describe('background', () => {
  it('fulfils when the work succeeds, logging nothing', async () => {
    const log = recordingLog();
    await expect(background(log, 'sweep', async () => 42)).resolves.toBeUndefined();
    expect(log.lines).toEqual([]);
  });

  it('logs a rejection with what was being done and its context, and fulfils', async () => {
    const log = recordingLog();
    const err = new Error('disk on fire');
    await expect(background(log, 'record task health', async () => Promise.reject(err), { task: 't-1' })).resolves.toBeUndefined();
    expect(log.lines).toEqual([{ context: { task: 't-1', err }, message: 'record task health failed' }]);
  });

  it('logs a synchronous throw the same way', async () => {
    const log = recordingLog();
    const err = new Error('thrown before the first await');
    await background(log, 'push tasks', () => {
      throw err;
    });
    expect(log.lines[0]).toMatchObject({ context: { err }, message: 'push tasks failed' });
  });

  it('never rejects, even when the logger throws', async () => {
    const log = {
      error: () => {
        throw new Error('logger broken');
      },
    };
    await expect(background(log, 'x', async () => Promise.reject(new Error('y')))).resolves.toBeUndefined();
  });
});
