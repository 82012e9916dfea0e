import { describe, expect, it } from 'vitest';
import { nextRun, parseSchedule, ScheduleError } from './schedule.js';

const at = (iso: string) => Date.parse(iso);

describe('schedules', () => {
  it('at() in UTC and in a timezone', () => {
    expect(nextRun(parseSchedule('at(2026-12-06T19:00:00)'), { after: at('2026-12-06T18:00:00Z'), start: 0 })).toBe(at('2026-12-06T19:00:00Z'));
    expect(nextRun(parseSchedule('at(2026-12-06T20:00:00)'), { after: at('2026-12-06T18:00:00Z'), start: 0, timezone: 'Europe/Paris' })).toBe(at('2026-12-06T19:00:00Z'));
    expect(nextRun(parseSchedule('at(2026-12-06T17:00:00)'), { after: at('2026-12-06T18:00:00Z'), start: 0 })).toBeUndefined();
  });
  it('rate() counts from the start', () => {
    const s = parseSchedule('rate(5 minutes)');
    expect(nextRun(s, { after: at('2026-12-06T18:07:00Z'), start: at('2026-12-06T18:00:00Z') })).toBe(at('2026-12-06T18:10:00Z'));
    expect(nextRun(s, { after: at('2026-12-06T17:00:00Z'), start: at('2026-12-06T18:00:00Z') })).toBe(at('2026-12-06T18:00:00Z'));
    expect(() => parseSchedule('rate(1 minutes)')).toThrow(ScheduleError);
  });
  it('cron() with Timezone, across a DST change', () => {
    const s = parseSchedule('cron(30 9 * * ? *)');
    expect(nextRun(s, { after: at('2026-12-06T18:00:00Z'), start: 0, timezone: 'America/New_York' })).toBe(at('2026-12-07T14:30:00Z'));
    expect(nextRun(s, { after: at('2026-06-06T18:00:00Z'), start: 0, timezone: 'America/New_York' })).toBe(at('2026-06-07T13:30:00Z'));
    expect(nextRun(parseSchedule('cron(0 8 ? * MON-FRI *)'), { after: at('2026-12-05T12:00:00Z'), start: 0 })).toBe(at('2026-12-07T08:00:00Z'));
    expect(nextRun(parseSchedule('cron(*/15 * * * ? *)'), { after: at('2026-12-05T12:01:00Z'), start: 0 })).toBe(at('2026-12-05T12:15:00Z'));
    expect(nextRun(parseSchedule('cron(0 0 1 JAN ? 2027)'), { after: at('2026-12-05T12:01:00Z'), start: 0, end: at('2026-12-31T00:00:00Z') })).toBeUndefined();
    expect(() => parseSchedule('cron(0 0 L * ? *)')).toThrow(ScheduleError);
    expect(() => parseSchedule('cron(0 0 1 * 2 *)')).toThrow(ScheduleError);
  });
});
