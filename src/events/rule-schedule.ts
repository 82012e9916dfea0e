/**
 * Scheduled rules fire once per slot (leader-only, through the dispatcher's pass): a rule's next fire time is a
 * record of its own, and a due slot is claimed in the same transaction that writes its deliveries and moves the
 * record to the next slot after now. A leader killed before the commit fires the slot on its successor; after the
 * commit, the slot is gone: never twice. Slots missed while no leader ran are fired once, not once each, as
 * EventBridge does not catch up on missed invocations. A disabled rule's slots pass without firing.
 */
import type { ArnScope } from '../model/arn.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import type { Store } from '../store/store.js';
import { eventsKeys } from '../state/events-keys.js';
import { envelopeOf } from '../state/event-queue.js';
import { parseEventRuleRecord, parseRuleScheduleRecord, type RuleScheduleRecord } from '../state/records/events.js';
import { addDeliveries } from './deliveries.js';
import { nextSlot } from './rule-expression.js';

/** Fires every scheduled rule whose slot is due at `now`; returns how many fired. */
export async function fireDueSchedules(store: Store, scope: ArnScope, now: number): Promise<number> {
  const due: { key: string; schedule: RuleScheduleRecord }[] = [];
  for await (const page of rangePages(store, eventsKeys.schedules(), 500)) {
    for (const e of page) {
      const schedule = parseRuleScheduleRecord(e.value, e.key);
      if (schedule.nextFireAt <= now) due.push({ key: e.key, schedule });
    }
  }
  let fired = 0;
  for (const { key, schedule } of due) {
    fired += await transact(store, async (tx) => {
      const current = await tx.getRecord(parseRuleScheduleRecord, key);
      if (!current || current.nextFireAt !== schedule.nextFireAt || current.nextFireAt > now) return 0;
      const rule = await tx.getRecord(parseEventRuleRecord, eventsKeys.rule(current.bus, current.rule));
      if (!rule || rule.scheduleExpression !== current.expression) {
        tx.delete(key);
        return 0;
      }
      const next = nextSlot(current.expression, current.start, now);
      if (next === undefined) tx.delete(key);
      else tx.putJson(key, { ...current, nextFireAt: next });
      if (rule.state !== 'ENABLED') return 0;
      const event = envelopeOf(scope, { source: 'aws.events', detailType: 'Scheduled Event', detail: {}, resources: [rule.arn], time: current.nextFireAt }, now);
      addDeliveries(tx, rule, event, now);
      return 1;
    });
  }
  return fired;
}
