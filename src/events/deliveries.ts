import { createHash } from 'node:crypto';
import type { Tx } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import type { DeliveryRecord, EventEnvelope, EventRuleRecord } from '../state/records/events.js';

/** A delivery's id: the same for the same event, rule and target, so routing an event twice owes it once. */
export function deliveryId(eventId: string, bus: string, rule: string, targetId: string): string {
  return createHash('sha256').update(`${eventId}\n${bus}\n${rule}\n${targetId}`).digest('hex').slice(0, 40);
}

/** Writes in `tx` one delivery per target of `rule` for `event`. */
export function addDeliveries(tx: Pick<Tx, 'putJson'>, rule: EventRuleRecord, event: EventEnvelope, eventAt: number): void {
  for (const target of rule.targets) {
    const id = deliveryId(event.id, rule.bus, rule.name, target.Id);
    const record: DeliveryRecord = {
      id,
      bus: rule.bus,
      rule: rule.name,
      ruleArn: rule.arn,
      ...(target.RoleArn !== undefined ? { roleArn: target.RoleArn as string } : rule.roleArn !== undefined ? { roleArn: rule.roleArn } : {}),
      target,
      event,
      eventAt,
      attempts: 0,
      nextAttemptAt: eventAt,
    };
    tx.putJson(eventsKeys.delivery(id), record);
  }
}
