import { randomUUID } from 'node:crypto';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import { parseScalableTargetRecord, parseScheduledActionRecord, type ScheduledActionRecord } from '../state/records/autoscaling.js';
import { scalingKeys } from '../state/scaling-keys.js';
import { checkTarget, ECS_DESIRED_COUNT, noTarget, objectNotFound, validation, type AutoScalingEnv } from './env.js';
import { pageList } from './paging.js';
import { parseSchedule, ScheduleError, validTimezone } from './schedule.js';
import { targetKey } from './targets.js';

interface PutInput {
  ServiceNamespace: string;
  Schedule?: string;
  Timezone?: string;
  ScheduledActionName: string;
  ResourceId: string;
  ScalableDimension: string;
  StartTime?: number;
  EndTime?: number;
  ScalableTargetAction?: { MinCapacity?: number; MaxCapacity?: number };
}

export const scheduledKey = (resourceId: string, name: string) => scalingKeys.scheduled('ecs', ECS_DESIRED_COUNT, resourceId, name);

export function scheduledOut(a: ScheduledActionRecord): object {
  return {
    ScheduledActionName: a.scheduledActionName,
    ScheduledActionARN: a.scheduledActionArn,
    ServiceNamespace: a.serviceNamespace,
    Schedule: a.schedule,
    ...(a.timezone !== undefined ? { Timezone: a.timezone } : {}),
    ResourceId: a.resourceId,
    ScalableDimension: a.scalableDimension,
    ...(a.startTime !== undefined ? { StartTime: a.startTime / 1000 } : {}),
    ...(a.endTime !== undefined ? { EndTime: a.endTime / 1000 } : {}),
    ScalableTargetAction: a.scalableTargetAction,
    CreationTime: a.createdAt / 1000,
  };
}

export function scheduledOperations(env: AutoScalingEnv) {
  return {
    PutScheduledAction: async (input: PutInput) => {
      checkTarget(input);
      const now = env.now();
      const key = scheduledKey(input.ResourceId, input.ScheduledActionName);
      if (input.Timezone !== undefined && !validTimezone(input.Timezone)) throw validation(`Timezone ${input.Timezone} is not a valid IANA time zone.`);
      if (input.StartTime !== undefined && input.EndTime !== undefined && input.EndTime <= input.StartTime) throw validation('EndTime must be later than StartTime.');
      const action = input.ScalableTargetAction;
      if (action?.MinCapacity !== undefined && action.MaxCapacity !== undefined && action.MinCapacity > action.MaxCapacity) {
        throw validation(`Minimum capacity (${action.MinCapacity}) cannot be greater than maximum capacity (${action.MaxCapacity}).`);
      }
      await transact(env.store, async (tx) => {
        if (!(await tx.getRecord(parseScalableTargetRecord, targetKey(input.ResourceId)))) throw noTarget(input.ResourceId, input.ScalableDimension);
        const before = await tx.getRecord(parseScheduledActionRecord, key);
        const schedule = input.Schedule ?? before?.schedule;
        if (schedule === undefined) throw validation('Schedule is required when creating a scheduled action.');
        try {
          parseSchedule(schedule);
        } catch (error) {
          if (error instanceof ScheduleError) throw validation(`Invalid schedule ${schedule}: ${error.message}`);
          throw error;
        }
        const targetAction = action ?? before?.scalableTargetAction;
        if (!targetAction || (targetAction.MinCapacity === undefined && targetAction.MaxCapacity === undefined)) {
          throw validation('ScalableTargetAction must set MinCapacity, MaxCapacity or both.');
        }
        const { lastRunFor: _l, timezone: _t, startTime: _s, endTime: _e, ...kept } = before ?? ({} as ScheduledActionRecord);
        const record: ScheduledActionRecord = {
          ...kept,
          scheduledActionName: input.ScheduledActionName,
          scheduledActionArn:
            before?.scheduledActionArn ??
            `arn:aws:autoscaling:${env.scope.region}:${env.scope.accountId}:scheduledAction:${randomUUID()}:resource/ecs/${input.ResourceId}:scheduledActionName/${input.ScheduledActionName}`,
          serviceNamespace: 'ecs',
          resourceId: input.ResourceId,
          scalableDimension: ECS_DESIRED_COUNT,
          schedule,
          ...(input.Timezone !== undefined ? { timezone: input.Timezone } : before?.timezone !== undefined ? { timezone: before.timezone } : {}),
          ...(input.StartTime !== undefined ? { startTime: input.StartTime * 1000 } : {}),
          ...(input.EndTime !== undefined ? { endTime: input.EndTime * 1000 } : {}),
          scalableTargetAction: targetAction,
          // A changed schedule counts from now: occurrences before the change are not run late.
          createdAt: before?.createdAt ?? now,
          ...(before ? { lastRunFor: now } : {}),
        };
        tx.putJson(key, record);
      });
      return {};
    },
    DescribeScheduledActions: async (input: { ScheduledActionNames?: string[]; ServiceNamespace: string; ResourceId?: string; ScalableDimension?: string; MaxResults?: number; NextToken?: string }) => {
      checkTarget(input);
      const prefix = input.ResourceId !== undefined ? scalingKeys.scheduledOf('ecs', ECS_DESIRED_COUNT, input.ResourceId) : scalingKeys.scheduledAll();
      const all: ScheduledActionRecord[] = [];
      for await (const page of rangePages(env.store, prefix, 500)) {
        for (const e of page) {
          const a = parseScheduledActionRecord(e.value, e.key);
          if (input.ScheduledActionNames && !input.ScheduledActionNames.includes(a.scheduledActionName)) continue;
          all.push(a);
        }
      }
      const { items, next } = pageList(all, input);
      return { ScheduledActions: items.map(scheduledOut), ...(next ? { NextToken: next } : {}) };
    },
    DeleteScheduledAction: async (input: { ServiceNamespace: string; ScheduledActionName: string; ResourceId: string; ScalableDimension: string }) => {
      checkTarget(input);
      await transact(env.store, async (tx) => {
        const key = scheduledKey(input.ResourceId, input.ScheduledActionName);
        if (!(await tx.get(key))) throw objectNotFound(`No scheduled action found for service namespace: ecs, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, scheduled action name: ${input.ScheduledActionName}`);
        tx.delete(key);
      });
      return {};
    },
  };
}
