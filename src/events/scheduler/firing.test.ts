import type { RunTaskRequest } from '@aws-sdk/client-ecs';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory.js';
import { transact } from '../../store/transact.js';
import { schedulerKeys } from '../../state/scheduler-keys.js';
import { parseScheduleGroupRecord } from '../../state/records/schedules.js';
import { EventDispatcher, type RunTaskForRule, type TargetInvoker } from '../dispatcher.js';
import { fireTimeOf } from './expression.js';
import { groupOperations } from './groups.js';
import { scheduleOperations, type ScheduleInput } from './schedules.js';

const scope = { region: 'us-east-1', accountId: '123456789012' };
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/default';
const ROLE = 'arn:aws:iam::123456789012:role/scheduler';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (ms: number) => `at(${new Date(ms).toISOString().slice(0, 19)})`;

interface Call {
  readonly request: RunTaskRequest;
  readonly role: string | undefined;
  readonly invoker: TargetInvoker | undefined;
}

/** A store, a fake clock, the API's operations and a dispatcher whose RunTask is `runTask` (default: starts a task). */
function fixture(runTask?: RunTaskForRule) {
  const store = new MemoryStore();
  let now = T0;
  const calls: Call[] = [];
  const run: RunTaskForRule = async (request, role, invoker) => {
    calls.push({ request, role, invoker });
    return runTask ? runTask(request, role, invoker) : { tasks: [{}] };
  };
  const env = { store, scope, now: () => now };
  const dispatcher = () => new EventDispatcher({ store, scope, now: () => now, log: pino({ level: 'silent' }), runTask: run, baseBackoffMs: 1000, maxBackoffMs: 8000 });
  const api = { ...scheduleOperations(env), ...groupOperations(env) };
  const schedule = (name: string, expression: string, extra: Partial<ScheduleInput> = {}) =>
    api.CreateSchedule({ Name: name, ScheduleExpression: expression, FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job:1' } }, ...extra });
  return { store, api, calls, schedule, main: dispatcher(), dispatcher, advance: (ms: number) => (now += ms), now: () => now };
}

const exists = (f: ReturnType<typeof fixture>, name: string) => f.api.GetSchedule({ Name: name }).then(() => true, () => false);

describe('schedules fire', () => {
  it('an at() schedule runs its ECS target once, as the role assumed by scheduler.amazonaws.com, with its Input and context attributes', async () => {
    const f = fixture();
    await f.schedule('once', at(T0 + 5_000), {
      Target: {
        Arn: CLUSTER,
        RoleArn: ROLE,
        EcsParameters: { TaskDefinitionArn: 'job:1', TaskCount: 2, LaunchType: 'EC2', Tags: [{ team: 'data', tier: 'batch' }] },
        Input: '{"containerOverrides":[{"name":"app","environment":[{"name":"AT","value":"<aws.scheduler.scheduled-time>"},{"name":"N","value":"<aws.scheduler.attempt-number>"},{"name":"S","value":"<aws.scheduler.schedule-arn>"}]}]}',
      },
    });
    await f.main.pass();
    expect(f.calls).toHaveLength(0);
    f.advance(5_000);
    for (let i = 0; i < 3; i++) await f.main.pass();
    expect(f.calls).toHaveLength(1);
    const { request, role, invoker } = f.calls[0]!;
    expect(role).toBe(ROLE);
    expect(invoker).toBe('scheduler.amazonaws.com');
    expect(request).toMatchObject({
      cluster: CLUSTER,
      taskDefinition: 'job:1',
      count: 2,
      launchType: 'EC2',
      startedBy: 'scheduler/once',
      tags: [{ key: 'team', value: 'data' }, { key: 'tier', value: 'batch' }],
      overrides: {
        containerOverrides: [
          {
            name: 'app',
            environment: [
              { name: 'AT', value: new Date(T0 + 5_000).toISOString().replace('.000Z', 'Z') },
              { name: 'N', value: '1' },
              { name: 'S', value: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/once' },
            ],
          },
        ],
      },
    });
    expect(request.clientToken).toMatch(/^eb-/);
    // NONE: the completed schedule stays.
    expect(await exists(f, 'once')).toBe(true);
  });

  it('ActionAfterCompletion DELETE deletes an at() schedule in the commit that fires it', async () => {
    const f = fixture();
    await f.schedule('gone', at(T0 + 1_000), { ActionAfterCompletion: 'DELETE' });
    f.advance(1_000);
    await f.main.pass();
    expect(f.calls).toHaveLength(1);
    expect(await exists(f, 'gone')).toBe(false);
  });

  it('two dispatchers (a deposed leader and its successor) never fire one slot twice', async () => {
    const f = fixture();
    const other = f.dispatcher();
    await f.schedule('tick', 'rate(1 minute)');
    for (let minute = 0; minute < 5; minute++) {
      await Promise.all([f.main.pass(), other.pass()]);
      await Promise.all([f.main.pass(), other.pass()]);
      f.advance(60_000);
    }
    expect(f.calls).toHaveLength(5);
    expect(new Set(f.calls.map((c) => c.request.clientToken)).size).toBe(5);
  });

  it('slots missed while no leader ran fire once on recovery; older than MaximumEventAgeInSeconds they are dropped', async () => {
    const f = fixture();
    await f.schedule('tick', 'rate(1 minute)');
    await f.schedule('late-once', at(T0 + 60_000), { Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job:1' }, RetryPolicy: { MaximumEventAgeInSeconds: 3_600 } } });
    await f.schedule('too-late', at(T0 + 60_000), { Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job:1' }, RetryPolicy: { MaximumEventAgeInSeconds: 60 } } });
    await f.main.pass();
    expect(f.calls.map((c) => c.request.startedBy)).toEqual(['scheduler/tick']);
    // Ten minutes without a leader.
    f.advance(10 * 60_000);
    await f.main.pass();
    await f.main.pass();
    expect(f.calls.map((c) => c.request.startedBy).sort()).toEqual(['scheduler/late-once', 'scheduler/tick', 'scheduler/tick']);
    // And the rate goes on from now.
    f.advance(60_000);
    await f.main.pass();
    expect(f.calls.filter((c) => c.request.startedBy === 'scheduler/tick')).toHaveLength(3);
  });

  it('a flexible window fires within it, not at the slot', async () => {
    const f = fixture();
    await f.schedule('flex', at(T0 + 60_000), { FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 } });
    let firedAt: number | undefined;
    for (let t = 0; t <= 12 * 60 && firedAt === undefined; t += 5) {
      await f.main.pass();
      if (f.calls.length > 0) firedAt = f.now();
      else f.advance(5_000);
    }
    // The point the schedule's ARN and slot decide (more than one 5 s step after the slot for this ARN).
    const point = fireTimeOf(T0 + 60_000, 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/flex', { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 });
    expect(point - (T0 + 60_000)).toBeGreaterThan(5_000);
    expect(firedAt).toBeDefined();
    expect(firedAt!).toBeGreaterThanOrEqual(point);
    expect(firedAt!).toBeLessThan(point + 5_000);
    expect(f.calls).toHaveLength(1);
  });

  it('a disabled schedule lets its slots pass; enabled again (UpdateSchedule) it counts from then', async () => {
    const f = fixture();
    await f.schedule('tick', 'rate(1 minute)', { State: 'DISABLED' });
    f.advance(5 * 60_000);
    await f.main.pass();
    expect(f.calls).toHaveLength(0);
    await f.api.UpdateSchedule({ Name: 'tick', ScheduleExpression: 'rate(1 minute)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job:1' } } });
    await f.main.pass();
    expect(f.calls).toHaveLength(1);
  });

  it('a failing target is retried under its RetryPolicy, then dropped; nothing fires again', async () => {
    const f = fixture(async () => {
      throw Object.assign(new Error('User is not authorized to perform: ecs:RunTask'), { name: 'AccessDeniedException' });
    });
    await f.schedule('denied', at(T0 + 1_000), { Target: { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job:1' }, RetryPolicy: { MaximumRetryAttempts: 2 } } });
    for (let i = 0; i < 30; i++) {
      f.advance(1_000);
      await f.main.pass();
    }
    expect(f.calls).toHaveLength(3);
    expect(f.calls.map((c) => c.request.clientToken)).toEqual([...new Set(f.calls.map((c) => c.request.clientToken))]);
  });

  it('an invocation that exhausts its retries goes to the DeadLetterConfig queue: the last attempt’s input, Scheduler attributes', async () => {
    const store = new MemoryStore();
    let now = T0;
    const dead: { arn: string; body: string; attributes: Readonly<Record<string, string>> }[] = [];
    const dispatcher = new EventDispatcher({
      store,
      scope,
      now: () => now,
      log: pino({ level: 'silent' }),
      runTask: async () => {
        throw Object.assign(new Error('User is not authorized to perform: ecs:RunTask'), { name: 'AccessDeniedException' });
      },
      deadLetter: async (arn, body, attributes) => void dead.push({ arn, body, attributes }),
      baseBackoffMs: 1000,
      maxBackoffMs: 8000,
    });
    const api = scheduleOperations({ store, scope, now: () => now });
    const DLQ = 'arn:aws:sqs:us-east-1:123456789012:schedule-dlq';
    const target = { Arn: CLUSTER, RoleArn: ROLE, EcsParameters: { TaskDefinitionArn: 'job:1' }, Input: '{"n":"<aws.scheduler.attempt-number>"}', RetryPolicy: { MaximumRetryAttempts: 1 } };
    await expect(api.CreateSchedule({ Name: 'bad', ScheduleExpression: at(T0 + 1_000), FlexibleTimeWindow: { Mode: 'OFF' }, Target: { ...target, DeadLetterConfig: { Arn: 'arn:aws:sns:us-east-1:123456789012:t' } } })).rejects.toThrow(/Target\.DeadLetterConfig\.Arn/);
    const { ScheduleArn } = await api.CreateSchedule({ Name: 'denied', ScheduleExpression: at(T0 + 1_000), FlexibleTimeWindow: { Mode: 'OFF' }, Target: { ...target, DeadLetterConfig: { Arn: DLQ } } });
    for (let i = 0; i < 10; i++) {
      now += 1_000;
      await dispatcher.pass();
    }
    expect(dead).toEqual([
      {
        arn: DLQ,
        body: '{"n":"2"}',
        attributes: {
          SCHEDULE_ARN: ScheduleArn,
          TARGET_ARN: CLUSTER,
          ERROR_CODE: 'AccessDeniedException',
          ERROR_MESSAGE: 'AccessDeniedException: User is not authorized to perform: ecs:RunTask',
          EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
          RETRY_ATTEMPTS: '1',
        },
      },
    ]);
  });

  it('a group deletion a crash interrupted is finished by the next pass; its schedules never fire', async () => {
    const f = fixture();
    await f.api.CreateScheduleGroup({ Name: 'batch' });
    await f.schedule('b1', at(T0 + 1_000), { GroupName: 'batch' });
    await transact(f.store, async (tx) => {
      const group = (await tx.getRecord(parseScheduleGroupRecord, schedulerKeys.group('batch')))!;
      tx.putJson(schedulerKeys.group('batch'), { ...group, deleting: true });
    });
    f.advance(1_000);
    await f.main.pass();
    expect(f.calls).toHaveLength(0);
    expect((await f.store.range(schedulerKeys.schedules())).entries).toHaveLength(0);
    expect((await f.store.range(schedulerKeys.nexts())).entries).toHaveLength(0);
    await expect(f.api.GetScheduleGroup({ Name: 'batch' })).rejects.toMatchObject({ type: 'ResourceNotFoundException' });
  });
});
