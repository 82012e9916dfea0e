import { recordParser } from './codec.js';

/** A schedule group CreateScheduleGroup made (`default` is stored only once it is tagged: it always exists). */
export interface ScheduleGroupRecord {
  readonly name: string;
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly modifiedAt: number;
  /** DeleteScheduleGroup began: its schedules are being deleted (a leader finishes what a crash interrupted). */
  readonly deleting?: boolean;
}

export const parseScheduleGroupRecord = recordParser<ScheduleGroupRecord>('schedule group', { name: 'string', arn: 'string', tags: 'object', createdAt: 'number', modifiedAt: 'number' });

/** A schedule's target in its wire shape (Arn, RoleArn, EcsParameters, Input, RetryPolicy, DeadLetterConfig). */
export type ScheduleTarget = Readonly<Record<string, unknown>> & { readonly Arn: string; readonly RoleArn: string };

export interface ScheduleRecord {
  readonly name: string;
  readonly group: string;
  readonly arn: string;
  readonly expression: string;
  /** IANA name; UTC when the request gave none. */
  readonly timezone: string;
  /** Epoch ms. */
  readonly startDate?: number;
  readonly endDate?: number;
  readonly flexibleWindow: { readonly Mode: 'OFF' | 'FLEXIBLE'; readonly MaximumWindowInMinutes?: number };
  readonly state: 'ENABLED' | 'DISABLED';
  readonly target: ScheduleTarget;
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly description?: string;
  readonly kmsKeyArn?: string;
  /** CreateSchedule's ClientToken: the same request retried answers with this schedule instead of a conflict. */
  readonly clientToken?: string;
  readonly createdAt: number;
  readonly modifiedAt: number;
  /**
   * The next slot (epoch ms, the schedule's own time) and when it fires (the slot plus the flexible window's offset);
   * absent when the schedule has no slot left or is disabled. Indexed under schedulerKeys.next(fireAt, …).
   */
  readonly next?: { readonly slot: number; readonly fireAt: number };
}

export const parseScheduleRecord = recordParser<ScheduleRecord>('schedule', {
  name: 'string',
  group: 'string',
  arn: 'string',
  expression: 'string',
  timezone: 'string',
  flexibleWindow: 'object',
  state: 'string',
  target: 'object',
  actionAfterCompletion: 'string',
  createdAt: 'number',
  modifiedAt: 'number',
});
