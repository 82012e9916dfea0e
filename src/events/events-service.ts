import type { JsonService, Operation } from '../api/protocol/json-rpc.js';
import { loadServiceModel } from '../api/protocol/service-model.js';
import { ServiceError } from '../model/errors.js';
import { transact } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import { parseEventBusRecord, parseEventRuleRecord } from '../state/records/events.js';
import { busOperations } from './buses.js';
import { DEFAULT_BUS, notFound, tagList, tagsOf, validation, type EventsEnv } from './env.js';
import { eventsActions } from './iam-actions.js';
import { putEventsOperations } from './put-events.js';
import { ruleOperations } from './rules.js';
import { targetOperations } from './targets.js';

export const EVENTS_TARGET_PREFIX = 'AWSEvents';
const MAX_TAGS = 50;

/**
 * Amazon EventBridge (AWS JSON 1.1, `AWSEvents`, signed for `events`): event buses, rules with event patterns or
 * schedules, ECS targets, PutEvents and TestEventPattern, tags. Routing and delivery run on the leader
 * (dispatcher.ts, rule-schedule.ts); see docs/events.md.
 */
export function eventsService(env: EventsEnv): JsonService {
  const operations: Record<string, Operation> = {
    ...(busOperations(env) as Record<string, Operation>),
    ...(ruleOperations(env) as Record<string, Operation>),
    ...(targetOperations(env) as Record<string, Operation>),
    ...(putEventsOperations(env) as Record<string, Operation>),
    ListTagsForResource: async (input: { ResourceARN: string }) => {
      const found = await taggable(env, input.ResourceARN);
      const entry = await env.store.get(found.key);
      if (!entry) throw notFound(`Resource ${input.ResourceARN} does not exist.`);
      return { Tags: tagList(found.parse(entry.value, entry.key).tags) };
    },
    TagResource: async (input: { ResourceARN: string; Tags: { Key: string; Value: string }[] }) => {
      await changeTags(env, input.ResourceARN, (tags) => ({ ...tags, ...tagsOf(input.Tags) }));
      return {};
    },
    UntagResource: async (input: { ResourceARN: string; TagKeys: string[] }) => {
      await changeTags(env, input.ResourceARN, (tags) => Object.fromEntries(Object.entries(tags).filter(([k]) => !input.TagKeys.includes(k))));
      return {};
    },
  };
  return {
    targetPrefix: EVENTS_TARGET_PREFIX,
    signingNames: ['events'],
    model: loadServiceModel('events-2015-10-07.json'),
    operations,
    actions: eventsActions,
    inputErrorType: 'ValidationException',
  };
}

type Tagged = { tags: Readonly<Record<string, string>> };

/** The record an ARN names: a rule or a custom bus (the default bus takes no tags in berth). */
async function taggable(env: EventsEnv, arn: string): Promise<{ key: string; parse: (value: string, key: string) => Tagged }> {
  const m = /^arn:aws[\w-]*:events:([^:]+):(\d{12}):(rule|event-bus)\/(.+)$/.exec(arn);
  if (!m) throw validation(`${arn} is not an EventBridge rule or event bus ARN.`);
  if (m[1] !== env.scope.region || m[2] !== env.scope.accountId) throw notFound(`Resource ${arn} does not exist.`);
  const rest = m[4]!;
  if (m[3] === 'event-bus') {
    if (rest === DEFAULT_BUS) throw validation('berth keeps no tags on the default event bus.');
    return { key: eventsKeys.bus(rest), parse: parseEventBusRecord };
  }
  const slash = rest.lastIndexOf('/');
  const [bus, name] = slash < 0 ? [DEFAULT_BUS, rest] : [rest.slice(0, slash), rest.slice(slash + 1)];
  return { key: eventsKeys.rule(bus, name), parse: parseEventRuleRecord };
}

async function changeTags(env: EventsEnv, arn: string, change: (tags: Readonly<Record<string, string>>) => Record<string, string>): Promise<void> {
  const found = await taggable(env, arn);
  await transact(env.store, async (tx) => {
    const record = await tx.getRecord(found.parse, found.key);
    if (!record) throw notFound(`Resource ${arn} does not exist.`);
    const tags = change(record.tags);
    if (Object.keys(tags).length > MAX_TAGS) throw new ServiceError('LimitExceededException', `A resource can have at most ${MAX_TAGS} tags.`);
    tx.putJson(found.key, { ...record, tags });
  });
}
