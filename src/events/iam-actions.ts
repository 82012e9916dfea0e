/**
 * EventBridge's IAM declarations (Service Authorization Reference, "Actions, resources, and condition keys for
 * Amazon EventBridge"): rule actions on the rule's ARN, bus actions on the bus's, PutEvents on the buses its entries
 * name (with events:source and events:detail-type), list actions and TestEventPattern on `*`; PutTargets passes each
 * target's role to events.amazonaws.com; tag actions act on the ARN they name, with aws:RequestTag/… and aws:TagKeys.
 */
import type { ArnScope } from '../model/arn.js';
import { addTagKeys, addTagList, anyResource, type ActionDeclaration, type ActionTable } from '../api/authz/declarations.js';
import { busArn, busNameOf, ruleArn } from './env.js';

type Input = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const ev = (op: string) => `events:${op}`;

const onRule = (op: string, field: 'Name' | 'Rule'): ActionDeclaration<Input> => ({
  action: ev(op),
  resources: (input, scope: ArnScope) => (str(input[field]) !== undefined ? [ruleArn(scope, busNameOf(str(input.EventBusName)), str(input[field])!)] : []),
  context: (input, _scope, into) => addTagList(into, input.Tags as { Key?: string; Value?: string }[] | undefined),
});
const onBus = (op: string): ActionDeclaration<Input> => ({
  action: ev(op),
  resources: (input, scope: ArnScope) => [busArn(scope, busNameOf(str(input.Name)))],
  context: (input, _scope, into) => addTagList(into, input.Tags as { Key?: string; Value?: string }[] | undefined),
});
const onArn = (op: string): ActionDeclaration<Input> => ({
  action: ev(op),
  resources: (input) => (str(input.ResourceARN) !== undefined ? [str(input.ResourceARN)!] : []),
  context: (input, _scope, into) => {
    addTagList(into, input.Tags as { Key?: string; Value?: string }[] | undefined);
    if (Array.isArray(input.TagKeys)) addTagKeys(into, input.TagKeys as string[]);
  },
});

const putTargets: ActionDeclaration<Input> = {
  ...onRule('PutTargets', 'Rule'),
  passedRoles: (input) =>
    ((input.Targets as { RoleArn?: string }[] | undefined) ?? []).flatMap((t) => (t.RoleArn !== undefined ? [{ roleArn: t.RoleArn, service: 'events.amazonaws.com' }] : [])),
};

const putEvents: ActionDeclaration<Input> = {
  action: ev('PutEvents'),
  resources: (input, scope: ArnScope) => [...new Set(((input.Entries as Input[] | undefined) ?? []).map((e) => busArn(scope, busNameOf(str(e.EventBusName)))))],
  context: (input, _scope, into) => {
    const entries = (input.Entries as Input[] | undefined) ?? [];
    into.set('events:source', [...new Set(entries.flatMap((e) => (str(e.Source) !== undefined ? [str(e.Source)!] : [])))]);
    into.set('events:detail-type', [...new Set(entries.flatMap((e) => (str(e.DetailType) !== undefined ? [str(e.DetailType)!] : [])))]);
  },
};

export const eventsActions: ActionTable = {
  CreateEventBus: onBus('CreateEventBus'),
  DescribeEventBus: onBus('DescribeEventBus'),
  DeleteEventBus: onBus('DeleteEventBus'),
  ListEventBuses: anyResource(ev('ListEventBuses')),
  PutRule: onRule('PutRule', 'Name'),
  DescribeRule: onRule('DescribeRule', 'Name'),
  ListRules: anyResource(ev('ListRules')),
  EnableRule: onRule('EnableRule', 'Name'),
  DisableRule: onRule('DisableRule', 'Name'),
  DeleteRule: onRule('DeleteRule', 'Name'),
  PutTargets: putTargets,
  RemoveTargets: onRule('RemoveTargets', 'Rule'),
  ListTargetsByRule: onRule('ListTargetsByRule', 'Rule'),
  ListRuleNamesByTarget: anyResource(ev('ListRuleNamesByTarget')),
  PutEvents: putEvents,
  TestEventPattern: anyResource(ev('TestEventPattern')),
  TagResource: onArn('TagResource'),
  UntagResource: onArn('UntagResource'),
  ListTagsForResource: onArn('ListTagsForResource'),
};
