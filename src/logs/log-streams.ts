import type {
  CreateLogStreamRequest,
  DeleteLogStreamRequest,
  DescribeLogStreamsRequest,
  LogStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { invalidParameter, ServiceError } from '../model/errors.js';
import type { LogsEnv } from './env.js';
import { groupNamed, groupNotFound, groupOf, logStreamArn, sequenceToken, streamNotFound, streamOf } from './resolve.js';
import type { GroupRecord, StreamRecord } from './storage/records.js';
import type { StreamCursor, StreamOrder } from './storage/streams.js';
import { decodeListToken, encodeListToken } from './tokens.js';

function describeStream(env: LogsEnv, group: GroupRecord, s: StreamRecord): LogStream {
  return {
    logStreamName: s.name,
    creationTime: s.createdMs,
    ...(s.firstEventMs !== null ? { firstEventTimestamp: s.firstEventMs, lastEventTimestamp: s.lastEventMs } : {}),
    ...(s.lastIngestionMs !== null ? { lastIngestionTime: s.lastIngestionMs } : {}),
    uploadSequenceToken: sequenceToken(s.uploads),
    arn: logStreamArn(env, group.name, s.name),
    // Deprecated by CloudWatch Logs, which reports 0 for streams; the group's storedBytes has the figure.
    storedBytes: 0,
  };
}

interface StreamPageState extends StreamCursor {
  readonly group: string;
  readonly orderBy: StreamOrder;
  readonly descending: boolean;
}

const isStreamPageState = (s: unknown): s is StreamPageState => {
  const v = s as Partial<StreamPageState> | undefined;
  return typeof v?.name === 'string' && typeof v.lastEventMs === 'number' && typeof v.group === 'string' && typeof v.descending === 'boolean';
};

/** Log streams: create, delete, describe. */
export function logStreamOperations(env: LogsEnv) {
  return {
    async CreateLogStream(input: CreateLogStreamRequest) {
      const group = await groupNamed(env, input.logGroupName!);
      const created = await env.storage.streams.create(group, input.logStreamName!, env.now());
      if (created === undefined) throw groupNotFound();
      if (!created) throw new ServiceError('ResourceAlreadyExistsException', 'The specified log stream already exists');
      return {};
    },

    async DeleteLogStream(input: DeleteLogStreamRequest) {
      const group = await groupNamed(env, input.logGroupName!);
      const stream = await streamOf(env, group, input.logStreamName!);
      if (!(await env.storage.streams.delete(stream, env.now()))) throw streamNotFound();
      return {};
    },

    async DescribeLogStreams(input: DescribeLogStreamsRequest) {
      const group = await groupOf(env, input);
      const orderBy = input.orderBy ?? 'LogStreamName';
      const descending = input.descending ?? false;
      if (orderBy === 'LastEventTime' && input.logStreamNamePrefix !== undefined) {
        throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
      }
      const limit = input.limit ?? 50;
      let after: StreamCursor | undefined;
      if (input.nextToken !== undefined) {
        const state = decodeListToken('streams', input.nextToken, isStreamPageState);
        if (state.group !== group.id || state.orderBy !== orderBy || state.descending !== descending) {
          throw invalidParameter('The specified nextToken is invalid.');
        }
        after = state;
      }
      const rows = await env.storage.streams.list({ groupId: group.id, orderBy, descending, prefix: input.logStreamNamePrefix, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const state = last && { group: group.id, orderBy, descending, name: last.name, lastEventMs: last.lastEventMs };
      return {
        logStreams: page.map((s) => describeStream(env, group, s)),
        ...(rows.length > limit && state ? { nextToken: encodeListToken('streams', state) } : {}),
      };
    },
  };
}
