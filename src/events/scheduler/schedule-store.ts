import type { Tx } from '../../store/transact.js';
import { schedulerKeys } from '../../state/scheduler-keys.js';
import { parseScheduleGroupRecord, parseScheduleRecord, type ScheduleGroupRecord, type ScheduleRecord } from '../../state/records/schedules.js';
import type { ArnScope } from '../../model/arn.js';
import { DEFAULT_GROUP, groupArn, groupNotFound, scheduleNotFound } from './env.js';
import { atInstant, fireTimeOf, nextSlot } from './expression.js';

/** The `default` group as it is before anything is stored for it (it always exists). */
export const defaultGroup = (scope: ArnScope): ScheduleGroupRecord => ({ name: DEFAULT_GROUP, arn: groupArn(scope, DEFAULT_GROUP), tags: {}, createdAt: 0, modifiedAt: 0 });

/** The group, read in `tx` (so a concurrent delete conflicts), or undefined. */
export async function groupIn(tx: Pick<Tx, 'getRecord'>, scope: ArnScope, name: string): Promise<ScheduleGroupRecord | undefined> {
  const stored = await tx.getRecord(parseScheduleGroupRecord, schedulerKeys.group(name));
  return stored ?? (name === DEFAULT_GROUP ? defaultGroup(scope) : undefined);
}

/** The group, which must exist and not be being deleted (ResourceNotFoundException otherwise). */
export async function activeGroupIn(tx: Pick<Tx, 'getRecord'>, scope: ArnScope, name: string): Promise<ScheduleGroupRecord> {
  const group = await groupIn(tx, scope, name);
  if (!group || group.deleting === true) throw groupNotFound(name);
  return group;
}

export async function scheduleIn(tx: Pick<Tx, 'getRecord'>, group: string, name: string): Promise<ScheduleRecord> {
  const schedule = await tx.getRecord(parseScheduleRecord, schedulerKeys.schedule(group, name));
  if (!schedule) throw scheduleNotFound(group, name);
  return schedule;
}

/**
 * The schedule's first slot from `now` on (a rate without StartDate: now itself; an at() whether or not it has
 * passed, so one created or restored late still fires once if its target's MaximumEventAgeInSeconds allows), and
 * when it fires; undefined for a disabled schedule or one with no slot left.
 */
export function firstFiring(record: Omit<ScheduleRecord, 'next'>, now: number): ScheduleRecord['next'] {
  if (record.state !== 'ENABLED') return undefined;
  const spec = { expression: record.expression, timezone: record.timezone, since: now, ...(record.startDate !== undefined ? { startDate: record.startDate } : {}), ...(record.endDate !== undefined ? { endDate: record.endDate } : {}) };
  const slot = atInstant(spec) ?? nextSlot(spec, now - 1);
  return slot === undefined ? undefined : { slot, fireAt: fireTimeOf(slot, record.arn, record.flexibleWindow) };
}

/** Writes `record` in `tx` and keeps its next-fire index entry in step (the old one removed, the new one added). */
export function putSchedule(tx: Pick<Tx, 'putJson' | 'delete'>, record: ScheduleRecord, previous: ScheduleRecord | undefined): void {
  if (previous?.next) tx.delete(schedulerKeys.next(previous.next.fireAt, previous.group, previous.name));
  tx.putJson(schedulerKeys.schedule(record.group, record.name), record);
  if (record.next) tx.putJson(schedulerKeys.next(record.next.fireAt, record.group, record.name), { group: record.group, name: record.name });
}

export function deleteSchedule(tx: Pick<Tx, 'delete'>, record: ScheduleRecord): void {
  if (record.next) tx.delete(schedulerKeys.next(record.next.fireAt, record.group, record.name));
  tx.delete(schedulerKeys.schedule(record.group, record.name));
}
