import { describe, expect, it } from 'vitest';
import { logLimits } from '../model/log-limits.js';
import { checkBatch } from './put-batch.js';

const NOW = Date.UTC(2026, 0, 15, 12);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ev = (timestamp: number, message = 'x') => ({ timestamp, message });

describe('PutLogEvents batch rules', () => {
  it('keeps a valid batch whole and counts its UTF-8 bytes', () => {
    const r = checkBatch([ev(NOW - 1000, 'héllo'), ev(NOW, 'wörld')], NOW, null);
    expect(r.accepted).toHaveLength(2);
    expect(r.bytes).toBe(12);
    expect(r.rejected).toBeUndefined();
  });

  it('refuses a batch out of chronological order', () => {
    expect(() => checkBatch([ev(NOW), ev(NOW - 1)], NOW, null)).toThrow(/chronological order/);
  });

  it('counts 26 bytes per event against the 1 MiB batch limit', () => {
    // 4 events of 262,118 bytes are exactly 4 × 256 KiB = 1 MiB; a fifth byte anywhere is too much.
    const big = 'a'.repeat(logLimits.maxEventBytes - logLimits.eventOverheadBytes);
    expect(checkBatch([ev(NOW, big), ev(NOW, big), ev(NOW, big), ev(NOW, big)], NOW, null).accepted).toHaveLength(4);
    expect(() => checkBatch([ev(NOW, big), ev(NOW, big), ev(NOW, big), ev(NOW, `${big}`), ev(NOW, 'b')], NOW, null)).toThrow(
      /Upload too large: 1048603 bytes exceeds limit of 1048576/,
    );
  });

  it('refuses one event over 256 KiB and more than 10,000 events', () => {
    const tooBig = 'é'.repeat(131_060); // 262,120 bytes + 26 > 262,144
    expect(() => checkBatch([ev(NOW, tooBig)], NOW, null)).toThrow(/Log event too large/);
    expect(() => checkBatch(Array.from({ length: 10_001 }, () => ev(NOW)), NOW, null)).toThrow(/at most 10000/);
  });

  it('drops too-old, expired and too-new events at the ends and reports their indexes', () => {
    const batch = [ev(NOW - 15 * DAY), ev(NOW - 10 * DAY), ev(NOW - 2 * DAY, 'kept'), ev(NOW + HOUR, 'kept too'), ev(NOW + 3 * HOUR)];
    const r = checkBatch(batch, NOW, 7);
    expect(r.accepted.map((e) => e.message)).toEqual(['kept', 'kept too']);
    expect(r.rejected).toEqual({ tooOldLogEventEndIndex: 0, expiredLogEventEndIndex: 1, tooNewLogEventStartIndex: 4 });
  });

  it('can reject everything', () => {
    const r = checkBatch([ev(NOW + 5 * HOUR)], NOW, null);
    expect(r.accepted).toEqual([]);
    expect(r.rejected).toEqual({ tooNewLogEventStartIndex: 0 });
  });
});
