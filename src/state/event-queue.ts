/**
 * Putting an event on an EventBridge bus's queue, in the caller's transaction: PutEvents' entries, and berth's own
 * ECS events written in the same transaction as the state change they report, so an acknowledged or committed event
 * survives a kill -9 and a change is never reported without having happened. The leader's dispatcher routes the queue.
 */
import { randomUUID } from 'node:crypto';
import type { ArnScope } from '../model/arn.js';
import type { Tx } from '../store/transact.js';
import { eventsKeys } from './events-keys.js';
import type { EventEnvelope, QueuedBatchRecord } from './records/events.js';

export interface NewEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly resources?: readonly string[];
  /** Epoch ms; default the enqueue time. */
  readonly time?: number;
}

/** EventBridge's time format: ISO-8601 to the second. */
export const eventTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export function envelopeOf(scope: ArnScope, event: NewEvent, now: number, id: string = randomUUID()): EventEnvelope {
  return {
    version: '0',
    id,
    'detail-type': event.detailType,
    source: event.source,
    account: scope.accountId,
    time: eventTime(event.time ?? now),
    region: scope.region,
    resources: [...(event.resources ?? [])],
    detail: event.detail,
  };
}

const batches = new WeakMap<object, { key: string; record: QueuedBatchRecord }>();

/**
 * Writes `event` to `bus`'s queue in `tx`; returns the event's id. The events of one transaction share one queue
 * record (rewritten as each joins it: a transaction's writes keep the last value per key).
 */
export function enqueueEvent(tx: Pick<Tx, 'putJson'>, scope: ArnScope, bus: string, event: NewEvent, now: number): string {
  const envelope = envelopeOf(scope, event, now);
  let batch = batches.get(tx);
  if (!batch) {
    batch = { key: eventsKeys.queued(now, envelope.id), record: { enqueuedAt: now, events: [] } };
    batches.set(tx, batch);
  }
  batch.record = { ...batch.record, events: [...batch.record.events, { bus, event: envelope }] };
  tx.putJson(batch.key, batch.record);
  return envelope.id;
}
