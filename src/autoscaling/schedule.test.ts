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
    expect(() => parseSchedule('cron(0 0 1 * 2 *)')).toThrow(ScheduleError);
  });
  it('cron() day wildcards: L, L-n, nW, LW in day-of-month; L, nL, n#k in day-of-week', () => {
    const next = (expression: string, after: string) => new Date(nextRun(parseSchedule(expression), { after: at(after), start: 0 })!).toISOString();
    // Last day of the month, also in February of a leap year.
    expect(next('cron(0 12 L * ? *)', '2026-12-05T00:00:00Z')).toBe('2026-12-31T12:00:00.000Z');
    expect(next('cron(0 12 L 2 ? *)', '2027-03-01T00:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(next('cron(0 12 L-2 * ? *)', '2026-12-05T00:00:00Z')).toBe('2026-12-29T12:00:00.000Z');
    // The weekday nearest the 1st (a Saturday in August 2026) stays in the month: Monday the 3rd, not July 31st.
    expect(next('cron(0 9 1W * ? *)', '2026-07-15T00:00:00Z')).toBe('2026-08-03T09:00:00.000Z');
    // Nearest the 15th (a Sunday in November 2026): Monday the 16th; nearest the 14th (a Saturday): Friday the 13th.
    expect(next('cron(0 9 15W * ? *)', '2026-11-01T00:00:00Z')).toBe('2026-11-16T09:00:00.000Z');
    expect(next('cron(0 9 14W * ? *)', '2026-11-01T00:00:00Z')).toBe('2026-11-13T09:00:00.000Z');
    // The month's last weekday: January 31st 2027 is a Sunday, so Friday the 29th.
    expect(next('cron(0 9 LW * ? *)', '2027-01-01T00:00:00Z')).toBe('2027-01-29T09:00:00.000Z');
    // Day of week: L is Saturday; 6L the month's last Friday; 3#2 its second Tuesday; MON#1 its first Monday.
    expect(next('cron(0 9 ? * L *)', '2026-12-07T00:00:00Z')).toBe('2026-12-12T09:00:00.000Z');
    expect(next('cron(0 9 ? * 6L *)', '2026-12-07T00:00:00Z')).toBe('2026-12-25T09:00:00.000Z');
    expect(next('cron(0 9 ? * FRIL *)', '2026-12-26T00:00:00Z')).toBe('2027-01-29T09:00:00.000Z');
    expect(next('cron(0 9 ? * 3#2 *)', '2026-12-07T00:00:00Z')).toBe('2026-12-08T09:00:00.000Z');
    expect(next('cron(0 9 ? * MON#1 *)', '2026-12-08T00:00:00Z')).toBe('2027-01-04T09:00:00.000Z');
    // A fifth weekday exists only in some months: December 2026 has five Tuesdays but four Mondays.
    expect(next('cron(0 9 ? * 3#5 *)', '2026-12-01T00:00:00Z')).toBe('2026-12-29T09:00:00.000Z');
    expect(next('cron(0 9 ? * 2#5 *)', '2026-12-01T00:00:00Z')).toBe('2027-03-29T09:00:00.000Z');
    for (const bad of ['cron(0 0 32W * ? *)', 'cron(0 0 L-31 * ? *)', 'cron(0 0 ? * 2#6 *)', 'cron(0 0 ? * 8L *)', 'cron(0 0 X * ? *)']) {
      expect(() => parseSchedule(bad), bad).toThrow(ScheduleError);
    }
  });
});
