/**
 * A schedule's slots (pure): `at(yyyy-mm-ddThh:mm:ss)`, `rate(value unit)` and `cron(6 fields)`, at and cron read in
 * ScheduleExpressionTimezone (an IANA name, Intl's tz database). Parsing and the calendar walk are the schedule
 * module Application Auto Scaling's scheduled actions already use (autoscaling/schedule.ts); this adds what the
 * Scheduler documents on top (User Guide, "Schedule types on EventBridge Scheduler"):
 *
 * - a rate schedule without StartDate starts at once, then every `rate` (days are 24-hour durations, also across a
 *   daylight-saving change); a recurring schedule's slots lie within StartDate and EndDate; at() ignores both;
 * - daylight saving: a cron slot on a wall time the spring change skips does not run, and one on a wall time the fall
 *   change repeats runs once (the first time the clock shows it);
 * - FlexibleTimeWindow FLEXIBLE fires a slot at a point within MaximumWindowInMinutes after it: here a point derived
 *   from the schedule's ARN and the slot, so every replica (and a restarted leader) computes the same one.
 */
import { createHash } from 'node:crypto';
import { nextRun, parseSchedule, ScheduleError, validTimezone, wallAt, type Schedule } from '../../autoscaling/schedule.js';
import { validation } from './env.js';

export interface SlotSpec {
  readonly expression: string;
  readonly timezone: string;
  /** Epoch ms. */
  readonly startDate?: number;
  readonly endDate?: number;
  /** When the schedule was created or last updated (epoch ms): a rate without StartDate counts from here. */
  readonly since: number;
}

/** The parsed expression, or ValidationException naming ScheduleExpression. */
export function parseScheduleExpression(expression: string): Schedule {
  try {
    return parseSchedule(expression.trim());
  } catch (error) {
    if (error instanceof ScheduleError) throw validation(`Invalid ScheduleExpression ${expression}: ${error.message}`);
    throw error;
  }
}

export function checkTimezone(timezone: string): void {
  if (!validTimezone(timezone)) throw validation(`Invalid ScheduleExpressionTimezone ${timezone}: not an IANA time zone name.`);
}

/** The first slot strictly after `after` (epoch ms), or undefined when the schedule has none left. */
export function nextSlot(spec: SlotSpec, after: number): number | undefined {
  const schedule = parseScheduleExpression(spec.expression);
  if (schedule.kind === 'at') return nextRun(schedule, { after, start: Number.MIN_SAFE_INTEGER, timezone: spec.timezone });
  const start = spec.startDate ?? spec.since;
  const window = { start, timezone: spec.timezone, ...(spec.endDate !== undefined ? { end: spec.endDate } : {}) };
  let from = after;
  for (;;) {
    const slot = nextRun(schedule, { ...window, after: from });
    if (slot === undefined || schedule.kind !== 'cron' || !repeatsEarlierWallTime(slot, spec.timezone)) return slot;
    from = slot;
  }
}

/** The at() instant, whether or not it has passed (a one-time schedule's only slot). */
export function atInstant(spec: SlotSpec): number | undefined {
  const schedule = parseScheduleExpression(spec.expression);
  return schedule.kind === 'at' ? nextRun(schedule, { after: Number.MIN_SAFE_INTEGER, start: Number.MIN_SAFE_INTEGER, timezone: spec.timezone }) : undefined;
}

/** Whether the wall clock showed `at`'s minute already within the hour before (a fall-back repeat; offsets move by 30 or 60 minutes). */
function repeatsEarlierWallTime(at: number, timezone: string): boolean {
  const minuteOf = (ms: number) => {
    const w = wallAt(ms, timezone);
    return `${w.year}-${w.month}-${w.day} ${w.hour}:${w.minute}`;
  };
  const wall = minuteOf(at);
  return minuteOf(at - 3_600_000) === wall || minuteOf(at - 1_800_000) === wall;
}

/** When a slot fires: the slot itself, or within the flexible window at a point the ARN and slot decide. */
export function fireTimeOf(slot: number, scheduleArn: string, window: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number }): number {
  if (window.Mode !== 'FLEXIBLE' || window.MaximumWindowInMinutes === undefined) return slot;
  const digest = createHash('sha256').update(`${scheduleArn}\n${slot}`).digest();
  return slot + (digest.readUIntBE(0, 6) % (window.MaximumWindowInMinutes * 60_000));
}
