import { pageAfterKey } from '../../api/pagination.js';
import { rangePages } from '../../store/range-pages.js';
import { readRecord, transact } from '../../store/transact.js';
import type { EventsEnv } from '../env.js';
import { schedulerKeys } from '../../state/scheduler-keys.js';
import { parseScheduleRecord, type ScheduleRecord, type ScheduleTarget } from '../../state/records/schedules.js';
import { conflict, DEFAULT_GROUP, scheduleArn, scheduleNotFound, seconds, validation } from './env.js';
import { checkTimezone, parseScheduleExpression } from './expression.js';
import { activeGroupIn, deleteSchedule, firstFiring, putSchedule, scheduleIn } from './schedule-store.js';
import { checkScheduleTarget } from './target.js';

/** CreateSchedule's and UpdateSchedule's input (timestamps in epoch seconds, as the protocol carries them). */
export interface ScheduleInput {
  Name: string;
  GroupName?: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  State?: 'ENABLED' | 'DISABLED';
  Target: ScheduleTarget;
  ActionAfterCompletion?: 'NONE' | 'DELETE';
  Description?: string;
  KmsKeyArn?: string;
  ClientToken?: string;
}

/** How far in the past a StartDate may lie (EventBridge Scheduler refuses one earlier than five minutes ago). */
const START_DATE_SLACK_MS = 5 * 60_000;

/** The schedule a valid request describes (everything but its times of record and next firing), or ValidationException naming the field. */
function definitionOf(env: EventsEnv, input: ScheduleInput, now: number): Omit<ScheduleRecord, 'createdAt' | 'modifiedAt' | 'next'> {
  const schedule = parseScheduleExpression(input.ScheduleExpression);
  const timezone = input.ScheduleExpressionTimezone ?? 'UTC';
  checkTimezone(timezone);
  const startDate = input.StartDate === undefined ? undefined : Math.round(input.StartDate * 1000);
  const endDate = input.EndDate === undefined ? undefined : Math.round(input.EndDate * 1000);
  if (schedule.kind !== 'at') {
    if (startDate !== undefined && startDate < now - START_DATE_SLACK_MS) throw validation('The StartDate you specify cannot be earlier than 5 minutes prior to the current time.');
    if (endDate !== undefined && endDate <= now) throw validation('The EndDate you specify cannot be earlier than the current time.');
    if (startDate !== undefined && endDate !== undefined && endDate <= startDate) throw validation('The EndDate you specify must be after the StartDate.');
  }
  const window = input.FlexibleTimeWindow;
  if (window.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined) throw validation('FlexibleTimeWindow.MaximumWindowInMinutes is required when FlexibleTimeWindow.Mode is FLEXIBLE.');
  if (window.Mode === 'OFF' && window.MaximumWindowInMinutes !== undefined) throw validation('FlexibleTimeWindow.MaximumWindowInMinutes must not be set when FlexibleTimeWindow.Mode is OFF.');
  checkScheduleTarget(input.Target);
  const group = input.GroupName ?? DEFAULT_GROUP;
  return {
    name: input.Name,
    group,
    arn: scheduleArn(env.scope, group, input.Name),
    expression: input.ScheduleExpression.trim(),
    timezone,
    ...(startDate !== undefined ? { startDate } : {}),
    ...(endDate !== undefined ? { endDate } : {}),
    flexibleWindow: window.Mode === 'FLEXIBLE' ? { Mode: 'FLEXIBLE', MaximumWindowInMinutes: window.MaximumWindowInMinutes! } : { Mode: 'OFF' },
    state: input.State ?? 'ENABLED',
    target: input.Target,
    actionAfterCompletion: input.ActionAfterCompletion ?? 'NONE',
    ...(input.Description !== undefined ? { description: input.Description } : {}),
    ...(input.KmsKeyArn !== undefined ? { kmsKeyArn: input.KmsKeyArn } : {}),
  };
}

export function scheduleOut(r: ScheduleRecord) {
  return {
    Arn: r.arn,
    Name: r.name,
    GroupName: r.group,
    ScheduleExpression: r.expression,
    ScheduleExpressionTimezone: r.timezone,
    ...(r.startDate !== undefined ? { StartDate: seconds(r.startDate) } : {}),
    ...(r.endDate !== undefined ? { EndDate: seconds(r.endDate) } : {}),
    FlexibleTimeWindow: r.flexibleWindow,
    State: r.state,
    Target: r.target,
    ActionAfterCompletion: r.actionAfterCompletion,
    ...(r.description !== undefined ? { Description: r.description } : {}),
    ...(r.kmsKeyArn !== undefined ? { KmsKeyArn: r.kmsKeyArn } : {}),
    CreationDate: seconds(r.createdAt),
    LastModificationDate: seconds(r.modifiedAt),
  };
}

export function scheduleOperations(env: EventsEnv) {
  return {
    CreateSchedule: async (input: ScheduleInput) => {
      const now = env.now();
      const definition = definitionOf(env, input, now);
      return transact(env.store, async (tx) => {
        await activeGroupIn(tx, env.scope, definition.group);
        const existing = await tx.getRecord(parseScheduleRecord, schedulerKeys.schedule(definition.group, definition.name));
        if (existing) {
          if (input.ClientToken !== undefined && existing.clientToken === input.ClientToken) return { ScheduleArn: existing.arn };
          throw conflict(`Schedule ${definition.name} already exists.`);
        }
        const record: ScheduleRecord = { ...definition, ...(input.ClientToken !== undefined ? { clientToken: input.ClientToken } : {}), createdAt: now, modifiedAt: now };
        const next = firstFiring(record, now);
        putSchedule(tx, next ? { ...record, next } : record, undefined);
        return { ScheduleArn: record.arn };
      });
    },
    /** A full replacement, as the API documents: members left out take their defaults, not their old values. */
    UpdateSchedule: async (input: ScheduleInput) => {
      const now = env.now();
      const definition = definitionOf(env, input, now);
      return transact(env.store, async (tx) => {
        await activeGroupIn(tx, env.scope, definition.group);
        const previous = await scheduleIn(tx, definition.group, definition.name);
        const record: ScheduleRecord = { ...definition, ...(previous.clientToken !== undefined ? { clientToken: previous.clientToken } : {}), createdAt: previous.createdAt, modifiedAt: now };
        const next = firstFiring(record, now);
        putSchedule(tx, next ? { ...record, next } : record, previous);
        return { ScheduleArn: record.arn };
      });
    },
    GetSchedule: async (input: { Name: string; GroupName?: string }) => {
      const group = input.GroupName ?? DEFAULT_GROUP;
      const record = await readRecord(env.store, parseScheduleRecord, schedulerKeys.schedule(group, input.Name));
      if (!record) throw scheduleNotFound(group, input.Name);
      return scheduleOut(record);
    },
    DeleteSchedule: async (input: { Name: string; GroupName?: string }) => {
      const group = input.GroupName ?? DEFAULT_GROUP;
      await transact(env.store, async (tx) => deleteSchedule(tx, await scheduleIn(tx, group, input.Name)));
      return {};
    },
    ListSchedules: async (input: { GroupName?: string; NamePrefix?: string; State?: 'ENABLED' | 'DISABLED'; MaxResults?: number; NextToken?: string }) => {
      if (input.GroupName !== undefined) await transact(env.store, (tx) => activeGroupIn(tx, env.scope, input.GroupName!));
      const all: ScheduleRecord[] = [];
      const prefix = input.GroupName !== undefined ? schedulerKeys.schedulesOf(input.GroupName) : schedulerKeys.schedules();
      for await (const page of rangePages(env.store, prefix, 500)) {
        for (const e of page) {
          const r = parseScheduleRecord(e.value, e.key);
          if ((input.NamePrefix === undefined || r.name.startsWith(input.NamePrefix)) && (input.State === undefined || r.state === input.State)) all.push(r);
        }
      }
      const { items, next } = pageAfterKey(all, (r) => `${r.group}/${r.name}`, input.NextToken, input.MaxResults ?? 100, () => validation('Invalid NextToken.'));
      return {
        Schedules: items.map((r) => ({
          Arn: r.arn,
          Name: r.name,
          GroupName: r.group,
          State: r.state,
          Target: { Arn: r.target.Arn },
          CreationDate: seconds(r.createdAt),
          LastModificationDate: seconds(r.modifiedAt),
        })),
        ...(next ? { NextToken: next } : {}),
      };
    },
  };
}
