import { describe, expect, it } from 'vitest';
import { drainStep } from './drain.js';

describe('drainStep', () => {
  const d = { since: 1_000, delayMs: 5_000, live: true };
  it('deletes a target with nothing in flight at once, before the delay', () => {
    expect(drainStep(d, { currentSessions: 0, queued: 0 }, 1_001)).toBe('delete');
  });
  it('waits while requests are in flight or queued, then shuts them once the delay has passed', () => {
    expect(drainStep(d, { currentSessions: 2, queued: 0 }, 5_999)).toBe('wait');
    expect(drainStep(d, { currentSessions: 0, queued: 1 }, 5_999)).toBe('wait');
    expect(drainStep(d, { currentSessions: 2, queued: 0 }, 6_000)).toBe('shutdown-and-delete');
  });
  it('a target its worker no longer has (reload, restart) is forgotten when the delay has passed', () => {
    expect(drainStep({ ...d, live: false }, { currentSessions: 0, queued: 0 }, 5_999)).toBe('wait');
    expect(drainStep({ ...d, live: false }, undefined, 6_000)).toBe('forget');
    expect(drainStep(d, undefined, 2_000)).toBe('wait');
  });
});
