import type { GetLogEventsRequest, OutputLogEvent, PutLogEventsRequest } from '@aws-sdk/client-cloudwatch-logs';
import type { LogsEnv } from './env.js';
import { checkBatch } from './put-batch.js';
import { groupOf, sequenceToken, streamOf } from './resolve.js';
import { retentionCutoff } from './retention.js';
import { END, START, type EventRow, type Position } from './storage/events.js';
import { decodeEventToken, encodeEventToken } from './tokens.js';

/** GetLogEvents and FilterLogEvents answer at most this many bytes of messages, as CloudWatch Logs does. */
export const MAX_RESPONSE_BYTES = 1_048_576;

const later = (a: Position, b: Position) => (a.ts > b.ts || (a.ts === b.ts && a.id > b.id) ? a : b);
const earlier = (a: Position, b: Position) => (later(a, b) === a ? b : a);
const positionOf = (e: EventRow): Position => ({ ts: e.ts, id: e.id });

/** The longest run of `rows` (in the order given) whose messages fit in the response. */
export function fitResponse(rows: readonly EventRow[]): EventRow[] {
  let bytes = 0;
  const out: EventRow[] = [];
  for (const row of rows) {
    bytes += Buffer.byteLength(row.message, 'utf8');
    if (bytes > MAX_RESPONSE_BYTES && out.length > 0) break;
    out.push(row);
  }
  return out;
}

/** Writing and reading the events of one stream. */
export function logEventOperations(env: LogsEnv) {
  return {
    async PutLogEvents(input: PutLogEventsRequest) {
      const group = groupOf(env, { logGroupName: input.logGroupName });
      const stream = streamOf(env, group, input.logStreamName!);
      const now = env.now();
      const batch = checkBatch(input.logEvents!, now, group.retentionDays);
      const { accepted } = batch;
      env.db.transaction(() => {
        env.db.events.insert(group.id, stream.id, accepted, now);
        env.db.streams.recordUpload(
          stream.id,
          accepted.length ? { minTs: accepted[0]!.timestamp, maxTs: accepted.at(-1)!.timestamp, bytes: batch.bytes, now } : undefined,
        );
      });
      return {
        nextSequenceToken: sequenceToken(stream.uploads + 1),
        ...(batch.rejected ? { rejectedLogEventsInfo: batch.rejected } : {}),
      };
    },

    /**
     * One page of a stream in time order. Without a token: the oldest page (startFromHead) or the newest.
     * `f/` tokens page forward from after the page's last event, `b/` backward from before its first; when
     * a page is empty the token given comes back unchanged, which is how clients know they are at the end.
     */
    async GetLogEvents(input: GetLogEventsRequest) {
      const group = groupOf(env, input);
      const stream = streamOf(env, group, input.logStreamName!);
      const limit = input.limit ?? 10_000;
      const since = Math.max(input.startTime ?? 0, retentionCutoff(group.retentionDays, env.now()));
      const before = input.endTime ?? Number.MAX_SAFE_INTEGER;
      const token = input.nextToken === undefined ? undefined : decodeEventToken(input.nextToken, stream.id);
      const forward = token ? token.direction === 'f' : (input.startFromHead ?? false);
      const tokenAt = (direction: 'f' | 'b', p: Position) => encodeEventToken(direction, stream.id, p);

      let events: EventRow[];
      let lower: Position;
      if (forward) {
        lower = later(token?.position ?? START, { ts: since, id: 0 });
        events = fitResponse(env.db.events.forward(stream.id, lower, before, limit));
      } else {
        const upper = earlier(token?.position ?? END, { ts: before, id: 0 });
        events = fitResponse(env.db.events.backward(stream.id, upper, since, limit)).reverse();
        lower = { ts: since, id: 0 };
      }
      const first = events[0];
      const last = events.at(-1);
      const same = input.nextToken;
      return {
        events: events.map((e): OutputLogEvent => ({ timestamp: e.ts, message: e.message, ingestionTime: e.ingested })),
        nextForwardToken: last ? tokenAt('f', positionOf(last)) : forward && same ? same : tokenAt('f', lower),
        nextBackwardToken: first ? tokenAt('b', positionOf(first)) : !forward && same ? same : tokenAt('b', lower),
      };
    },
  };
}
