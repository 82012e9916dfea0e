/**
 * PutEvents and TestEventPattern. PutEvents checks each entry as EventBridge does (a failed entry gets its
 * ErrorCode and ErrorMessage, the others go on), then writes every accepted entry to its bus's queue in one
 * transaction: once the answer is sent, the events are in the store and the leader's dispatcher will route them.
 */
import { transact } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import { enqueueEvent, type NewEvent } from '../state/event-queue.js';
import { busNameOf, DEFAULT_BUS, validation, type EventsEnv } from './env.js';
import { matchesPattern } from './pattern/match.js';
import { checkedPattern } from './pattern-errors.js';

interface PutEventsEntry {
  Time?: number;
  Source?: string;
  Resources?: string[];
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  TraceHeader?: string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The request's total size limit, counted as EventBridge documents it (Time 14 bytes; the strings' UTF-8 bytes). */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

export function entrySize(entry: PutEventsEntry): number {
  const bytes = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));
  return (entry.Time !== undefined ? 14 : 0) + bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail) + (entry.Resources ?? []).reduce((n, r) => n + bytes(r), 0);
}

const failure = (ErrorCode: string, ErrorMessage: string): EntryResult => ({ ErrorCode, ErrorMessage });
const missing = (field: string) => failure('InvalidArgument', `Parameter ${field} is not valid. Reason: ${field} is a required argument.`);

/** The event an entry makes, or why EventBridge refuses the entry. */
function checkEntry(entry: PutEventsEntry): { event: NewEvent } | { fail: EntryResult } {
  if (entry.Source === undefined || entry.Source === '') return { fail: missing('Source') };
  if (entry.DetailType === undefined || entry.DetailType === '') return { fail: missing('DetailType') };
  if (entry.Detail === undefined) return { fail: missing('Detail') };
  if (entry.Source.startsWith('aws.')) return { fail: failure('NotAuthorizedForSourceException', 'Not authorized for the source.') };
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return { fail: failure('MalformedDetail', 'Detail is malformed.') };
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { fail: failure('MalformedDetail', 'Detail is malformed.') };
  if (entry.Time !== undefined && !Number.isFinite(entry.Time)) return { fail: failure('InvalidArgument', 'Parameter Time is not valid.') };
  return {
    event: {
      source: entry.Source,
      detailType: entry.DetailType,
      detail: detail as Record<string, unknown>,
      ...(entry.Resources ? { resources: entry.Resources } : {}),
      ...(entry.Time !== undefined ? { time: entry.Time * 1000 } : {}),
    },
  };
}

const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type'] as const;

export function putEventsOperations(env: EventsEnv) {
  return {
    PutEvents: async (input: { Entries: PutEventsEntry[]; EndpointId?: string }) => {
      if (input.EndpointId !== undefined) throw validation('berth has no global endpoints: EndpointId is not supported.');
      const total = input.Entries.reduce((n, e) => n + entrySize(e), 0);
      if (total > MAX_PUT_EVENTS_BYTES) throw validation(`Total size of the entries in the request is over the limit: ${total} bytes of at most ${MAX_PUT_EVENTS_BYTES}.`);
      const results = await transact(env.store, async (tx) => {
        const now = env.now();
        const out: EntryResult[] = [];
        for (const entry of input.Entries) {
          const checked = checkEntry(entry);
          if ('fail' in checked) {
            out.push(checked.fail);
            continue;
          }
          const bus = busNameOf(entry.EventBusName);
          if (bus !== DEFAULT_BUS && !(await tx.get(eventsKeys.bus(bus)))) {
            out.push(failure('ResourceNotFoundException', `Event bus ${bus} does not exist.`));
            continue;
          }
          out.push({ EventId: enqueueEvent(tx, env.scope, bus, checked.event, now) });
        }
        return out;
      });
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    },
    TestEventPattern: async (input: { EventPattern: string; Event: string }) => {
      const pattern = checkedPattern(input.EventPattern);
      let event: unknown;
      try {
        event = JSON.parse(input.Event);
      } catch {
        throw validation('Parameter Event is not valid. Reason: it is not JSON text.');
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) throw validation('Parameter Event is not valid. Reason: it is not a JSON object.');
      const absent = REQUIRED_EVENT_FIELDS.find((f) => !(f in event));
      if (absent) throw validation(`Parameter Event is not valid. Reason: field ${absent} is missing.`);
      if ((event as Record<string, unknown>).account !== env.scope.accountId) {
        throw validation(`Parameter Event is not valid. Reason: the account must be this account, ${env.scope.accountId}.`);
      }
      return { Result: matchesPattern(pattern, event) };
    },
  };
}

