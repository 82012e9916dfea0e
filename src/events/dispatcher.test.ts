import type { RunTaskRequest } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../store/memory.js';
import { rangePages } from '../store/range-pages.js';
import { transact } from '../store/transact.js';
import { eventsKeys } from '../state/events-keys.js';
import { enqueueEvent } from '../state/event-queue.js';
import { parseDeliveryRecord } from '../state/records/events.js';
import type { Store } from '../store/store.js';
import { EventDispatcher, type RunTaskForRule } from './dispatcher.js';
import { ruleOperations } from './rules.js';
import { targetOperations } from './targets.js';

const scope = { region: 'us-east-1', accountId: '123456789012' };
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';
const ROLE = 'arn:aws:iam::123456789012:role/events';
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

function fixture(runTask: RunTaskForRule) {
  const store = new MemoryStore();
  let now = T0;
  const env = { store, scope, now: () => now };
  const dispatcher = new EventDispatcher({ store, scope, now: () => now, log: pino({ level: 'silent' }), runTask, baseBackoffMs: 1000, maxBackoffMs: 8000 });
  return { store, env, dispatcher, rules: ruleOperations(env), targets: targetOperations(env), advance: (ms: number) => (now += ms), at: () => now };
}

/** A fixture whose RunTask starts a task every time, and how many times it was called. */
function counting() {
  let calls = 0;
  const f = fixture(async () => {
    calls++;
    return { tasks: [{}] };
  });
  return { f, calls: () => calls };
}

/** A rule on the default bus with one ECS target. */
async function ruleWithTarget(f: ReturnType<typeof fixture>, rule: Record<string, unknown> & { Name: string }) {
  await f.rules.PutRule(rule);
  await f.targets.PutTargets({ Rule: rule.Name, Targets: [{ Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' } }] });
}

async function deliveries(store: Store) {
  const out = [];
  for await (const page of rangePages(store, eventsKeys.deliveries(), 100)) out.push(...page.map((e) => parseDeliveryRecord(e.value, e.key)));
  return out;
}

const putEvent = (store: Store, detail: Record<string, unknown>, now = T0) =>
  transact(store, async (tx) => enqueueEvent(tx, scope, 'default', { source: 'aws.ecs', detailType: 'ECS Task State Change', detail }, now));

describe('the dispatcher', () => {
  it('runs a matching rule’s ECS target with the InputTransformer’s overrides, once', async () => {
    const calls: { request: RunTaskRequest; role: string | undefined }[] = [];
    const f = fixture(async (request, role) => {
      calls.push({ request, role });
      return { tasks: [{ taskArn: 'a' }], failures: [] };
    });
    await f.rules.PutRule({ Name: 'failed-task', EventPattern: JSON.stringify({ source: ['aws.ecs'], detail: { containers: { exitCode: [{ 'anything-but': 0 }] } } }) });
    await f.targets.PutTargets({
      Rule: 'failed-task',
      Targets: [
        {
          Id: 'cleanup',
          Arn: CLUSTER,
          RoleArn: ROLE,
          EcsParameters: { TaskDefinitionArn: 'cleanup:3', TaskCount: 2, LaunchType: 'EC2', Group: 'family:cleanup', PlacementConstraints: [{ type: 'distinctInstance' }], Tags: [{ Key: 'k', Value: 'v' }], EnableExecuteCommand: true },
          InputTransformer: {
            InputPathsMap: { task: '$.detail.taskArn', code: '$.detail.containers[0].exitCode' },
            InputTemplate: '{"containerOverrides":[{"name":"main","command":["cleanup","<task>"],"environment":[{"name":"CODE","value":"<code>"}]}],"extra":<code>}',
          },
        },
      ],
    });
    await putEvent(f.store, { taskArn: 'arn:t/1', containers: [{ exitCode: 0 }] });
    await putEvent(f.store, { taskArn: 'arn:t/2', containers: [{ exitCode: 137 }] });
    await f.dispatcher.pass();
    await f.dispatcher.pass();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.role).toBe(ROLE);
    expect(calls[0]!.request).toEqual({
      cluster: CLUSTER,
      taskDefinition: 'cleanup:3',
      count: 2,
      startedBy: 'events-rule/failed-task',
      clientToken: expect.stringMatching(/^eb-[0-9a-f]{40}-0$/),
      launchType: 'EC2',
      group: 'family:cleanup',
      placementConstraints: [{ type: 'distinctInstance' }],
      tags: [{ key: 'k', value: 'v' }],
      enableExecuteCommand: true,
      overrides: { containerOverrides: [{ name: 'main', command: ['cleanup', 'arn:t/2'], environment: [{ name: 'CODE', value: '137' }] }] },
    });
    expect(await deliveries(f.store)).toEqual([]);
  });

  it('retries a failed RunTask with backoff and a new client token, and gives up as the RetryPolicy says', async () => {
    const tokens: string[] = [];
    const f = fixture(async (request) => {
      tokens.push(request.clientToken!);
      throw Object.assign(new Error('No Container Instances were found in your cluster.'), { name: 'ServiceError', type: 'InvalidParameterException' });
    });
    await f.rules.PutRule({ Name: 'r', EventPattern: '{"source":["aws.ecs"]}' });
    await f.targets.PutTargets({ Rule: 'r', Targets: [{ Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }] });
    await putEvent(f.store, {});
    await f.dispatcher.pass();
    expect(tokens).toHaveLength(1);
    const [pending] = await deliveries(f.store);
    expect(pending).toMatchObject({ attempts: 1, nextAttemptAt: T0 + 1000, lastError: expect.stringContaining('InvalidParameterException') });
    await f.dispatcher.pass();
    expect(tokens).toHaveLength(1);
    f.advance(1000);
    await f.dispatcher.pass();
    f.advance(2000);
    await f.dispatcher.pass();
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(3);
    expect(await deliveries(f.store)).toEqual([]);
  });

  it('routes many small batches in a few commits: 30 unmatched in one, 60 matched (120 writes) in two', async () => {
    const { f } = counting();
    await ruleWithTarget(f, { Name: 'r', EventPattern: '{"detail":{"match":[true]}}' });
    for (let i = 0; i < 30; i++) await putEvent(f.store, { match: false });
    let before = await f.store.revision();
    await f.dispatcher.route();
    expect((await f.store.revision()) - before).toBe(1);
    for (let i = 0; i < 60; i++) await putEvent(f.store, { match: true, n: i });
    before = await f.store.revision();
    await f.dispatcher.route();
    expect((await f.store.revision()) - before).toBe(2);
    expect(await deliveries(f.store)).toHaveLength(60);
    expect((await f.store.range(eventsKeys.queue())).entries).toEqual([]);
  });

  it('writes a group of attempts’ outcomes in one commit, some delivered and some to retry', async () => {
    let call = 0;
    const f = fixture(async () => (call++ % 2 === 0 ? { tasks: [{}] } : { tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] }));
    await ruleWithTarget(f, { Name: 'r', EventPattern: '{"source":["aws.ecs"]}' });
    for (let i = 0; i < 10; i++) await putEvent(f.store, { n: i });
    await f.dispatcher.route();
    expect(await deliveries(f.store)).toHaveLength(10);
    const before = await f.store.revision();
    await f.dispatcher.deliver();
    expect(call).toBe(10);
    expect((await f.store.revision()) - before).toBe(1);
    const left = await deliveries(f.store);
    expect(left).toHaveLength(5);
    expect(left.every((d) => d.attempts === 1 && d.lastError === 'RunTask started no task: RESOURCE:MEMORY')).toBe(true);
  });

  it('sends an event that exhausts its retries to the target DeadLetterConfig queue, with EventBridge attributes', async () => {
    const store = new MemoryStore();
    let now = T0;
    const env = { store, scope, now: () => now };
    const dead: { arn: string; body: string; attributes: Readonly<Record<string, string>> }[] = [];
    const dispatcher = new EventDispatcher({
      store,
      scope,
      now: () => now,
      log: pino({ level: 'silent' }),
      runTask: async () => {
        throw Object.assign(new Error('No Container Instances were found in your cluster.'), { name: 'ServiceError', type: 'InvalidParameterException' });
      },
      deadLetter: async (arn, body, attributes) => void dead.push({ arn, body, attributes }),
      baseBackoffMs: 1000,
      maxBackoffMs: 8000,
    });
    const DLQ = 'arn:aws:sqs:us-east-1:123456789012:events-dlq';
    await ruleOperations(env).PutRule({ Name: 'r', EventPattern: '{"source":["aws.ecs"]}' });
    const put = await targetOperations(env).PutTargets({
      Rule: 'r',
      Targets: [
        { Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' }, RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 3600 }, DeadLetterConfig: { Arn: DLQ } },
        { Id: 'bad', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' }, DeadLetterConfig: { Arn: 'arn:aws:sns:us-east-1:123456789012:topic' } },
      ],
    });
    expect(put.FailedEntries).toEqual([expect.objectContaining({ TargetId: 'bad', ErrorCode: 'ValidationException' })]);
    await putEvent(store, { lastStatus: 'STOPPED' });
    await dispatcher.pass();
    expect(dead).toEqual([]);
    now += 1000;
    await dispatcher.pass();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.arn).toBe(DLQ);
    expect(JSON.parse(dead[0]!.body)).toMatchObject({ source: 'aws.ecs', 'detail-type': 'ECS Task State Change', detail: { lastStatus: 'STOPPED' } });
    expect(dead[0]!.attributes).toEqual({
      RULE_ARN: 'arn:aws:events:us-east-1:123456789012:rule/r',
      TARGET_ARN: CLUSTER,
      ERROR_CODE: 'InvalidParameterException',
      ERROR_MESSAGE: 'InvalidParameterException: No Container Instances were found in your cluster.',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      RETRY_ATTEMPTS: '1',
    });
    expect(await deliveries(store)).toEqual([]);
  });

  it('drops an event older than MaximumEventAgeInSeconds', async () => {
    let calls = 0;
    const f = fixture(async () => {
      calls++;
      return { tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] };
    });
    await f.rules.PutRule({ Name: 'r', EventPattern: '{"source":["aws.ecs"]}' });
    await f.targets.PutTargets({ Rule: 'r', Targets: [{ Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' }, RetryPolicy: { MaximumEventAgeInSeconds: 60 } }] });
    await putEvent(f.store, {});
    let passes = 0;
    do {
      await f.dispatcher.pass();
      f.advance(8000);
      passes++;
    } while (passes < 20 && (await deliveries(f.store)).length > 0);
    expect(await deliveries(f.store)).toEqual([]);
    expect(calls).toBeGreaterThanOrEqual(4);
    expect(calls).toBeLessThanOrEqual(9);
  });

  it('routes nothing to a disabled rule, and drops the routed batch', async () => {
    const { f, calls } = counting();
    await ruleWithTarget(f, { Name: 'off', EventPattern: '{"source":["aws.ecs"]}', State: 'DISABLED' });
    await putEvent(f.store, {});
    await f.dispatcher.pass();
    expect(calls()).toBe(0);
    expect((await f.store.range(eventsKeys.queue())).entries).toEqual([]);
  });

  it('routes a batch larger than one commit’s deliveries in several commits, each event once', async () => {
    const { f, calls } = counting();
    await f.rules.PutRule({ Name: 'all', EventPattern: '{"source":["aws.ecs"]}' });
    await f.targets.PutTargets({ Rule: 'all', Targets: ['a', 'b', 'c'].map((Id) => ({ Id, Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' } })) });
    await transact(f.store, async (tx) => {
      for (let i = 0; i < 40; i++) enqueueEvent(tx, scope, 'default', { source: 'aws.ecs', detailType: 'd', detail: { i } }, T0);
    });
    expect((await f.store.range(eventsKeys.queue())).entries).toHaveLength(1);
    await f.dispatcher.route();
    expect(await deliveries(f.store)).toHaveLength(120);
    await f.dispatcher.deliver();
    expect(calls()).toBe(120);
  });
});

describe('scheduled rules', () => {
  it('a rate(1 minute) rule fires once per minute on a fake clock, and a missed stretch fires once', async () => {
    const fired: string[] = [];
    const f = fixture(async (request) => {
      fired.push(request.clientToken!);
      return { tasks: [{}] };
    });
    await f.rules.PutRule({ Name: 'tick', ScheduleExpression: 'rate(1 minute)' });
    await f.targets.PutTargets({ Rule: 'tick', Targets: [{ Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' }, Input: '{"cpu":"256"}' }] });
    await f.dispatcher.pass();
    expect(fired).toHaveLength(0);
    f.advance(59_999);
    await f.dispatcher.pass();
    expect(fired).toHaveLength(0);
    f.advance(1);
    await f.dispatcher.pass();
    await f.dispatcher.pass();
    expect(fired).toHaveLength(1);
    f.advance(60_000);
    await f.dispatcher.pass();
    expect(fired).toHaveLength(2);
    // Ten minutes with no leader: one firing, then back on the minute.
    f.advance(10 * 60_000);
    await f.dispatcher.pass();
    await f.dispatcher.pass();
    expect(fired).toHaveLength(3);
    f.advance(60_000);
    await f.dispatcher.pass();
    expect(fired).toHaveLength(4);
  });

  it('two dispatchers (a deposed leader and its successor) never fire one slot twice', async () => {
    let fired = 0;
    const runTask: RunTaskForRule = async () => {
      fired++;
      return { tasks: [{}] };
    };
    const f = fixture(runTask);
    const other = new EventDispatcher({ store: f.store, scope, now: f.at, log: pino({ level: 'silent' }), runTask });
    await f.rules.PutRule({ Name: 'tick', ScheduleExpression: 'rate(1 minute)' });
    await f.targets.PutTargets({ Rule: 'tick', Targets: [{ Id: 't', Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'x' } }] });
    for (let minute = 1; minute <= 5; minute++) {
      f.advance(60_000);
      await Promise.all([f.dispatcher.pass(), other.pass()]);
      await Promise.all([f.dispatcher.pass(), other.pass()]);
    }
    expect(fired).toBe(5);
  });

  it('a disabled scheduled rule lets its slots pass', async () => {
    const { f, calls } = counting();
    await ruleWithTarget(f, { Name: 'tick', ScheduleExpression: 'cron(* * * * ? *)', State: 'DISABLED' });
    f.advance(120_000);
    await f.dispatcher.pass();
    expect(calls()).toBe(0);
    await f.rules.EnableRule({ Name: 'tick' });
    f.advance(60_000);
    await f.dispatcher.pass();
    await f.dispatcher.pass();
    expect(calls()).toBe(1);
  });
});
