import { pageAfterKey } from '../api/pagination.js';
import { ServiceError } from '../model/errors.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import { parseEventBusRecord, parseEventRuleRecord, type EventBusRecord } from '../state/records/events.js';
import { busArn, busNameOf, busNotFound, DEFAULT_BUS, tagsOf, validation, type EventsEnv } from './env.js';

/** The default bus as every account has it (not stored: it cannot be created or deleted). */
export function defaultBus(env: EventsEnv): EventBusRecord {
  return { name: DEFAULT_BUS, arn: busArn(env.scope, DEFAULT_BUS), tags: {}, createdAt: 0, modifiedAt: 0 };
}

/** The bus a request names (name or ARN), or ResourceNotFoundException. */
export async function busNamed(env: EventsEnv, nameOrArn: string | undefined): Promise<EventBusRecord> {
  const name = busNameOf(nameOrArn);
  if (name === DEFAULT_BUS) return defaultBus(env);
  const entry = await env.store.get(eventsKeys.bus(name));
  if (!entry) throw busNotFound(name);
  return parseEventBusRecord(entry.value, entry.key);
}

export async function allBuses(env: EventsEnv): Promise<EventBusRecord[]> {
  const buses = [defaultBus(env)];
  for await (const page of rangePages(env.store, eventsKeys.buses(), 500)) buses.push(...page.map((e) => parseEventBusRecord(e.value, e.key)));
  return buses.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const busOut = (b: EventBusRecord) => ({
  Name: b.name,
  Arn: b.arn,
  ...(b.description !== undefined ? { Description: b.description } : {}),
  ...(b.createdAt > 0 ? { CreationTime: b.createdAt / 1000, LastModifiedTime: b.modifiedAt / 1000 } : {}),
});

export function busOperations(env: EventsEnv) {
  return {
    CreateEventBus: async (input: { Name: string; EventSourceName?: string; Description?: string; Tags?: { Key: string; Value: string }[]; DeadLetterConfig?: unknown; KmsKeyIdentifier?: string }) => {
      if (input.Name === DEFAULT_BUS) throw new ServiceError('ResourceAlreadyExistsException', `Event bus ${DEFAULT_BUS} already exists.`);
      if (input.EventSourceName !== undefined) throw validation('berth has no partner event sources: EventSourceName is not supported.');
      if (input.DeadLetterConfig !== undefined) throw validation('berth does not serve dead-letter queues: DeadLetterConfig is not supported.');
      if (input.KmsKeyIdentifier !== undefined) throw validation('berth does not serve KMS keys: KmsKeyIdentifier is not supported.');
      const now = env.now();
      const record: EventBusRecord = {
        name: input.Name,
        arn: busArn(env.scope, input.Name),
        ...(input.Description !== undefined ? { description: input.Description } : {}),
        tags: tagsOf(input.Tags),
        createdAt: now,
        modifiedAt: now,
      };
      await transact(env.store, async (tx) => {
        if (await tx.get(eventsKeys.bus(input.Name))) throw new ServiceError('ResourceAlreadyExistsException', `Event bus ${input.Name} already exists.`);
        tx.putJson(eventsKeys.bus(input.Name), record);
      });
      return { EventBusArn: record.arn, ...(record.description !== undefined ? { Description: record.description } : {}) };
    },
    DescribeEventBus: async (input: { Name?: string }) => busOut(await busNamed(env, input.Name)),
    ListEventBuses: async (input: { NamePrefix?: string; NextToken?: string; Limit?: number }) => {
      const all = (await allBuses(env)).filter((b) => input.NamePrefix === undefined || b.name.startsWith(input.NamePrefix));
      const { items, next } = pageAfterKey(all, (b) => b.name, input.NextToken, input.Limit ?? 100, () => validation('The NextToken value is invalid.'));
      return { EventBuses: items.map(busOut), ...(next ? { NextToken: next } : {}) };
    },
    DeleteEventBus: async (input: { Name: string }) => {
      if (input.Name === DEFAULT_BUS) throw validation('Cannot delete event bus default.');
      await transact(env.store, async (tx) => {
        // EventBridge deletes a bus only without rules; deleting one that is gone succeeds.
        const rules = await tx.range(eventsKeys.rulesOf(input.Name), { limit: 1 });
        if (rules.entries.length > 0) {
          const rule = parseEventRuleRecord(rules.entries[0]!.value, rules.entries[0]!.key);
          throw validation(`Cannot delete event bus ${input.Name}: it has rules (${rule.name}). Delete its rules first.`);
        }
        if (await tx.get(eventsKeys.bus(input.Name))) tx.delete(eventsKeys.bus(input.Name));
      });
      return {};
    },
  };
}
