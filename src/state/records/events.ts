import { recordParser } from './codec.js';

/** An event bus CreateEventBus made (the default bus is not stored: it always exists). */
export interface EventBusRecord {
  readonly name: string;
  readonly arn: string;
  readonly description?: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly modifiedAt: number;
}

export const parseEventBusRecord = recordParser<EventBusRecord>('event bus', { name: 'string', arn: 'string', tags: 'object', createdAt: 'number' });

/** A target as PutTargets gave it, in its wire shape (Id, Arn, RoleArn, Input…, EcsParameters, RetryPolicy). */
export type EventTarget = Readonly<Record<string, unknown>> & { readonly Id: string; readonly Arn: string };

export interface EventRuleRecord {
  readonly name: string;
  readonly arn: string;
  readonly bus: string;
  readonly eventPattern?: string;
  readonly scheduleExpression?: string;
  readonly state: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
  readonly description?: string;
  readonly roleArn?: string;
  readonly targets: readonly EventTarget[];
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: number;
}

export const parseEventRuleRecord = recordParser<EventRuleRecord>('event rule', {
  name: 'string',
  arn: 'string',
  bus: 'string',
  state: 'string',
  targets: 'array',
  tags: 'object',
  createdAt: 'number',
});

/** A scheduled rule's next slot (epoch ms) and the expression it was computed from. */
export interface RuleScheduleRecord {
  readonly bus: string;
  readonly rule: string;
  readonly expression: string;
  /** Epoch ms the schedule counts from (rate) and the rule was created or rescheduled at. */
  readonly start: number;
  readonly nextFireAt: number;
}

export const parseRuleScheduleRecord = recordParser<RuleScheduleRecord>('rule schedule', { bus: 'string', rule: 'string', expression: 'string', start: 'number', nextFireAt: 'number' });

/** An event in EventBridge's envelope (version, id, detail-type, source, account, time, region, resources, detail). */
export type EventEnvelope = Readonly<Record<string, unknown>> & { readonly id: string; readonly time: string };

/**
 * The events one transaction put on the buses (PutEvents' entries, the task changes one commit made), awaiting
 * routing: one record a transaction, so emitting events adds one write to a commit however many it reports.
 */
export interface QueuedBatchRecord {
  readonly enqueuedAt: number;
  readonly events: readonly { readonly bus: string; readonly event: EventEnvelope }[];
}

export const parseQueuedBatchRecord = recordParser<QueuedBatchRecord>('queued events', { enqueuedAt: 'number', events: 'array' });

/**
 * One event owed to one target of one rule, or one slot of an EventBridge Scheduler schedule owed to its target
 * (`source` 'scheduler': `rule` and `ruleArn` are then the schedule's name and ARN, `event` carries the slot's time).
 */
export interface DeliveryRecord {
  readonly id: string;
  readonly source?: 'scheduler';
  readonly bus: string;
  readonly rule: string;
  readonly ruleArn: string;
  readonly roleArn?: string;
  readonly target: EventTarget;
  readonly event: EventEnvelope;
  /** When the event entered EventBridge (epoch ms): MaximumEventAgeInSeconds counts from here. */
  readonly eventAt: number;
  /** Attempts made so far. */
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError?: string;
}

export const parseDeliveryRecord = recordParser<DeliveryRecord>('event delivery', {
  id: 'string',
  bus: 'string',
  rule: 'string',
  target: 'object',
  event: 'object',
  eventAt: 'number',
  attempts: 'number',
  nextAttemptAt: 'number',
});
