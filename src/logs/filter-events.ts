import type { FilteredLogEvent, FilterLogEventsRequest } from '@aws-sdk/client-cloudwatch-logs';
import { invalidParameter } from '../model/errors.js';
import type { LogsEnv } from './env.js';
import { matchesPattern, parseFilterPattern } from './filter-pattern.js';
import { MAX_RESPONSE_BYTES } from './log-events.js';
import { groupOf } from './resolve.js';
import { retentionCutoff } from './retention.js';
import { START, type Position } from './storage/events.js';
import { decodeListToken, encodeListToken } from './tokens.js';

/** Rows read from the database per query while filtering. */
const CHUNK = 2_000;
/**
 * Rows examined per call at most. A rare pattern over a large group then answers with fewer (even no)
 * events and a nextToken, as CloudWatch Logs does, instead of holding the server for a full scan.
 */
export const SCAN_BUDGET = 100_000;

interface FilterState extends Position {
  readonly group: number;
}

const isFilterState = (s: unknown): s is FilterState => {
  const v = s as Partial<FilterState> | undefined;
  return typeof v?.group === 'number' && Number.isSafeInteger(v.ts) && Number.isSafeInteger(v.id);
};

/** FilterLogEvents: a group's events (some or all streams), in time order across streams, matching a pattern. */
export function filterEventOperations(env: LogsEnv) {
  return {
    async FilterLogEvents(input: FilterLogEventsRequest) {
      const group = groupOf(env, input);
      if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined) {
        throw invalidParameter('logStreamNames and logStreamNamePrefix cannot both be specified.');
      }
      const pattern = parseFilterPattern(input.filterPattern ?? '');
      const limit = input.limit ?? 10_000;
      const since = Math.max(input.startTime ?? 0, retentionCutoff(group.retentionDays, env.now()));
      // endTime is inclusive here (GetLogEvents' is exclusive), as in CloudWatch Logs.
      const before = input.endTime === undefined ? Number.MAX_SAFE_INTEGER : input.endTime + 1;

      const names = env.db.streams.namesOf(group.id);
      let streamIds: Set<number> | undefined;
      if (input.logStreamNames !== undefined) {
        const wanted = new Set(input.logStreamNames);
        streamIds = new Set([...names].filter(([, n]) => wanted.has(n)).map(([id]) => id));
      } else if (input.logStreamNamePrefix !== undefined) {
        const prefix = input.logStreamNamePrefix;
        streamIds = new Set([...names].filter(([, n]) => n.startsWith(prefix)).map(([id]) => id));
      }

      let from: Position = { ts: since, id: 0 };
      if (input.nextToken !== undefined) {
        const state = decodeListToken('filter', input.nextToken, isFilterState);
        if (state.group !== group.id) throw invalidParameter('The specified nextToken is invalid.');
        if (state.ts > from.ts || (state.ts === from.ts && state.id > from.id)) from = state;
      }
      // One stream: walk its own index. Several: walk the group's, which is already interleaved by time.
      const only = streamIds?.size === 1 ? [...streamIds][0]! : undefined;
      const read = (after: Position) =>
        only !== undefined ? env.db.events.forward(only, after, before, CHUNK) : env.db.events.groupForward(group.id, after, before, CHUNK);

      const events: FilteredLogEvent[] = [];
      let bytes = 0;
      let scanned = 0;
      let more = streamIds === undefined || streamIds.size > 0;
      let cursor = from;
      scan: while (more) {
        const rows = read(cursor);
        more = rows.length === CHUNK;
        for (const row of rows) {
          if ((!streamIds || streamIds.has(row.streamId)) && matchesPattern(pattern, row.message)) {
            const size = Buffer.byteLength(row.message, 'utf8');
            if (events.length === limit || (bytes + size > MAX_RESPONSE_BYTES && events.length > 0)) {
              more = true; // this row starts the next page
              break scan;
            }
            bytes += size;
            events.push({
              logStreamName: names.get(row.streamId) ?? '',
              timestamp: row.ts,
              message: row.message,
              ingestionTime: row.ingested,
              eventId: String(row.id).padStart(56, '0'),
            });
          }
          cursor = row;
          if (++scanned >= SCAN_BUDGET) {
            more ||= row !== rows.at(-1);
            break scan;
          }
        }
      }
      return {
        events,
        searchedLogStreams: [],
        ...(more ? { nextToken: encodeListToken('filter', { group: group.id, ts: cursor.ts, id: cursor.id }) } : {}),
      };
    },
  };
}
