import type {
  CreateLogStreamRequest,
  DeleteLogStreamRequest,
  DescribeLogStreamsRequest,
  LogStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { invalidParameter, ServiceError } from '../model/errors.js';
import type { LogsEnv } from './env.js';
import { groupNotFound, groupOf, logStreamArn, sequenceToken, streamOf } from './resolve.js';
import type { GroupRow } from './storage/groups.js';
import type { StreamCursor, StreamOrder, StreamRow } from './storage/streams.js';
import { decodeListToken, encodeListToken } from './tokens.js';

function describeStream(env: LogsEnv, group: GroupRow, s: StreamRow): LogStream {
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
  readonly group: number;
  readonly orderBy: StreamOrder;
  readonly descending: boolean;
}

const isStreamPageState = (s: unknown): s is StreamPageState => {
  const v = s as Partial<StreamPageState> | undefined;
  return typeof v?.name === 'string' && typeof v.lastEventMs === 'number' && typeof v.group === 'number' && typeof v.descending === 'boolean';
};

/** Log streams: create, delete, describe. */
export function logStreamOperations(env: LogsEnv) {
  const groupNamed = (name: string) => {
    const group = env.db.groups.get(name);
    if (!group) throw groupNotFound();
    return group;
  };
  return {
    async CreateLogStream(input: CreateLogStreamRequest) {
      const group = groupNamed(input.logGroupName!);
      if (!env.db.streams.create(group.id, input.logStreamName!, env.now())) {
        throw new ServiceError('ResourceAlreadyExistsException', 'The specified log stream already exists');
      }
      return {};
    },

    async DeleteLogStream(input: DeleteLogStreamRequest) {
      const group = groupNamed(input.logGroupName!);
      const stream = streamOf(env, group, input.logStreamName!);
      env.db.transaction(() => env.db.streams.delete(stream.id));
      return {};
    },

    async DescribeLogStreams(input: DescribeLogStreamsRequest) {
      const group = groupOf(env, input);
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
      const rows = env.db.streams.list({ groupId: group.id, orderBy, descending, prefix: input.logStreamNamePrefix, after, limit: limit + 1 });
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
