import type { FilteredLogEvent, FilterLogEventsRequest } from '@aws-sdk/client-cloudwatch-logs';
import { invalidParameter } from '../model/errors.js';
import type { LogsEnv } from './env.js';
import { matchesPattern, parseFilterPattern } from './filter-pattern.js';
import { MAX_RESPONSE_BYTES } from './log-events.js';
import { groupOf } from './resolve.js';
import { retentionCutoff } from './retention.js';
import type { EventPosition } from './storage/event-merge.js';
import { SEQ_DIGITS } from './storage/keys.js';
import { decodeListToken, encodeListToken } from './tokens.js';

/**
 * Events examined per call at most. A rare pattern over a large group then answers with fewer (even no)
 * events and a nextToken, as CloudWatch Logs does, instead of holding the server for a full scan.
 */
export const SCAN_BUDGET = 100_000;

interface FilterState extends EventPosition {
  readonly group: string;
}

const isFilterState = (s: unknown): s is FilterState => {
  const v = s as Partial<FilterState> | undefined;
  return (
    typeof v?.group === 'string' &&
    typeof v.streamId === 'string' &&
    Number.isSafeInteger(v.ts) &&
    Number.isSafeInteger(v.seq) &&
    Number.isSafeInteger(v.idx)
  );
};

const eventId = (p: EventPosition) => `${p.streamId}${String(p.seq).padStart(SEQ_DIGITS, '0')}${String(p.idx).padStart(5, '0')}`.padStart(56, '0');

/** FilterLogEvents: a group's events (some or all streams), in time order across streams, matching a pattern. */
export function filterEventOperations(env: LogsEnv) {
  return {
    FilterLogEvents: (input: FilterLogEventsRequest) =>
      env.storage.events.retrying(async () => {
        const group = await groupOf(env, input);
        if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined) {
          throw invalidParameter('logStreamNames and logStreamNamePrefix cannot both be specified.');
        }
        const pattern = parseFilterPattern(input.filterPattern ?? '');
        const limit = input.limit ?? 10_000;
        const since = Math.max(input.startTime ?? 0, retentionCutoff(group.retentionDays, env.now()));
        // endTime is inclusive here (GetLogEvents' is exclusive), as in CloudWatch Logs.
        const before = input.endTime === undefined ? Number.MAX_SAFE_INTEGER : input.endTime + 1;

        let from: EventPosition = { ts: since, streamId: '', seq: 0, idx: 0 };
        if (input.nextToken !== undefined) {
          const state = decodeListToken('filter', input.nextToken, isFilterState);
          if (state.group !== group.id) throw invalidParameter('The specified nextToken is invalid.');
          if (state.ts >= from.ts) from = { ts: state.ts, streamId: state.streamId, seq: state.seq, idx: state.idx };
        }
        let streams = await env.storage.streams.all(group.id);
        if (input.logStreamNames !== undefined) {
          const wanted = new Set(input.logStreamNames);
          streams = streams.filter((s) => wanted.has(s.name));
        } else if (input.logStreamNamePrefix !== undefined) {
          const prefix = input.logStreamNamePrefix;
          streams = streams.filter((s) => s.name.startsWith(prefix));
        }
        // Streams without events at or after the start need not have their chunk index read.
        streams = streams.filter((s) => s.firstEventMs !== null && s.lastEventMs >= from.ts);
        const names = new Map(streams.map((s) => [s.id, s.name]));
        const merge = await env.storage.events.merge(streams, 'forward', { from, sinceTs: since, beforeTs: before });

        const events: FilteredLogEvent[] = [];
        let bytes = 0;
        let scanned = 0;
        let more = false;
        let cursor = from;
        for (;;) {
          const row = merge.next();
          if (row instanceof Promise) {
            await row;
            continue;
          }
          if (row === undefined) break;
          if (matchesPattern(pattern, row.message)) {
            const size = Buffer.byteLength(row.message, 'utf8');
            if (events.length === limit || (bytes + size > MAX_RESPONSE_BYTES && events.length > 0)) {
              more = true; // this event starts the next page
              break;
            }
            bytes += size;
            events.push({
              logStreamName: names.get(row.streamId) ?? '',
              timestamp: row.ts,
              message: row.message,
              ingestionTime: row.ingested,
              eventId: eventId(row),
            });
          }
          cursor = row;
          if (++scanned >= SCAN_BUDGET) {
            more = true;
            break;
          }
        }
        const state: FilterState = { group: group.id, ts: cursor.ts, streamId: cursor.streamId, seq: cursor.seq, idx: cursor.idx };
        return { events, searchedLogStreams: [], ...(more ? { nextToken: encodeListToken('filter', state) } : {}) };
      }),
  };
}
