/**
 * A rule's ScheduleExpression: `rate(value unit)` or `cron(minutes hours day-of-month month day-of-week year)` in
 * UTC, as EventBridge rules take them (no `at()`: that is EventBridge Scheduler's). The parsing and the next slot
 * are Application Auto Scaling's schedule module, which reads the same two forms.
 */
import { nextRun, parseSchedule, ScheduleError, type Schedule } from '../autoscaling/schedule.js';
import { validation } from './env.js';

export function parseRuleSchedule(expression: string): Schedule {
  let schedule: Schedule;
  try {
    schedule = parseSchedule(expression);
  } catch (error) {
    if (error instanceof ScheduleError) throw validation(`Parameter ScheduleExpression is not valid: ${error.message}`);
    throw error;
  }
  if (schedule.kind === 'at') throw validation('Parameter ScheduleExpression is not valid: a rule takes rate() or cron(); at() is EventBridge Scheduler\'s.');
  return schedule;
}

/** The first slot strictly after `after` (epoch ms) of a schedule counted from `start`; undefined if none within a year. */
export function nextSlot(expression: string, start: number, after: number): number | undefined {
  return nextRun(parseRuleSchedule(expression), { after, start });
}
