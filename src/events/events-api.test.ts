import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  ListEventBusesCommand,
  ListRuleNamesByTargetCommand,
  ListRulesCommand,
  ListTagsForResourceCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TagResourceCommand,
  TestEventPatternCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rangePages } from '../store/range-pages.js';
import { eventsKeys } from '../state/events-keys.js';
import { parseQueuedBatchRecord } from '../state/records/events.js';
import { startApiFixture, TEST_ACCOUNT, TEST_KEYS, TEST_REGION, type ApiFixture } from '../testing/api-server.js';

let api: ApiFixture;
let eb: EventBridgeClient;
const CLUSTER = `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:cluster/default`;
const ROLE = `arn:aws:iam::${TEST_ACCOUNT}:role/events-run-task`;
const ecsTarget = (Id: string, extra: object = {}) => ({ Id, Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'cleanup:1', TaskCount: 1 }, ...extra });

beforeAll(async () => {
  // No leader passes here: the queue is inspected as PutEvents left it (dispatch is dispatcher.test.ts's).
  api = await startApiFixture({ eventsDispatchMs: 3_600_000 });
  eb = new EventBridgeClient({ endpoint: api.server.url, region: TEST_REGION, credentials: TEST_KEYS, maxAttempts: 1 });
});
afterAll(async () => {
  eb.destroy();
  await api.stop();
});

const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { name: string }) => ({ name: e.name, message: e.message }));

describe('event buses', () => {
  it('has the default bus; creates, lists, describes and deletes others', async () => {
    const d = await eb.send(new DescribeEventBusCommand({}));
    expect(d).toMatchObject({ Name: 'default', Arn: `arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:event-bus/default` });
    const created = await eb.send(new CreateEventBusCommand({ Name: 'orders', Description: 'order events', Tags: [{ Key: 'team', Value: 'a' }] }));
    expect(created.EventBusArn).toBe(`arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:event-bus/orders`);
    expect(await errorOf(eb.send(new CreateEventBusCommand({ Name: 'orders' })))).toMatchObject({ name: 'ResourceAlreadyExistsException' });
    expect((await eb.send(new DescribeEventBusCommand({ Name: created.EventBusArn }))).Description).toBe('order events');
    const listed = await eb.send(new ListEventBusesCommand({ NamePrefix: 'ord' }));
    expect(listed.EventBuses?.map((b) => b.Name)).toEqual(['orders']);
    expect((await eb.send(new ListTagsForResourceCommand({ ResourceARN: created.EventBusArn! }))).Tags).toEqual([{ Key: 'team', Value: 'a' }]);
    await eb.send(new PutRuleCommand({ Name: 'on-orders', EventBusName: 'orders', EventPattern: '{"source":["shop"]}' }));
    expect(await errorOf(eb.send(new DeleteEventBusCommand({ Name: 'orders' })))).toMatchObject({ name: 'ValidationException' });
    await eb.send(new DeleteRuleCommand({ Name: 'on-orders', EventBusName: 'orders' }));
    await eb.send(new DeleteEventBusCommand({ Name: 'orders' }));
    expect(await errorOf(eb.send(new DescribeEventBusCommand({ Name: 'orders' })))).toMatchObject({ name: 'ResourceNotFoundException', message: 'Event bus orders does not exist.' });
    expect(await errorOf(eb.send(new DeleteEventBusCommand({ Name: 'default' })))).toMatchObject({ name: 'ValidationException' });
  });
});

describe('rules', () => {
  it('refuses bad rules with the field named and creates nothing', async () => {
    expect(await errorOf(eb.send(new PutRuleCommand({ Name: 'r-none' })))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('EventPattern or ScheduleExpression') });
    expect(await errorOf(eb.send(new PutRuleCommand({ Name: 'r-bad', EventPattern: '{"source":"aws.ecs"}' })))).toMatchObject({
      name: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: "source" must be an object or an array',
    });
    expect(await errorOf(eb.send(new PutRuleCommand({ Name: 'r-cron', ScheduleExpression: 'cron(0 * * * *)' })))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('ScheduleExpression') });
    expect(await errorOf(eb.send(new PutRuleCommand({ Name: 'r-at', ScheduleExpression: 'at(2030-01-01T00:00:00)' })))).toMatchObject({ name: 'ValidationException' });
    await eb.send(new CreateEventBusCommand({ Name: 'side' }));
    expect(await errorOf(eb.send(new PutRuleCommand({ Name: 'r-side', EventBusName: 'side', ScheduleExpression: 'rate(5 minutes)' })))).toMatchObject({
      name: 'ValidationException',
      message: 'ScheduleExpression is supported only on the default event bus.',
    });
    expect(await errorOf(eb.send(new PutRuleCommand({ Name: 'r-nobus', EventBusName: 'nope', EventPattern: '{"source":["a"]}' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    for (const name of ['r-none', 'r-bad', 'r-cron', 'r-at', 'r-nobus']) {
      expect(await errorOf(eb.send(new DescribeRuleCommand({ Name: name })))).toMatchObject({ name: 'ResourceNotFoundException', message: `Rule ${name} does not exist on EventBus default.` });
    }
  });

  it('puts, describes, pages, enables, disables and deletes rules', async () => {
    const put = await eb.send(new PutRuleCommand({ Name: 'page-a', EventPattern: '{"source":["x"]}', Description: 'first' }));
    expect(put.RuleArn).toBe(`arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:rule/page-a`);
    await eb.send(new PutRuleCommand({ Name: 'page-b', ScheduleExpression: 'rate(1 minute)', State: 'DISABLED' }));
    await eb.send(new PutRuleCommand({ Name: 'page-c', ScheduleExpression: 'cron(0 12 * * ? *)' }));
    const described = await eb.send(new DescribeRuleCommand({ Name: 'page-b' }));
    expect(described).toMatchObject({ Name: 'page-b', State: 'DISABLED', ScheduleExpression: 'rate(1 minute)', EventBusName: 'default', CreatedBy: TEST_ACCOUNT });
    const first = await eb.send(new ListRulesCommand({ NamePrefix: 'page-', Limit: 2 }));
    expect(first.Rules?.map((r) => r.Name)).toEqual(['page-a', 'page-b']);
    const second = await eb.send(new ListRulesCommand({ NamePrefix: 'page-', Limit: 2, NextToken: first.NextToken }));
    expect(second.Rules?.map((r) => r.Name)).toEqual(['page-c']);
    expect(second.NextToken).toBeUndefined();
    await eb.send(new EnableRuleCommand({ Name: 'page-b' }));
    expect((await eb.send(new DescribeRuleCommand({ Name: 'page-b' }))).State).toBe('ENABLED');
    await eb.send(new DisableRuleCommand({ Name: 'page-a' }));
    expect((await eb.send(new DescribeRuleCommand({ Name: 'page-a' }))).State).toBe('DISABLED');
    expect(await errorOf(eb.send(new EnableRuleCommand({ Name: 'page-zz' })))).toMatchObject({ name: 'ResourceNotFoundException' });
    // PutRule again changes the definition, keeps the description only if given.
    await eb.send(new PutRuleCommand({ Name: 'page-a', EventPattern: '{"source":["y"]}' }));
    expect((await eb.send(new DescribeRuleCommand({ Name: 'page-a' }))).EventPattern).toBe('{"source":["y"]}');
    for (const name of ['page-a', 'page-b', 'page-c']) await eb.send(new DeleteRuleCommand({ Name: name }));
    expect((await eb.send(new ListRulesCommand({ NamePrefix: 'page-' }))).Rules).toEqual([]);
  });
});

describe('targets', () => {
  it('puts ECS targets, reports unsupported ones per entry, lists, and refuses to delete a rule with targets', async () => {
    await eb.send(new PutRuleCommand({ Name: 'on-stop', EventPattern: '{"source":["aws.ecs"]}' }));
    const put = await eb.send(
      new PutTargetsCommand({
        Rule: 'on-stop',
        Targets: [ecsTarget('run'), { Id: 'fn', Arn: `arn:aws:lambda:${TEST_REGION}:${TEST_ACCOUNT}:function:f` }],
      }),
    );
    expect(put.FailedEntryCount).toBe(1);
    expect(put.FailedEntries).toEqual([{ TargetId: 'fn', ErrorCode: 'ValidationException', ErrorMessage: expect.stringContaining('ECS clusters only') }]);
    expect(await errorOf(eb.send(new PutTargetsCommand({ Rule: 'on-stop', Targets: [{ Id: 'x', Arn: CLUSTER, EcsParameters: { TaskDefinitionArn: 'a' } }] })))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('RoleArn'),
    });
    expect(await errorOf(eb.send(new PutTargetsCommand({ Rule: 'on-stop', Targets: [ecsTarget('y', { Input: '{}', InputPath: '$.detail' })] })))).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('Only one of Input, InputPath, or InputTransformer'),
    });
    expect(await errorOf(eb.send(new PutTargetsCommand({ Rule: 'nope', Targets: [ecsTarget('z')] })))).toMatchObject({ name: 'ResourceNotFoundException' });
    const listed = await eb.send(new ListTargetsByRuleCommand({ Rule: 'on-stop' }));
    expect(listed.Targets).toEqual([ecsTarget('run')]);
    expect((await eb.send(new ListRuleNamesByTargetCommand({ TargetArn: CLUSTER }))).RuleNames).toEqual(['on-stop']);
    expect(await errorOf(eb.send(new DeleteRuleCommand({ Name: 'on-stop' })))).toMatchObject({ name: 'ValidationException', message: "Rule can't be deleted since it has targets." });
    await eb.send(new PutTargetsCommand({ Rule: 'on-stop', Targets: ['t2', 't3', 't4', 't5'].map((id) => ecsTarget(id)) }));
    expect(await errorOf(eb.send(new PutTargetsCommand({ Rule: 'on-stop', Targets: [ecsTarget('t6')] })))).toMatchObject({ name: 'LimitExceededException' });
    const removed = await eb.send(new RemoveTargetsCommand({ Rule: 'on-stop', Ids: ['run', 't2', 't3', 't4', 't5', 'never'] }));
    expect(removed.FailedEntryCount).toBe(0);
    await eb.send(new DeleteRuleCommand({ Name: 'on-stop' }));
  });
});

describe('PutEvents and TestEventPattern', () => {
  it('queues accepted entries durably and reports each refused one', async () => {
    const answer = await eb.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'shop', DetailType: 'order placed', Detail: '{"id":1}', Resources: ['r1'], Time: new Date('2026-01-02T03:04:05Z') },
          { Source: 'shop', DetailType: 'order placed' },
          { Source: 'shop', DetailType: 'x', Detail: '[1]' },
          { Source: 'aws.ecs', DetailType: 'x', Detail: '{}' },
          { Source: 'shop', DetailType: 'x', Detail: '{}', EventBusName: 'missing' },
        ],
      }),
    );
    expect(answer.FailedEntryCount).toBe(4);
    expect(answer.Entries?.[0]?.EventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.Entries?.slice(1)).toEqual([
      { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus missing does not exist.' },
    ]);
    const queued = [];
    for await (const page of rangePages(api.server.store, eventsKeys.queue(), 100)) queued.push(...page.flatMap((e) => parseQueuedBatchRecord(e.value, e.key).events));
    const mine = queued.find((q) => q.event.id === answer.Entries?.[0]?.EventId);
    expect(mine).toEqual({
      bus: 'default',
      event: { version: '0', id: answer.Entries?.[0]?.EventId, 'detail-type': 'order placed', source: 'shop', account: TEST_ACCOUNT, time: '2026-01-02T03:04:05Z', region: TEST_REGION, resources: ['r1'], detail: { id: 1 } },
    });
  });

  it('refuses a request over 256 KiB in total', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(70 * 1024) });
    const entries = [1, 2, 3, 4].map(() => ({ Source: 'shop', DetailType: 'big', Detail: big }));
    expect(await errorOf(eb.send(new PutEventsCommand({ Entries: entries })))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Total size of the entries') });
  });

  it('TestEventPattern answers as the matcher does, and refuses a bad pattern', async () => {
    const event = JSON.stringify({ id: '1', account: TEST_ACCOUNT, source: 'aws.ecs', time: '2026-01-01T00:00:00Z', region: TEST_REGION, resources: [], 'detail-type': 'ECS Task State Change', detail: { containers: [{ exitCode: 3 }] } });
    const test = (pattern: object) => eb.send(new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: event })).then((r) => r.Result);
    expect(await test({ detail: { containers: { exitCode: [{ 'anything-but': 0 }] } } })).toBe(true);
    expect(await test({ detail: { containers: { exitCode: [0] } } })).toBe(false);
    expect(await errorOf(eb.send(new TestEventPatternCommand({ EventPattern: '{"a":[{"nope":1}]}', Event: event })))).toMatchObject({
      name: 'InvalidEventPatternException',
      message: 'Event pattern is not valid. Reason: Unrecognized match type nope',
    });
    expect(await errorOf(eb.send(new TestEventPatternCommand({ EventPattern: '{"a":["b"]}', Event: '{"id":"1"}' })))).toMatchObject({ name: 'ValidationException' });
  });
});

describe('tags', () => {
  it('tags and untags rules', async () => {
    const { RuleArn } = await eb.send(new PutRuleCommand({ Name: 'tagged', EventPattern: '{"source":["t"]}', Tags: [{ Key: 'a', Value: '1' }] }));
    await eb.send(new TagResourceCommand({ ResourceARN: RuleArn!, Tags: [{ Key: 'b', Value: '2' }] }));
    await eb.send(new UntagResourceCommand({ ResourceARN: RuleArn!, TagKeys: ['a'] }));
    expect((await eb.send(new ListTagsForResourceCommand({ ResourceARN: RuleArn! }))).Tags).toEqual([{ Key: 'b', Value: '2' }]);
    expect(await errorOf(eb.send(new ListTagsForResourceCommand({ ResourceARN: `arn:aws:events:${TEST_REGION}:${TEST_ACCOUNT}:rule/none` })))).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
