import { pageAfterKey } from '../api/pagination.js';
import { ServiceError } from '../model/errors.js';
import { rangePages } from '../store/range-pages.js';
import { readRecord, transact, type Tx } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import { parseEventBusRecord, parseEventRuleRecord, type EventRuleRecord } from '../state/records/events.js';
import { busNameOf, busNotFound, DEFAULT_BUS, MAX_RULES_PER_BUS, ruleArn, ruleNotFound, tagsOf, validation, type EventsEnv } from './env.js';
import { checkedPattern } from './pattern-errors.js';
import { nextSlot, parseRuleSchedule } from './rule-expression.js';

interface PutRuleInput {
  Name: string;
  ScheduleExpression?: string;
  EventPattern?: string;
  State?: EventRuleRecord['state'];
  Description?: string;
  RoleArn?: string;
  Tags?: { Key: string; Value: string }[];
  EventBusName?: string;
}

export function ruleOut(r: EventRuleRecord) {
  return {
    Name: r.name,
    Arn: r.arn,
    ...(r.eventPattern !== undefined ? { EventPattern: r.eventPattern } : {}),
    ...(r.scheduleExpression !== undefined ? { ScheduleExpression: r.scheduleExpression } : {}),
    State: r.state,
    ...(r.description !== undefined ? { Description: r.description } : {}),
    ...(r.roleArn !== undefined ? { RoleArn: r.roleArn } : {}),
    EventBusName: r.bus,
  };
}

/** The rule, read in `tx`, or ResourceNotFoundException. */
export async function ruleIn(tx: Pick<Tx, 'getRecord'>, bus: string, name: string): Promise<EventRuleRecord> {
  const rule = await tx.getRecord(parseEventRuleRecord, eventsKeys.rule(bus, name));
  if (!rule) throw ruleNotFound(name, bus);
  return rule;
}

/** Reads a custom bus in `tx` and writes it back unchanged, so a concurrent DeleteEventBus conflicts with this change. */
async function holdBus(tx: Tx, bus: string): Promise<void> {
  if (bus === DEFAULT_BUS) return;
  const record = await tx.getRecord(parseEventBusRecord, eventsKeys.bus(bus));
  if (!record) throw busNotFound(bus);
  tx.putJson(eventsKeys.bus(bus), record);
}

export async function rulesOf(env: EventsEnv, bus: string): Promise<EventRuleRecord[]> {
  const rules: EventRuleRecord[] = [];
  for await (const page of rangePages(env.store, eventsKeys.rulesOf(bus), 500)) rules.push(...page.map((e) => parseEventRuleRecord(e.value, e.key)));
  return rules;
}

export function ruleOperations(env: EventsEnv) {
  const setState = async (input: { Name: string; EventBusName?: string }, state: EventRuleRecord['state']) => {
    const bus = busNameOf(input.EventBusName);
    await transact(env.store, async (tx) => {
      const rule = await ruleIn(tx, bus, input.Name);
      if (rule.state !== state) tx.putJson(eventsKeys.rule(bus, input.Name), { ...rule, state });
    });
    return {};
  };
  return {
    PutRule: async (input: PutRuleInput) => {
      const bus = busNameOf(input.EventBusName);
      if (input.EventPattern === undefined && input.ScheduleExpression === undefined) throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
      if (input.ScheduleExpression !== undefined) {
        if (bus !== DEFAULT_BUS) throw validation('ScheduleExpression is supported only on the default event bus.');
        parseRuleSchedule(input.ScheduleExpression);
      }
      if (input.EventPattern !== undefined) checkedPattern(input.EventPattern);
      const state = input.State ?? 'ENABLED';
      if (state === 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS') throw validation('berth has no CloudTrail: State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is not supported.');
      const now = env.now();
      const arn = ruleArn(env.scope, bus, input.Name);
      await transact(env.store, async (tx) => {
        await holdBus(tx, bus);
        const key = eventsKeys.rule(bus, input.Name);
        const before = await tx.getRecord(parseEventRuleRecord, key);
        if (!before && (await tx.range(eventsKeys.rulesOf(bus), { limit: MAX_RULES_PER_BUS })).entries.length >= MAX_RULES_PER_BUS) {
          throw new ServiceError('LimitExceededException', `The requested resource exceeds the maximum number allowed: ${MAX_RULES_PER_BUS} rules on event bus ${bus}.`);
        }
        // PutRule replaces the rule's definition; its targets stay, and tags are set only when it is created.
        const record: EventRuleRecord = {
          name: input.Name,
          arn,
          bus,
          ...(input.EventPattern !== undefined ? { eventPattern: input.EventPattern } : {}),
          ...(input.ScheduleExpression !== undefined ? { scheduleExpression: input.ScheduleExpression } : {}),
          state,
          ...(input.Description !== undefined ? { description: input.Description } : {}),
          ...(input.RoleArn !== undefined ? { roleArn: input.RoleArn } : {}),
          targets: before?.targets ?? [],
          tags: before?.tags ?? tagsOf(input.Tags),
          createdAt: before?.createdAt ?? now,
        };
        tx.putJson(key, record);
        const scheduleKey = eventsKeys.schedule(bus, input.Name);
        if (input.ScheduleExpression === undefined) {
          if (before?.scheduleExpression !== undefined) tx.delete(scheduleKey);
        } else if (before?.scheduleExpression !== input.ScheduleExpression) {
          // A new or changed schedule counts from now; an unchanged one keeps its claimed next slot.
          const nextFireAt = nextSlot(input.ScheduleExpression, now, now);
          if (nextFireAt === undefined) throw validation('Parameter ScheduleExpression is not valid: it has no occurrence within a year.');
          tx.putJson(scheduleKey, { bus, rule: input.Name, expression: input.ScheduleExpression, start: now, nextFireAt });
        }
      });
      return { RuleArn: arn };
    },
    DescribeRule: async (input: { Name: string; EventBusName?: string }) => {
      const bus = busNameOf(input.EventBusName);
      const rule = await ruleIn({ getRecord: (parse, key) => readRecord(env.store, parse, key) }, bus, input.Name);
      return { ...ruleOut(rule), CreatedBy: env.scope.accountId };
    },
    ListRules: async (input: { NamePrefix?: string; EventBusName?: string; NextToken?: string; Limit?: number }) => {
      const bus = busNameOf(input.EventBusName);
      if (bus !== DEFAULT_BUS && !(await env.store.get(eventsKeys.bus(bus)))) throw busNotFound(bus);
      const all = (await rulesOf(env, bus)).filter((r) => input.NamePrefix === undefined || r.name.startsWith(input.NamePrefix));
      const { items, next } = pageAfterKey(all, (r) => r.name, input.NextToken, input.Limit ?? 100, () => validation('The NextToken value is invalid.'));
      return { Rules: items.map(ruleOut), ...(next ? { NextToken: next } : {}) };
    },
    EnableRule: (input: { Name: string; EventBusName?: string }) => setState(input, 'ENABLED'),
    DisableRule: (input: { Name: string; EventBusName?: string }) => setState(input, 'DISABLED'),
    DeleteRule: async (input: { Name: string; EventBusName?: string; Force?: boolean }) => {
      const bus = busNameOf(input.EventBusName);
      await transact(env.store, async (tx) => {
        const rule = await tx.getRecord(parseEventRuleRecord, eventsKeys.rule(bus, input.Name));
        // As EventBridge: deleting a rule that is not there succeeds; one with targets is refused.
        if (!rule) return;
        if (rule.targets.length > 0) throw validation('Rule can\'t be deleted since it has targets.');
        tx.delete(eventsKeys.rule(bus, input.Name));
        if (rule.scheduleExpression !== undefined) tx.delete(eventsKeys.schedule(bus, input.Name));
      });
      return {};
    },
  };
}
