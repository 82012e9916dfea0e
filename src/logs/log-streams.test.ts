import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogStreamCommand,
  DescribeLogStreamsCommand,
  type DescribeLogStreamsCommandInput,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const group = async (logGroupName: string) => api.logs.send(new CreateLogGroupCommand({ logGroupName }));
const stream = async (logGroupName: string, logStreamName: string) => api.logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
const put = (logGroupName: string, logStreamName: string, timestamp: number, message = 'm') =>
  api.logs.send(new PutLogEventsCommand({ logGroupName, logStreamName, logEvents: [{ timestamp, message }] }));
const names = async (input: DescribeLogStreamsCommandInput) =>
  (await api.logs.send(new DescribeLogStreamsCommand(input))).logStreams!.map((s) => s.logStreamName);

describe('CreateLogStream', () => {
  it('creates a stream in an existing group, once', async () => {
    await group('s1');
    await stream('s1', 'web/app/1');
    expect(await failure(stream('s1', 'web/app/1'))).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 400 });
    expect(await failure(stream('nope', 'x'))).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
  });

  it('validates stream names and creates nothing for a bad one', async () => {
    await group('s2');
    for (const name of ['', 'a:b', 'a*b', 'x'.repeat(513)]) {
      expect((await failure(stream('s2', name))).name, name).toBe('InvalidParameterException');
    }
    await stream('s2', `ünïcode stream ${'y'.repeat(480)}`);
    expect(await names({ logGroupName: 's2' })).toHaveLength(1);
  });
});

describe('DescribeLogStreams', () => {
  it('describes a stream before and after it has events', async () => {
    await group('d1');
    await stream('d1', 'one');
    const [empty] = (await api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd1' }))).logStreams!;
    expect(empty).toEqual({
      logStreamName: 'one',
      creationTime: expect.any(Number),
      uploadSequenceToken: expect.stringMatching(/^\d+$/),
      arn: `arn:aws:logs:${TEST_REGION}:${TEST_ACCOUNT}:log-group:d1:log-stream:one`,
      storedBytes: 0,
    });
    const t = Date.now() - 5_000;
    await api.logs.send(new PutLogEventsCommand({ logGroupName: 'd1', logStreamName: 'one', logEvents: [{ timestamp: t, message: 'a' }, { timestamp: t + 10, message: 'b' }] }));
    const [full] = (await api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd1' }))).logStreams!;
    expect(full).toMatchObject({ firstEventTimestamp: t, lastEventTimestamp: t + 10, lastIngestionTime: expect.any(Number) });
    expect(full!.uploadSequenceToken).not.toBe(empty!.uploadSequenceToken);
  });

  it('orders by name or by last event time, either way, with prefixes and pages', async () => {
    await group('d2');
    const now = Date.now();
    // Names and last-event times in different orders.
    const streams = [['b', 3], ['a', 1], ['c', 2], ['ab', 5], ['x', 4]] as const;
    for (const [name, t] of streams) {
      await stream('d2', name);
      await put('d2', name, now - 10_000 + t * 100);
    }
    expect(await names({ logGroupName: 'd2' })).toEqual(['a', 'ab', 'b', 'c', 'x']);
    expect(await names({ logGroupName: 'd2', descending: true })).toEqual(['x', 'c', 'b', 'ab', 'a']);
    expect(await names({ logGroupName: 'd2', logStreamNamePrefix: 'a' })).toEqual(['a', 'ab']);
    expect(await names({ logGroupName: 'd2', logStreamNamePrefix: 'a', descending: true })).toEqual(['ab', 'a']);
    expect(await names({ logGroupName: 'd2', orderBy: 'LastEventTime' })).toEqual(['a', 'c', 'b', 'x', 'ab']);
    expect(await names({ logGroupName: 'd2', orderBy: 'LastEventTime', descending: true })).toEqual(['ab', 'x', 'b', 'c', 'a']);

    for (const order of [{}, { descending: true }, { orderBy: 'LastEventTime' as const }, { orderBy: 'LastEventTime' as const, descending: true }]) {
      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd2', limit: 2, nextToken, ...order }));
        seen.push(...page.logStreams!.map((s) => s.logStreamName!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(seen).toEqual(await names({ logGroupName: 'd2', ...order }));
    }
  });

  it('refuses what CloudWatch Logs refuses', async () => {
    await group('d3');
    const cases = [
      () => api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd3', orderBy: 'LastEventTime', logStreamNamePrefix: 'a' })),
      () => api.logs.send(new DescribeLogStreamsCommand({})),
      () => api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd3', logGroupIdentifier: 'd3' })),
      () => api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd3', limit: 0 })),
      () => api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd3', orderBy: 'Size' as never })),
    ];
    for (const c of cases) expect((await failure(c())).name).toBe('InvalidParameterException');
    // A token only continues the listing it came from.
    await stream('d3', 'a');
    await stream('d3', 'b');
    const { nextToken } = await api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd3', limit: 1 }));
    expect(nextToken).toBeDefined();
    const crossed = await failure(api.logs.send(new DescribeLogStreamsCommand({ logGroupName: 'd3', limit: 1, nextToken, descending: true })));
    expect(crossed.name).toBe('InvalidParameterException');
    const missing = await failure(api.logs.send(new DescribeLogStreamsCommand({ logGroupIdentifier: 'ghost' })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });
});

describe('DeleteLogStream', () => {
  it('deletes a stream and its events; a new stream of that name starts empty', async () => {
    await group('del');
    await stream('del', 's');
    await put('del', 's', Date.now(), 'old');
    await api.logs.send(new DeleteLogStreamCommand({ logGroupName: 'del', logStreamName: 's' }));
    expect(await names({ logGroupName: 'del' })).toEqual([]);
    const gone = await failure(api.logs.send(new GetLogEventsCommand({ logGroupName: 'del', logStreamName: 's' })));
    expect(gone).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    expect((await failure(api.logs.send(new DeleteLogStreamCommand({ logGroupName: 'del', logStreamName: 's' })))).name).toBe('ResourceNotFoundException');
    await stream('del', 's');
    expect((await api.logs.send(new GetLogEventsCommand({ logGroupName: 'del', logStreamName: 's' }))).events).toEqual([]);
  });
});
