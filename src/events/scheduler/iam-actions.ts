/**
 * EventBridge Scheduler's IAM declarations (Service Authorization Reference, "Actions, resources, and condition keys
 * for Amazon EventBridge Scheduler"): schedule actions on the schedule's ARN (CreateSchedule and UpdateSchedule
 * pass the target's role to scheduler.amazonaws.com: the caller needs iam:PassRole), group actions on the group's,
 * the two lists on `*`, tag actions on the group they name with aws:RequestTag/… and aws:TagKeys.
 */
import type { ArnScope } from '../../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../../api/authz/declarations.js';
import { DEFAULT_GROUP, groupArn, scheduleArn } from './env.js';

type Input = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const sc = (op: string) => `scheduler:${op}`;

const onSchedule = (op: string): ActionDeclaration<Input> => ({
  action: sc(op),
  resources: (input, scope: ArnScope) => (str(input.Name) !== undefined ? [scheduleArn(scope, str(input.GroupName) ?? DEFAULT_GROUP, str(input.Name)!)] : []),
});
const passingRole = (op: string): ActionDeclaration<Input> => ({
  ...onSchedule(op),
  passedRoles: (input) => {
    const role = str((input.Target as { RoleArn?: unknown } | undefined)?.RoleArn);
    return role !== undefined ? [{ roleArn: role, service: 'scheduler.amazonaws.com' }] : [];
  },
});
const onGroup = (op: string): ActionDeclaration<Input> => ({
  action: sc(op),
  resources: (input, scope: ArnScope) => (str(input.Name) !== undefined ? [groupArn(scope, str(input.Name)!)] : []),
  context: (input, _scope, into) => addTagList(into, input.Tags as { Key?: string; Value?: string }[] | undefined),
});
const onArn = (op: string): ActionDeclaration<Input> => ({
  action: sc(op),
  resources: (input) => (str(input.ResourceArn) !== undefined ? [str(input.ResourceArn)!] : []),
  context: (input, _scope, into) => {
    addTagList(into, input.Tags as { Key?: string; Value?: string }[] | undefined);
    if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
  },
});

export const schedulerActions: ActionTable = {
  CreateSchedule: passingRole('CreateSchedule'),
  UpdateSchedule: passingRole('UpdateSchedule'),
  GetSchedule: onSchedule('GetSchedule'),
  DeleteSchedule: onSchedule('DeleteSchedule'),
  ListSchedules: anyResource(sc('ListSchedules')),
  CreateScheduleGroup: onGroup('CreateScheduleGroup'),
  GetScheduleGroup: onGroup('GetScheduleGroup'),
  DeleteScheduleGroup: onGroup('DeleteScheduleGroup'),
  ListScheduleGroups: anyResource(sc('ListScheduleGroups')),
  TagResource: onArn('TagResource'),
  UntagResource: onArn('UntagResource'),
  ListTagsForResource: onArn('ListTagsForResource'),
};
