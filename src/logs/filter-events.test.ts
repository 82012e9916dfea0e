import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  FilterLogEventsCommand,
  type FilterLogEventsCommandInput,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../testing/api-server.js';
import { failure } from '../testing/failure.js';
import { SCAN_BUDGET } from './filter-events.js';

let api: ApiFixture;
const T0 = Date.now() - 60_000;
beforeAll(async () => {
  api = await startApiFixture();
  await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'f' }));
  // Three streams whose events interleave in time.
  const lines: Record<string, [number, string][]> = {
    'web/1': [[0, 'GET / 200'], [3, 'GET /x 500 ERROR'], [6, 'GET /y 200']],
    'web/2': [[1, 'POST /a 201'], [4, 'WARN slow request'], [7, 'ERROR: connection refused']],
    'db/1': [[2, 'checkpoint'], [5, 'ERROR timeout'], [8, 'vacuum']],
  };
  for (const [logStreamName, events] of Object.entries(lines)) {
    await api.logs.send(new CreateLogStreamCommand({ logGroupName: 'f', logStreamName }));
    await api.logs.send(
      new PutLogEventsCommand({ logGroupName: 'f', logStreamName, logEvents: events.map(([t, message]) => ({ timestamp: T0 + t, message })) }),
    );
  }
});
afterAll(() => api.stop());

const filter = (input: Partial<FilterLogEventsCommandInput>) => api.logs.send(new FilterLogEventsCommand({ logGroupName: 'f', ...input }));
const messages = async (input: Partial<FilterLogEventsCommandInput>) => (await filter(input)).events!.map((e) => e.message);

describe('FilterLogEvents', () => {
  it('interleaves every stream of the group in time order, naming each event’s stream', async () => {
    const r = await filter({});
    expect(r.events!.map((e) => e.timestamp! - T0)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.events![1]).toEqual({
      logStreamName: 'web/2',
      timestamp: T0 + 1,
      message: 'POST /a 201',
      ingestionTime: expect.any(Number),
      eventId: expect.stringMatching(/^\d{56}$/),
    });
    expect(r.nextToken).toBeUndefined();
  });

  it('narrows to named streams or a prefix, and to an inclusive time range', async () => {
    expect(await messages({ logStreamNames: ['db/1'] })).toEqual(['checkpoint', 'ERROR timeout', 'vacuum']);
    expect(await messages({ logStreamNames: ['db/1', 'web/1', 'nope'], startTime: T0 + 2, endTime: T0 + 5 })).toEqual([
      'checkpoint',
      'GET /x 500 ERROR',
      'ERROR timeout',
    ]);
    expect(await messages({ logStreamNamePrefix: 'web/', endTime: T0 + 1 })).toEqual(['GET / 200', 'POST /a 201']);
    expect(await messages({ logStreamNames: ['nope'] })).toEqual([]);
  });

  it('matches term patterns', async () => {
    expect(await messages({ filterPattern: 'ERROR' })).toEqual(['GET /x 500 ERROR', 'ERROR timeout', 'ERROR: connection refused']);
    expect(await messages({ filterPattern: '"connection refused"' })).toEqual(['ERROR: connection refused']);
    expect(await messages({ filterPattern: '?WARN ?timeout' })).toEqual(['WARN slow request', 'ERROR timeout']);
    expect(await messages({ filterPattern: 'ERROR -timeout', logStreamNamePrefix: 'web' })).toEqual(['GET /x 500 ERROR', 'ERROR: connection refused']);
  });

  it('pages with nextToken', async () => {
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await filter({ limit: 4, nextToken });
      expect(page.events!.length).toBeLessThanOrEqual(4);
      seen.push(...page.events!.map((e) => e.message!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(seen).toEqual(await messages({}));
  });

  it('refuses contradictions, foreign tokens, unsupported patterns and missing groups', async () => {
    const refused = [
      () => filter({ logStreamNames: ['a'], logStreamNamePrefix: 'a' }),
      () => filter({ filterPattern: '{ $.level = "ERROR" }' }),
      () => filter({ nextToken: 'bad' }),
      () => filter({ limit: 0 }),
      () => api.logs.send(new FilterLogEventsCommand({})),
    ];
    for (const r of refused) expect((await failure(r())).name).toBe('InvalidParameterException');
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'other' }));
    const { nextToken } = await filter({ limit: 1 });
    expect((await failure(api.logs.send(new FilterLogEventsCommand({ logGroupName: 'other', nextToken })))).name).toBe('InvalidParameterException');
    expect((await failure(api.logs.send(new FilterLogEventsCommand({ logGroupName: 'ghost' })))).name).toBe('ResourceNotFoundException');
  });

  it('stops after a bounded scan with a token when matches are rare, and finds them on later pages', async () => {
    await api.logs.send(new CreateLogGroupCommand({ logGroupName: 'big' }));
    await api.logs.send(new CreateLogStreamCommand({ logGroupName: 'big', logStreamName: 's' }));
    // Written straight to the storage, as one chunk: this test is about the scan, not the batch rules.
    const storage = api.server.logs;
    const group = (await storage.groups.get('big'))!;
    const stream = (await storage.streams.get(group.id, 's'))!;
    const total = SCAN_BUDGET + 5_000;
    const events = Array.from({ length: total }, (_, i) => ({ timestamp: T0 + i, message: i === total - 1 ? 'needle' : `hay ${i}` }));
    await storage.events.append(stream, { events, bytes: 0, now: Date.now() });
    const first = await api.logs.send(new FilterLogEventsCommand({ logGroupName: 'big', filterPattern: 'needle' }));
    expect(first.events).toEqual([]);
    expect(first.nextToken).toBeDefined();
    const second = await api.logs.send(new FilterLogEventsCommand({ logGroupName: 'big', filterPattern: 'needle', nextToken: first.nextToken }));
    expect(second.events!.map((e) => e.message)).toEqual(['needle']);
    expect(second.nextToken).toBeUndefined();
  });
});
