import { describe, expect, it } from 'vitest';
import { checkTimezone, fireTimeOf, nextSlot, parseScheduleExpression, type SlotSpec } from './expression.js';

const utc = (text: string) => Date.parse(text);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const spec = (expression: string, extra: Partial<SlotSpec> = {}): SlotSpec => ({ expression, timezone: 'UTC', since: utc('2026-01-01T00:00:00Z'), ...extra });

/** Every slot after `from`, `count` of them. */
function slots(s: SlotSpec, from: number, count: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let after = from;
  for (let i = 0; i < count; i++) {
    const next = nextSlot(s, after);
    out.push(iso(next));
    if (next === undefined) break;
    after = next;
  }
  return out;
}

describe('schedule expressions', () => {
  it('rate() without StartDate starts at once, then every rate; with StartDate and EndDate stays within them', () => {
    const since = utc('2026-01-01T10:00:07Z');
    expect(slots(spec('rate(5 minutes)', { since }), since - 1, 3)).toEqual(['2026-01-01T10:00:07.000Z', '2026-01-01T10:05:07.000Z', '2026-01-01T10:10:07.000Z']);
    const bounded = spec('rate(1 hour)', { startDate: utc('2026-02-01T00:00:00Z'), endDate: utc('2026-02-01T02:30:00Z') });
    expect(slots(bounded, utc('2026-01-01T00:00:00Z'), 5)).toEqual(['2026-02-01T00:00:00.000Z', '2026-02-01T01:00:00.000Z', '2026-02-01T02:00:00.000Z', undefined]);
  });

  it('rate(1 day) is 24 hours also across a daylight-saving change', () => {
    const since = utc('2026-03-28T08:00:00Z');
    expect(slots(spec('rate(1 day)', { since, timezone: 'Europe/Berlin' }), since, 2)).toEqual(['2026-03-29T08:00:00.000Z', '2026-03-30T08:00:00.000Z']);
  });

  it('cron() reads the time zone: 9:00 on weekdays in New York is 14:00Z in winter and 13:00Z in summer', () => {
    const s = spec('cron(0 9 ? * MON-FRI *)', { timezone: 'America/New_York' });
    // DST starts on Sunday 8 March 2026.
    expect(slots(s, utc('2026-03-06T00:00:00Z'), 2)).toEqual(['2026-03-06T14:00:00.000Z', '2026-03-09T13:00:00.000Z']);
  });

  it('a cron slot on a wall time the spring change skips does not run', () => {
    // Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 does not exist that day.
    const s = spec('cron(30 2 * * ? *)', { timezone: 'Europe/Berlin' });
    expect(slots(s, utc('2026-03-28T00:00:00Z'), 2)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z']);
  });

  it('a cron slot on a wall time the fall change repeats runs once', () => {
    // Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 comes twice (00:30Z and 01:30Z).
    const s = spec('cron(30 2 * * ? *)', { timezone: 'Europe/Berlin' });
    expect(slots(s, utc('2026-10-24T12:00:00Z'), 2)).toEqual(['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    // Every 15 minutes through the repeated hour: each wall time once.
    const quarter = spec('cron(0/15 2 * * ? *)', { timezone: 'Europe/Berlin' });
    expect(slots(quarter, utc('2026-10-25T00:00:00Z'), 4)).toEqual(['2026-10-25T00:15:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-25T00:45:00.000Z', '2026-10-26T01:00:00.000Z']);
  });

  it('at() is one instant in its time zone, and has no slot after it', () => {
    const s = spec('at(2026-07-01T09:00:00)', { timezone: 'Asia/Tokyo' });
    expect(iso(nextSlot(s, utc('2026-01-01T00:00:00Z')))).toBe('2026-07-01T00:00:00.000Z');
    expect(nextSlot(s, utc('2026-07-01T00:00:00Z'))).toBeUndefined();
  });

  it('refuses bad expressions and zones with ValidationException naming the field', () => {
    for (const bad of ['cron(0 9 * *)', 'rate(0 minutes)', 'rate(5 fortnights)', 'at(2026-13-01T00:00:00)', 'every day', 'cron(0 9 1 * MON *)']) {
      expect(() => parseScheduleExpression(bad), bad).toThrow(expect.objectContaining({ type: 'ValidationException', message: expect.stringContaining('ScheduleExpression') }));
    }
    expect(() => checkTimezone('Mars/Olympus')).toThrow(expect.objectContaining({ type: 'ValidationException', message: expect.stringContaining('ScheduleExpressionTimezone') }));
    expect(() => checkTimezone('Australia/Lord_Howe')).not.toThrow();
  });
});

describe('flexible time windows', () => {
  const arn = 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly';
  const slot = utc('2026-05-01T02:00:00Z');

  it('OFF fires at the slot', () => {
    expect(fireTimeOf(slot, arn, { Mode: 'OFF' })).toBe(slot);
  });

  it('FLEXIBLE fires within the window, at the same point for the same schedule and slot (replicas agree)', () => {
    const window = { Mode: 'FLEXIBLE' as const, MaximumWindowInMinutes: 15 };
    const points = Array.from({ length: 200 }, (_, i) => fireTimeOf(slot + i * 3_600_000, arn, window) - (slot + i * 3_600_000));
    for (const offset of points) {
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(15 * 60_000);
    }
    // Spread over the window, not stuck at one point.
    expect(new Set(points.map((o) => Math.floor(o / 60_000))).size).toBeGreaterThan(10);
    expect(fireTimeOf(slot, arn, window)).toBe(fireTimeOf(slot, arn, { ...window }));
    expect(fireTimeOf(slot, `${arn}-other`, window)).not.toBe(fireTimeOf(slot, arn, window));
  });
});
