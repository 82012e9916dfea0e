/**
 * Schedules fire once per slot (leader-only, from the EventBridge dispatcher's pass):
 *
 *   schedule record .next {slot, fireAt} ══ index scheduler/next/<fireAt>/<group>/<name>
 *        fireAt ≤ now ──► one commit: the delivery (events/deliveries/…, delivered with the target's RetryPolicy by
 *                         the dispatcher), the record moved to its next slot after now (index entry replaced), or
 *                         — no slot left and ActionAfterCompletion DELETE — the schedule deleted
 *
 * The commit reads the record and the index entry, so two leaders racing (a deposed one and its successor) cannot
 * both claim a slot, and a leader killed before the commit leaves the slot to its successor: never twice, never
 * lost. Slots missed while no leader ran collapse into one firing (the first missed slot's), made only if it is
 * not older than the target's MaximumEventAgeInSeconds (default 24 hours) — the window in which EventBridge
 * Scheduler itself keeps trying to deliver an invocation; an older one is dropped and logged. A disabled schedule
 * has no next slot: its slots pass, and enabling it counts from then.
 */
import type { Logger } from 'pino';
import type { Store } from '../../store/store.js';
import { rangePages } from '../../store/range-pages.js';
import { transact, type Tx } from '../../store/transact.js';
import { eventsKeys } from '../../state/events-keys.js';
import { schedulerKeys } from '../../state/scheduler-keys.js';
import type { DeliveryRecord } from '../../state/records/events.js';
import { parseScheduleGroupRecord, parseScheduleRecord, type ScheduleRecord } from '../../state/records/schedules.js';
import { deliveryId } from '../deliveries.js';
import { fireTimeOf, nextSlot, parseScheduleExpression } from './expression.js';
import { deleteSchedule, putSchedule } from './schedule-store.js';
import { eventTargetOf } from './target.js';

/** EventBridge Scheduler's default MaximumEventAgeInSeconds. */
const DEFAULT_MAX_AGE_S = 86_400;

export interface SlotOutcome {
  /** Whether the slot is delivered (false: it is older than the target's maximum event age). */
  readonly deliver: boolean;
  readonly next?: { readonly slot: number; readonly fireAt: number };
  /** The schedule is done and ActionAfterCompletion is DELETE. */
  readonly remove: boolean;
}

/** What firing `record`'s due slot at `now` does (pure). */
export function slotOutcome(record: ScheduleRecord, now: number): SlotOutcome {
  const { slot, fireAt } = record.next!;
  const maxAgeMs = ((record.target.RetryPolicy as { MaximumEventAgeInSeconds?: number } | undefined)?.MaximumEventAgeInSeconds ?? DEFAULT_MAX_AGE_S) * 1000;
  const oneTime = parseScheduleExpression(record.expression).kind === 'at';
  const spec = {
    expression: record.expression,
    timezone: record.timezone,
    since: record.modifiedAt,
    ...(record.startDate !== undefined ? { startDate: record.startDate } : {}),
    ...(record.endDate !== undefined ? { endDate: record.endDate } : {}),
  };
  const nextAt = oneTime ? undefined : nextSlot(spec, Math.max(now, slot));
  const next = nextAt === undefined ? undefined : { slot: nextAt, fireAt: fireTimeOf(nextAt, record.arn, record.flexibleWindow) };
  // Without an EndDate a recurring schedule is never "complete" (User Guide, "Deleting a schedule").
  const remove = next === undefined && record.actionAfterCompletion === 'DELETE' && (oneTime || record.endDate !== undefined);
  return { deliver: now - fireAt <= maxAgeMs, ...(next ? { next } : {}), remove };
}

/** `2022-03-22T18:59:43Z`, as `<aws.scheduler.scheduled-time>` shows a slot. */
export const scheduledTimeText = (slot: number) => new Date(slot).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Writes in `tx` the delivery of `record`'s slot: the same id for the same schedule and slot, whoever writes it. */
function addScheduleDelivery(tx: Pick<Tx, 'putJson'>, record: ScheduleRecord, slot: number, fireAt: number): DeliveryRecord {
  const id = deliveryId(`${record.arn}@${slot}`, 'scheduler', record.group, record.name);
  const delivery: DeliveryRecord = {
    id,
    source: 'scheduler',
    bus: '',
    rule: record.name,
    ruleArn: record.arn,
    roleArn: record.target.RoleArn,
    target: eventTargetOf(record.target),
    event: { id, time: scheduledTimeText(slot) },
    eventAt: fireAt,
    attempts: 0,
    nextAttemptAt: fireAt,
  };
  tx.putJson(eventsKeys.delivery(id), delivery);
  return delivery;
}

/** Fires every schedule whose slot is due at `now`; returns how many slots were delivered. */
export async function fireDueScheduleSlots(store: Store, now: number, log: Logger): Promise<number> {
  const due: string[] = [];
  pages: for await (const page of rangePages(store, schedulerKeys.nexts(), 200)) {
    for (const e of page) {
      if (schedulerKeys.nextTime(e.key) > now) break pages;
      due.push(e.key);
    }
  }
  let fired = 0;
  for (const key of due) {
    const outcome = await transact(store, async (tx) => {
      const entry = await tx.get(key);
      if (!entry) return undefined;
      const { group, name } = JSON.parse(entry.value) as { group: string; name: string };
      const record = await tx.getRecord(parseScheduleRecord, schedulerKeys.schedule(group, name));
      // A stale entry (its schedule deleted, updated or fired meanwhile) is dropped.
      if (!record?.next || schedulerKeys.next(record.next.fireAt, group, name) !== key) {
        tx.delete(key);
        return undefined;
      }
      // A group being deleted takes its schedules with it; none of them fires meanwhile.
      if ((await tx.getRecord(parseScheduleGroupRecord, schedulerKeys.group(group)))?.deleting === true) return undefined;
      const result = slotOutcome(record, now);
      if (result.deliver) addScheduleDelivery(tx, record, record.next.slot, record.next.fireAt);
      if (result.remove) deleteSchedule(tx, record);
      else {
        const { next: _claimed, ...rest } = record;
        putSchedule(tx, result.next ? { ...rest, next: result.next } : rest, record);
      }
      return { record, result };
    });
    if (!outcome) continue;
    const { record, result } = outcome;
    if (result.deliver) fired++;
    else log.warn({ schedule: record.arn, slot: scheduledTimeText(record.next!.slot) }, 'schedule slot dropped: it is older than the target\'s MaximumEventAgeInSeconds');
    if (result.remove) log.info({ schedule: record.arn }, 'schedule completed and deleted (ActionAfterCompletion DELETE)');
  }
  return fired;
}
