import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLimits, maxMessageBytes } from '../model/log-limits.js';
import { startApiFixture, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';
import { startLogSweep } from './retention-sweep.js';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApiFixture();
});
afterAll(() => api.stop());

const DAY = 86_400_000;
let n = 0;
/** A fresh group with one stream `s`. */
async function freshStream(): Promise<string> {
  const logGroupName = `ev-${++n}`;
  await api.logs.send(new CreateLogGroupCommand({ logGroupName }));
  await api.logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName: 's' }));
  return logGroupName;
}
const put = (logGroupName: string, logEvents: { timestamp: number; message: string }[], sequenceToken?: string) =>
  api.logs.send(new PutLogEventsCommand({ logGroupName, logStreamName: 's', logEvents, ...(sequenceToken ? { sequenceToken } : {}) }));
const get = (logGroupName: string, input: Partial<GetLogEventsCommandInput> = {}) =>
  api.logs.send(new GetLogEventsCommand({ logGroupName, logStreamName: 's', ...input }));
const messages = (r: { events?: { message?: string }[] }) => r.events!.map((e) => e.message);

describe('PutLogEvents', () => {
  it('stores a batch and ignores sequence tokens, as CloudWatch Logs does today', async () => {
    const g = await freshStream();
    const t = Date.now() - 1_000;
    const first = await put(g, [{ timestamp: t, message: 'one' }], 'not-a-real-token');
    const second = await put(g, [{ timestamp: t + 1, message: 'two' }], 'not-a-real-token');
    expect(first.nextSequenceToken).toMatch(/^\d+$/);
    expect(second.nextSequenceToken).not.toBe(first.nextSequenceToken);
    expect(first.rejectedLogEventsInfo).toBeUndefined();
    const got = await get(g, { startFromHead: true });
    expect(got.events).toEqual([
      { timestamp: t, message: 'one', ingestionTime: expect.any(Number) },
      { timestamp: t + 1, message: 'two', ingestionTime: expect.any(Number) },
    ]);
  });

  it('refuses a whole batch that breaks a rule, storing nothing', async () => {
    const g = await freshStream();
    const t = Date.now();
    const big = 'a'.repeat(maxMessageBytes);
    const refused = [
      () => put(g, [{ timestamp: t, message: 'b' }, { timestamp: t - 1, message: 'a' }]),
      () => put(g, [{ timestamp: t, message: `${big}!` }]),
      () => put(g, Array.from({ length: 5 }, () => ({ timestamp: t, message: big }))),
      () => put(g, Array.from({ length: logLimits.maxBatchEvents + 1 }, () => ({ timestamp: t, message: 'x' }))),
      () => put(g, [{ timestamp: t, message: '' }]),
      () => put(g, [{ timestamp: -1, message: 'x' }]),
      () => put(g, []),
    ];
    for (const r of refused) expect((await failure(r())).name).toBe('InvalidParameterException');
    expect((await get(g)).events).toEqual([]);
  });

  it('reads bodies larger than ECS allows, up to 8 MiB', async () => {
    const g = await freshStream();
    const body = (size: number) => JSON.stringify({ logGroupName: g, logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'x'.repeat(size) }] });
    const big = await api.raw({ target: 'Logs_20140328.PutLogEvents', service: 'logs', body: body(2 * 1024 * 1024) });
    expect(big).toMatchObject({ status: 400, body: { __type: 'InvalidParameterException', message: expect.stringMatching(/Log event too large/) } });
    const huge = await api.raw({ target: 'Logs_20140328.PutLogEvents', service: 'logs', body: body(9 * 1024 * 1024) });
    expect(huge).toMatchObject({ status: 413, body: { __type: 'RequestEntityTooLargeException' } });
  });

  it('accepts the largest batch: 10,000 events, or 4 events of 256 KiB', async () => {
    const g = await freshStream();
    const t = Date.now();
    await put(g, Array.from({ length: 10_000 }, (_, i) => ({ timestamp: t, message: `line ${i}` })));
    await put(g, Array.from({ length: 4 }, () => ({ timestamp: t + 1, message: 'z'.repeat(maxMessageBytes) })));
    const { logGroups } = await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }));
    expect(logGroups![0]!.storedBytes).toBe(Array.from({ length: 10_000 }, (_, i) => `line ${i}`.length).reduce((a, b) => a + b) + 4 * maxMessageBytes);
  });

  it('keeps the valid middle of a batch and reports what was too old, expired or too new', async () => {
    const g = await freshStream();
    await api.logs.send(new PutRetentionPolicyCommand({ logGroupName: g, retentionInDays: 7 }));
    const now = Date.now();
    const r = await put(g, [
      { timestamp: now - 20 * DAY, message: 'too old' },
      { timestamp: now - 8 * DAY, message: 'expired' },
      { timestamp: now - 1000, message: 'kept' },
      { timestamp: now + 3 * 3_600_000, message: 'too new' },
    ]);
    expect(r.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 0, expiredLogEventEndIndex: 1, tooNewLogEventStartIndex: 3 });
    expect(messages(await get(g))).toEqual(['kept']);
  });

  it('names the missing group or stream', async () => {
    const g = await freshStream();
    const noStream = await failure(api.logs.send(new PutLogEventsCommand({ logGroupName: g, logStreamName: 'nope', logEvents: [{ timestamp: Date.now(), message: 'x' }] })));
    expect(noStream).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' });
    const noGroup = await failure(api.logs.send(new PutLogEventsCommand({ logGroupName: 'nope', logStreamName: 's', logEvents: [{ timestamp: Date.now(), message: 'x' }] })));
    expect(noGroup).toMatchObject({ name: 'ResourceNotFoundException', message: 'The specified log group does not exist.' });
  });
});

describe('GetLogEvents', () => {
  /** A stream of `count` events, one millisecond apart, with some equal timestamps to test tie order. */
  async function streamOf(count: number) {
    const g = await freshStream();
    const t0 = Date.now() - 60_000;
    const events = Array.from({ length: count }, (_, i) => ({ timestamp: t0 + Math.floor(i / 2), message: `e${i}` }));
    await put(g, events);
    return { g, t0, all: events.map((e) => e.message) };
  }

  it('pages forward from the head, and hands back the same token at the end', async () => {
    const { g, all } = await streamOf(25);
    const seen: (string | undefined)[] = [];
    let token: string | undefined;
    let page = await get(g, { startFromHead: true, limit: 10 });
    for (;;) {
      seen.push(...messages(page));
      if (page.nextForwardToken === token) break;
      token = page.nextForwardToken;
      page = await get(g, { nextToken: token, limit: 10 });
    }
    expect(seen).toEqual(all);
    expect(page.events).toEqual([]);
    expect(token).toMatch(/^f\/\d{56}$/);
  });

  it('starts from the newest page by default and pages backward to the head', async () => {
    const { g, all } = await streamOf(25);
    const newest = await get(g, { limit: 10 });
    expect(messages(newest)).toEqual(all.slice(15));
    const older = await get(g, { nextToken: newest.nextBackwardToken, limit: 10 });
    expect(messages(older)).toEqual(all.slice(5, 15));
    const oldest = await get(g, { nextToken: older.nextBackwardToken, limit: 10 });
    expect(messages(oldest)).toEqual(all.slice(0, 5));
    const none = await get(g, { nextToken: oldest.nextBackwardToken, limit: 10 });
    expect(none.events).toEqual([]);
    expect(none.nextBackwardToken).toBe(oldest.nextBackwardToken);
    // And forward again from an older page.
    expect(messages(await get(g, { nextToken: older.nextForwardToken, limit: 3 }))).toEqual(all.slice(15, 18));
  });

  it('follows a stream: a forward token picks up what arrives later', async () => {
    const g = await freshStream();
    const empty = await get(g);
    expect(empty.events).toEqual([]);
    const t = Date.now();
    await put(g, [{ timestamp: t, message: 'first' }]);
    const a = await get(g, { nextToken: empty.nextForwardToken });
    expect(messages(a)).toEqual(['first']);
    const idle = await get(g, { nextToken: a.nextForwardToken });
    expect(idle.nextForwardToken).toBe(a.nextForwardToken);
    await put(g, [{ timestamp: t, message: 'same ms' }, { timestamp: t + 5, message: 'later' }]);
    expect(messages(await get(g, { nextToken: idle.nextForwardToken }))).toEqual(['same ms', 'later']);
  });

  it('limits to [startTime, endTime)', async () => {
    const { g, t0, all } = await streamOf(20);
    expect(messages(await get(g, { startFromHead: true, startTime: t0 + 3, endTime: t0 + 6 }))).toEqual(all.slice(6, 12));
    expect(messages(await get(g, { startTime: t0 + 3, endTime: t0 + 6, limit: 2 }))).toEqual(all.slice(10, 12));
  });

  it('answers at most 1 MiB of messages a page', async () => {
    const g = await freshStream();
    const t = Date.now();
    const big = (c: string) => c.repeat(maxMessageBytes);
    for (const c of ['a', 'b']) await put(g, Array.from({ length: 4 }, () => ({ timestamp: t, message: big(c) })));
    const first = await get(g, { startFromHead: true });
    expect(first.events).toHaveLength(4);
    const second = await get(g, { nextToken: first.nextForwardToken });
    expect(second.events!.map((e) => e.message![0])).toEqual(['b', 'b', 'b', 'b']);
  });

  it('refuses tokens it did not issue for this stream', async () => {
    const a = await freshStream();
    const b = await freshStream();
    await put(a, [{ timestamp: Date.now(), message: 'x' }]);
    const { nextForwardToken } = await get(a);
    for (const nextToken of [nextForwardToken!, 'f/123', 'x/00000000000000000000000000000000000000000000000000000000']) {
      expect((await failure(get(b, { nextToken }))).name, nextToken).toBe('InvalidParameterException');
    }
    expect((await failure(get(a, { logGroupIdentifier: a })))).toMatchObject({ name: 'InvalidParameterException' });
  });

  it('hides events past a new retention policy at once; the sweep then deletes them', async () => {
    const g = await freshStream();
    const now = Date.now();
    await put(g, [
      { timestamp: now - 3 * DAY, message: 'old' },
      { timestamp: now - 1000, message: 'new' },
    ]);
    await api.logs.send(new PutRetentionPolicyCommand({ logGroupName: g, retentionInDays: 1 }));
    expect(messages(await get(g, { startFromHead: true }))).toEqual(['new']);
    const sweep = startLogSweep({ store: api.server.logs.store, dir: api.server.logs.dir, now: Date.now, log: pino({ level: 'silent' }), batch: 1 });
    try {
      expect((await sweep.runOnce()).expired).toBeGreaterThanOrEqual(1);
    } finally {
      await sweep.stop();
    }
    const { logGroups } = await api.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }));
    expect(logGroups![0]!.storedBytes).toBe(3);
  });
});
