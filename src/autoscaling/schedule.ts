/**
 * Scheduled actions' schedules, as Application Auto Scaling accepts them: `at(yyyy-mm-ddThh:mm:ss)`, `rate(value
 * unit)` and `cron(minutes hours day-of-month month day-of-week year)`, at and cron read in the action's Timezone
 * (IANA name, default UTC). Pure: `nextRun` answers the first occurrence after a time.
 */

export type Schedule =
  | { readonly kind: 'at'; readonly wall: WallTime }
  | { readonly kind: 'rate'; readonly everyMs: number }
  | { readonly kind: 'cron'; readonly fields: CronFields };

interface WallTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

interface CronFields {
  readonly minutes: Set<number>;
  readonly hours: Set<number>;
  /** Undefined: `?` (or `*`, any). */
  readonly days?: DayRule;
  readonly months: Set<number>;
  /** Weekdays numbered 1 = Sunday … 7 = Saturday, as AWS's cron numbers them. Undefined: `?` or `*`. */
  readonly weekdays?: DayRule;
  readonly years?: Set<number>;
}

/** Whether a calendar day matches a day-of-month or day-of-week field (`L`, `W` and `#` need the whole date). */
type DayRule = (day: CalendarDay) => boolean;

interface CalendarDay {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 1 = Sunday … 7 = Saturday. */
  readonly weekday: number;
}

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export function parseSchedule(text: string): Schedule {
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) throw new ScheduleError(`Invalid date in ${text}`);
    return { kind: 'at', wall: { year, month, day, hour, minute, second } };
  }
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) throw new ScheduleError('A rate must be at least 1.');
    if ((value === 1) !== !unit.endsWith('s')) throw new ScheduleError(`Use "${value} ${value === 1 ? unit.replace(/s$/, '') : `${unit.replace(/s$/, '')}s`}" in ${text}`);
    const ms = unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000;
    return { kind: 'rate', everyMs: value * ms };
  }
  const cron = /^cron\((.+)\)$/.exec(text);
  if (cron) {
    const parts = cron[1]!.trim().split(/\s+/);
    if (parts.length !== 6) throw new ScheduleError('A cron expression has six fields: minutes hours day-of-month month day-of-week year.');
    const [mi, h, dom, mon, dow, y] = parts as [string, string, string, string, string, string];
    if ((dom === '?') === (dow === '?') && !(dom === '*' && dow === '?') && !(dom === '?' && dow === '*')) {
      throw new ScheduleError('One of day-of-month and day-of-week must be "?".');
    }
    return {
      kind: 'cron',
      fields: {
        minutes: field(mi, 0, 59),
        hours: field(h, 0, 23),
        ...(dom === '?' || dom === '*' ? {} : { days: dayOfMonthRule(dom) }),
        months: field(mon, 1, 12, MONTHS),
        ...(dow === '?' || dow === '*' ? {} : { weekdays: dayOfWeekRule(dow) }),
        ...(y === '*' ? {} : { years: field(y, 1970, 2199) }),
      },
    };
  }
  throw new ScheduleError('A schedule is at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields).');
}

/**
 * Day-of-month: a list/range/step field, or one of the wildcards AWS's cron documents: `L` (the month's last day),
 * `L-n` (n days before it), `nW` (the weekday nearest day n, within the month) and `LW` (the month's last weekday).
 */
function dayOfMonthRule(text: string): DayRule {
  const t = text.toUpperCase();
  if (t === 'L') return (d) => d.day === daysIn(d.year, d.month);
  const before = /^L-(\d+)$/.exec(t);
  if (before) {
    const n = Number(before[1]);
    if (n > 30) throw new ScheduleError(`"${text}": L-n counts at most 30 days back.`);
    return (d) => d.day === daysIn(d.year, d.month) - n;
  }
  if (t === 'LW') return (d) => d.day === nearestWeekday(d.year, d.month, daysIn(d.year, d.month));
  const weekday = /^(\d+)W$/.exec(t);
  if (weekday) {
    const n = Number(weekday[1]);
    if (!(n >= 1 && n <= 31)) throw new ScheduleError(`"${text}": nW takes a day between 1 and 31.`);
    return (d) => n <= daysIn(d.year, d.month) && d.day === nearestWeekday(d.year, d.month, n);
  }
  const days = field(text, 1, 31);
  return (d) => days.has(d.day);
}

/**
 * Day-of-week (1 = SUN … 7 = SAT): a list/range/step field, or `L` (the week's last day, Saturday), `nL` (the
 * month's last weekday n, e.g. `6L` or `FRIL`: its last Friday) and `n#k` (its k-th weekday n, e.g. `MON#1`).
 */
function dayOfWeekRule(text: string): DayRule {
  const t = text.toUpperCase();
  if (t === 'L') return (d) => d.weekday === 7;
  const last = /^(\w+)L$/.exec(t);
  if (last) {
    const n = single(last[1]!, 1, 7, DAYS);
    return (d) => d.weekday === n && d.day + 7 > daysIn(d.year, d.month);
  }
  const nth = /^(\w+)#(\d)$/.exec(t);
  if (nth) {
    const n = single(nth[1]!, 1, 7, DAYS);
    const k = Number(nth[2]);
    if (!(k >= 1 && k <= 5)) throw new ScheduleError(`"${text}": n#k takes k between 1 and 5.`);
    return (d) => d.weekday === n && Math.ceil(d.day / 7) === k;
  }
  const weekdays = field(text, 1, 7, DAYS);
  return (d) => weekdays.has(d.weekday);
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** The weekday (Monday–Friday) nearest `day` without leaving its month, as cron's `W` picks it. */
function nearestWeekday(year: number, month: number, day: number): number {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay(); // 0 = Sunday
  const last = daysIn(year, month);
  if (weekday === 6) return day > 1 ? day - 1 : day + 2;
  if (weekday === 0) return day < last ? day + 1 : day - 2;
  return day;
}

function single(v: string, min: number, max: number, names?: readonly string[]): number {
  const named = names?.indexOf(v.toUpperCase()) ?? -1;
  const n = named >= 0 ? named + min : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) throw new ScheduleError(`"${v}" is not a value between ${min} and ${max}.`);
  return n;
}

function field(text: string, min: number, max: number, names?: readonly string[]): Set<number> {
  const out = new Set<number>();
  const value = (v: string) => single(v, min, max, names);
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(step >= 1)) throw new ScheduleError(`"${part}" has an invalid step.`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') [lo, hi] = [min, max];
    else if (range.includes('-')) [lo, hi] = range.split('-').map(value) as [number, number];
    else [lo, hi] = [value(range), stepText === undefined ? value(range) : max];
    for (let n = lo; n <= hi; n += step) out.add(n);
  }
  return out;
}

/** A timezone's wall-clock fields at an instant (Intl's tz database: no library needed for reading). */
export function wallAt(ms: number, timezone: string): WallTime & { weekday: number } {
  const parts = formatter(timezone).formatToParts(new Date(ms));
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return {
    year: Number(get('year')),
    month: Number(get('month')),
    day: Number(get('day')),
    hour: Number(get('hour')) % 24,
    minute: Number(get('minute')),
    second: Number(get('second')),
    weekday: DAYS.indexOf(get('weekday').toUpperCase().slice(0, 3)) + 1,
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    formatters.set(timezone, f);
  }
  return f;
}

/** Whether `timezone` is an IANA name Intl knows. */
export function validTimezone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** The instant a wall time in `timezone` names (the offset found by reading the wall clock back). */
function instantOf(w: WallTime, timezone: string): number {
  const guess = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  let t = guess;
  for (let i = 0; i < 2; i++) {
    const seen = wallAt(t, timezone);
    const seenMs = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second);
    t += guess - seenMs;
  }
  return t;
}

/**
 * The schedule's first occurrence strictly after `after` (epoch ms) and not before `start`, or undefined (an `at` in
 * the past, a cron with no occurrence within a year and a day, or past `end`). A rate counts from `start`.
 */
export function nextRun(schedule: Schedule, options: { after: number; start: number; end?: number; timezone?: string }): number | undefined {
  const tz = options.timezone ?? 'UTC';
  const after = Math.max(options.after, options.start - 1);
  let next: number | undefined;
  if (schedule.kind === 'at') {
    const t = instantOf(schedule.wall, tz);
    next = t > after ? t : undefined;
  } else if (schedule.kind === 'rate') {
    const k = Math.floor((after - options.start) / schedule.everyMs) + 1;
    next = options.start + Math.max(0, k) * schedule.everyMs;
  } else {
    next = nextCron(schedule.fields, after, tz);
  }
  return next !== undefined && (options.end === undefined || next <= options.end) ? next : undefined;
}

function nextCron(f: CronFields, after: number, tz: string): number | undefined {
  let t = (Math.floor(after / 60_000) + 1) * 60_000;
  const limit = after + 367 * 86_400_000;
  while (t <= limit) {
    const w = wallAt(t, tz);
    const dayOk = f.months.has(w.month) && (!f.years || f.years.has(w.year)) && (!f.days || f.days(w)) && (!f.weekdays || f.weekdays(w));
    if (!dayOk) {
      t += ((23 - w.hour) * 60 + (60 - w.minute)) * 60_000;
      continue;
    }
    if (!f.hours.has(w.hour)) {
      t += (60 - w.minute) * 60_000;
      continue;
    }
    if (!f.minutes.has(w.minute)) {
      t += 60_000;
      continue;
    }
    return t;
  }
  return undefined;
}
