import type { GetLogEventsRequest, OutputLogEvent, PutLogEventsRequest } from '@aws-sdk/client-cloudwatch-logs';
import type { LogsEnv } from './env.js';
import { checkBatch } from './put-batch.js';
import { groupOf, sequenceToken, streamNotFound, streamOf } from './resolve.js';
import { retentionCutoff } from './retention.js';
import type { EventRow } from './storage/event-merge.js';
import { decodeEventToken, encodeEventToken, type StreamPosition } from './tokens.js';

/** GetLogEvents and FilterLogEvents answer at most this many bytes of messages, as CloudWatch Logs does. */
export const MAX_RESPONSE_BYTES = 1_048_576;

const START: StreamPosition = { ts: 0, seq: 0, idx: 0 };
const END: StreamPosition = { ts: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER, idx: Number.MAX_SAFE_INTEGER };
const compare = (a: StreamPosition, b: StreamPosition) => a.ts - b.ts || a.seq - b.seq || a.idx - b.idx;
const later = (a: StreamPosition, b: StreamPosition) => (compare(a, b) > 0 ? a : b);
const earlier = (a: StreamPosition, b: StreamPosition) => (compare(a, b) < 0 ? a : b);
const positionOf = (e: EventRow): StreamPosition => ({ ts: e.ts, seq: e.seq, idx: e.idx });

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
      const group = await groupOf(env, { logGroupName: input.logGroupName });
      const stream = await streamOf(env, group, input.logStreamName!);
      const now = env.now();
      const batch = checkBatch(input.logEvents!, now, group.retentionDays);
      const stored = await env.storage.events.append(stream, { events: batch.accepted, bytes: batch.bytes, now });
      if (!stored) throw streamNotFound();
      return {
        nextSequenceToken: sequenceToken(stored.uploads),
        ...(batch.rejected ? { rejectedLogEventsInfo: batch.rejected } : {}),
      };
    },

    /**
     * One page of a stream in time order. Without a token: the oldest page (startFromHead) or the newest.
     * `f/` tokens page forward from after the page's last event, `b/` backward from before its first; when
     * a page is empty the token given comes back unchanged, which is how clients know they are at the end.
     */
    GetLogEvents: (input: GetLogEventsRequest) =>
      env.storage.events.retrying(async () => {
        const group = await groupOf(env, input);
        const stream = await streamOf(env, group, input.logStreamName!);
        const limit = input.limit ?? 10_000;
        const since = Math.max(input.startTime ?? 0, retentionCutoff(group.retentionDays, env.now()));
        const before = input.endTime ?? Number.MAX_SAFE_INTEGER;
        const token = input.nextToken === undefined ? undefined : decodeEventToken(input.nextToken, stream.id);
        const forward = token ? token.direction === 'f' : (input.startFromHead ?? false);
        const tokenAt = (direction: 'f' | 'b', p: StreamPosition) => encodeEventToken(direction, stream.id, p);
        const read = (direction: 'forward' | 'backward', from: StreamPosition) =>
          env.storage.events.read([stream], direction, { from: { ...from, streamId: stream.id }, sinceTs: since, beforeTs: before }, limit);

        let events: EventRow[];
        let lower: StreamPosition;
        if (forward) {
          lower = later(token?.position ?? START, { ts: since, seq: 0, idx: 0 });
          events = fitResponse(await read('forward', lower));
        } else {
          const upper = earlier(token?.position ?? END, { ts: before, seq: 0, idx: 0 });
          events = fitResponse(await read('backward', upper)).reverse();
          lower = { ts: since, seq: 0, idx: 0 };
        }
        const first = events[0];
        const last = events.at(-1);
        const same = input.nextToken;
        return {
          events: events.map((e): OutputLogEvent => ({ timestamp: e.ts, message: e.message, ingestionTime: e.ingested })),
          nextForwardToken: last ? tokenAt('f', positionOf(last)) : forward && same ? same : tokenAt('f', lower),
          nextBackwardToken: first ? tokenAt('b', positionOf(first)) : !forward && same ? same : tokenAt('b', lower),
        };
      }),
  };
}
