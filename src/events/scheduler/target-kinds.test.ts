import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadServiceModel } from '../../api/protocol/service-model.js';
import { MemoryStore } from '../../store/memory.js';
import { EventDispatcher, type TargetCaller } from '../dispatcher.js';
import { scheduleOperations, type ScheduleInput } from './schedules.js';
import { targetKindOf, UNIVERSAL_ACTIONS, type TargetCall } from './target-kinds.js';

const scope = { region: 'us-east-1', accountId: '123456789012' };
const ROLE = 'arn:aws:iam::123456789012:role/scheduler';
const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:jobs';
const BUS = 'arn:aws:events:us-east-1:123456789012:event-bus/default';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;

/** The Scheduler API on a memory store, and a dispatcher whose API calls are recorded and answered by `answer`. */
function fixture(answer: (call: TargetCall) => Promise<Record<string, unknown>> = async () => ({})) {
  const store = new MemoryStore();
  let now = T0;
  const calls: { call: TargetCall; role: string | undefined; invoker: string }[] = [];
  const callApi: TargetCaller = async (call, role, invoker) => {
    calls.push({ call, role, invoker });
    return answer(call);
  };
  const dispatcher = new EventDispatcher({
    store,
    scope,
    now: () => now,
    log: pino({ level: 'silent' }),
    runTask: async () => ({ tasks: [{}] }),
    callApi,
    baseBackoffMs: 1000,
    maxBackoffMs: 8000,
  });
  const api = scheduleOperations({ store, scope, now: () => now });
  const create = (name: string, target: Record<string, unknown>, extra: Partial<ScheduleInput> = {}) =>
    api.CreateSchedule({ Name: name, ScheduleExpression: at(T0 + 1_000), FlexibleTimeWindow: { Mode: 'OFF' }, Target: { RoleArn: ROLE, ...target } as ScheduleInput['Target'], ...extra });
  const run = async (passes: number) => {
    for (let i = 0; i < passes; i++) {
      now += 1_000;
      await dispatcher.pass();
    }
  };
  return { calls, create, run };
}

describe('schedule targets beyond ECS', () => {
  it('refuses at CreateSchedule what EventBridge Scheduler refuses, naming the target or field', async () => {
    const f = fixture();
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ Arn: 'arn:aws:lambda:us-east-1:123456789012:function:f' }, /^lambda is not a supported service for a target\.$/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:backup:startReportJob' }, /^backup is not a supported service for a target\.$/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:sqs:getQueueUrl' }, /sqs:getQueueUrl is not a supported action.*read-only/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:ecs:deregisterTaskDefinition' }, /ecs:deregisterTaskDefinition is not a supported action/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:ecs:RunTask' }, /ecs:RunTask is not a supported action/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage', Input: 'not json' }, /Target\.Input must be well-formed JSON/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage', Input: '[1]' }, /Target\.Input must be a JSON object/],
      [{ Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage', SqsParameters: { MessageGroupId: 'g' } }, /Target\.SqsParameters cannot be used/],
      [{ Arn: QUEUE, EcsParameters: { TaskDefinitionArn: 'x' } }, /Target\.EcsParameters cannot be used/],
      [{ Arn: BUS }, /Target\.EventBridgeParameters is required/],
      [{ Arn: BUS, EventBridgeParameters: { DetailType: 'd', Source: 's' }, Input: 'text' }, /Target\.Input must be well-formed JSON/],
    ];
    for (const [target, message] of refusals) {
      await expect(f.create('refused', target), JSON.stringify(target)).rejects.toMatchObject({ type: 'ValidationException', message: expect.stringMatching(message) });
    }
    // Context attributes may stand where JSON values go.
    await expect(f.create('ok', { Arn: 'arn:aws:scheduler:::aws-sdk:sqs:sendMessage', Input: '{"QueueUrl":"q","MessageBody":"<aws.scheduler.scheduled-time>"}' })).resolves.toHaveProperty('ScheduleArn');
  });

  it('sends the Input to an SQS queue target (with SqsParameters.MessageGroupId), as the role assumed by scheduler.amazonaws.com', async () => {
    const f = fixture();
    await f.create('to-queue', { Arn: `${QUEUE}.fifo`, SqsParameters: { MessageGroupId: 'g1' }, Input: '{"at":"<aws.scheduler.scheduled-time>"}' });
    await f.run(3);
    expect(f.calls).toEqual([
      {
        role: ROLE,
        invoker: 'scheduler.amazonaws.com',
        call: { api: 'sqs', action: 'SendMessage', userInput: false, input: { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo', MessageBody: `{"at":"${new Date(T0 + 1_000).toISOString().replace('.000Z', 'Z')}"}`, MessageGroupId: 'g1' } },
      },
    ]);
  });

  it('puts an event on a bus target (EventBridgeParameters) and retries a PutEvents whose entry failed', async () => {
    let answers = 0;
    const f = fixture(async () => (answers++ === 0 ? { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] } : { FailedEntryCount: 0, Entries: [{ EventId: 'e' }] }));
    const { ScheduleArn } = await f.create('to-bus', { Arn: BUS, EventBridgeParameters: { DetailType: 'Nightly', Source: 'my.app' }, Input: '{"n":"<aws.scheduler.attempt-number>"}' });
    await f.run(6);
    expect(f.calls.map((c) => c.call.input)).toEqual([
      { Entries: [{ EventBusName: BUS, Source: 'my.app', DetailType: 'Nightly', Detail: '{"n":"1"}', Resources: [ScheduleArn] }] },
      { Entries: [{ EventBusName: BUS, Source: 'my.app', DetailType: 'Nightly', Detail: '{"n":"2"}', Resources: [ScheduleArn] }] },
    ]);
  });

  it('a universal target calls the action with its Input as the request; ecs:runTask gets a client token per attempt', async () => {
    let answers = 0;
    const f = fixture(async () => {
      if (answers++ === 0) throw Object.assign(new Error('not yet'), { name: 'ServerException' });
      return { tasks: [] };
    });
    await f.create('universal', { Arn: 'arn:aws:scheduler:::aws-sdk:ecs:runTask', Input: '{"Cluster":"default","TaskDefinition":"job:1"}' });
    await f.run(6);
    expect(f.calls).toHaveLength(2);
    const [first, second] = f.calls.map((c) => c.call);
    expect(first).toMatchObject({ api: 'ecs', action: 'RunTask', userInput: true, input: { Cluster: 'default', TaskDefinition: 'job:1', clientToken: expect.stringMatching(/^eb-/) } });
    expect(second!.input.clientToken).not.toBe(first!.input.clientToken);
  });

  it('every universal action berth lists is an operation of its API model, and none is read-only', () => {
    const models = { ecs: 'ecs-2014-11-13.json', sqs: 'sqs-2012-11-05.json', events: 'events-2015-10-07.json' } as const;
    for (const [api, actions] of Object.entries(UNIVERSAL_ACTIONS) as [keyof typeof models, readonly string[]][]) {
      const model = loadServiceModel(models[api]);
      for (const action of actions) {
        expect(model.operations[action], `${api}:${action}`).toBeDefined();
        const service = api === 'events' ? 'eventbridge' : api;
        expect(targetKindOf(`arn:aws:scheduler:::aws-sdk:${service}:${action.charAt(0).toLowerCase()}${action.slice(1)}`)).toEqual({ kind: 'universal', api, action });
      }
    }
  });
});
