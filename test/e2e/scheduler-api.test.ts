import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, hasAwsCli } from './support/aws-cli.js';
import { startBerthServer, type BerthServerProcess } from './support/berth-server.js';
import { boto3Calls } from './support/boto3.js';

const REGION = 'us-east-1';

/**
 * EventBridge Scheduler's API through the AWS CLI v2 (`aws scheduler …`, REST-JSON signed for `scheduler`) against
 * the built server: schedules and groups made, read, listed, replaced and deleted; bad input answered with the
 * model's error and a message naming the field, nothing created; tags on groups only. Firing is
 * scheduler-firing.test.ts's (fake clock) and scheduler-kill.test.ts's (real containers).
 */
describe('EventBridge Scheduler API (AWS CLI v2)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-e2e-scheduler-api-'));
  let server: BerthServerProcess;
  let account: string;
  let cluster: string;
  let role: string;
  const cli = (...args: string[]) => awsCli(server.url, server.credentialsFile, ['scheduler', ...args], REGION);
  const target = (extra: object = {}) => JSON.stringify({ Arn: cluster, RoleArn: role, EcsParameters: { TaskDefinitionArn: 'nightly:1' }, ...extra });
  const create = (name: string, ...more: string[]) =>
    cli('create-schedule', '--name', name, '--schedule-expression', 'rate(1 hour)', '--flexible-time-window', 'Mode=OFF', '--target', target(), ...more);

  beforeAll(async () => {
    if (!hasAwsCli) throw new Error('this test needs the AWS CLI v2 at /usr/bin/aws');
    server = await startBerthServer(join(dir, 'server'));
    const who = await awsCli(server.url, server.credentialsFile, ['sts', 'get-caller-identity'], REGION);
    account = who.json.Account;
    cluster = `arn:aws:ecs:${REGION}:${account}:cluster/default`;
    role = `arn:aws:iam::${account}:role/scheduler-run-task`;
  });
  afterAll(async () => {
    await server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a cron schedule in a time zone with a flexible window and answers GetSchedule with what was given', async () => {
    const made = await cli(
      'create-schedule', '--name', 'nightly', '--schedule-expression', 'cron(30 2 * * ? *)', '--schedule-expression-timezone', 'Europe/Berlin',
      '--flexible-time-window', 'Mode=FLEXIBLE,MaximumWindowInMinutes=15', '--description', 'nightly report',
      '--target', target({ Input: '{"containerOverrides":[{"name":"app","environment":[{"name":"AT","value":"<aws.scheduler.scheduled-time>"}]}]}', RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 }, DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${account}:nightly-dlq` }, EcsParameters: { TaskDefinitionArn: 'nightly:1', TaskCount: 2, LaunchType: 'EC2', Tags: [{ team: 'data' }] } }),
    );
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.ScheduleArn).toBe(`arn:aws:scheduler:${REGION}:${account}:schedule/default/nightly`);
    const got = await cli('get-schedule', '--name', 'nightly');
    expect(got.json).toMatchObject({
      Name: 'nightly',
      GroupName: 'default',
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      State: 'ENABLED',
      Description: 'nightly report',
      Target: { Arn: cluster, RoleArn: role, RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 }, DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${account}:nightly-dlq` }, EcsParameters: { TaskCount: 2, LaunchType: 'EC2', Tags: [{ team: 'data' }] } },
    });
    expect(new Date(got.json.CreationDate).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('refuses bad input with ValidationException naming the field, and creates nothing (boto3)', async () => {
    const base = { Name: 'refused', ScheduleExpression: 'rate(5 minutes)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: JSON.parse(target()) };
    const cases: [object, RegExp][] = [
      [{ ScheduleExpression: 'cron(0 9 * *)' }, /ScheduleExpression/],
      [{ ScheduleExpression: 'rate(0 minutes)' }, /ScheduleExpression/],
      [{ ScheduleExpression: 'cron(0 9 * * ? *)', ScheduleExpressionTimezone: 'Mars/Olympus' }, /ScheduleExpressionTimezone/],
      [{ FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }, /MaximumWindowInMinutes/],
      [{ Target: { Arn: 'arn:aws:lambda:us-east-1:123456789012:function:f', RoleArn: role } }, /^lambda is not a supported service for a target\.$/],
      [{ Target: { Arn: 'arn:aws:scheduler:::aws-sdk:sqs:getQueueUrl', RoleArn: role, Input: '{}' } }, /sqs:getQueueUrl is not a supported action/],
      [{ Target: { Arn: `arn:aws:events:${REGION}:123456789012:event-bus/default`, RoleArn: role } }, /Target\.EventBridgeParameters/],
      [{ Target: { Arn: cluster, RoleArn: role } }, /Target\.EcsParameters/],
      [{ Target: JSON.parse(target({ SqsParameters: { MessageGroupId: 'g' } })) }, /Target\.SqsParameters/],
      [{ Target: JSON.parse(target({ EcsParameters: { TaskDefinitionArn: 'x', TaskCount: 11 } })) }, /TaskCount/],
      [{ EndDate: '2001-01-01T00:00:00Z' }, /EndDate/],
      [{ StartDate: '2099-01-02T00:00:00Z', EndDate: '2099-01-01T00:00:00Z' }, /EndDate/],
      [{ ActionAfterCompletion: 'ARCHIVE' }, /ActionAfterCompletion/],
    ];
    const answers = await boto3Calls(server.url, server.keys, 'scheduler', [
      ...cases.map(([change]) => ({ op: 'create_schedule', params: { ...base, ...change } })),
      { op: 'get_schedule', params: { Name: 'refused' } },
      { op: 'create_schedule', params: { ...base, Name: 'orphan', GroupName: 'no-such-group' } },
      { op: 'create_schedule', params: { ...base, Name: 'nightly' } },
    ]);
    cases.forEach(([change, field], i) => expect(answers[i], JSON.stringify(change)).toMatchObject({ error: { code: 'ValidationException', message: expect.stringMatching(field) } }));
    const [missing, orphan, twice] = answers.slice(cases.length);
    expect(missing).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
    expect(orphan).toMatchObject({ error: { code: 'ResourceNotFoundException', message: expect.stringContaining('no-such-group') } });
    expect(twice).toMatchObject({ error: { code: 'ConflictException' } });
    // The CLI reports the same errors (its HTTP status and x-amzn-ErrorType as the model declares them).
    const cliRefused = await cli('create-schedule', '--name', 'refused', '--schedule-expression', 'cron(0 9 * *)', '--flexible-time-window', 'Mode=OFF', '--target', target());
    expect(cliRefused.stderr).toMatch(/ValidationException.*ScheduleExpression/);
  });

  it('UpdateSchedule (boto3, which knows ActionAfterCompletion) replaces the whole schedule; DeleteSchedule', async () => {
    const base = { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: JSON.parse(target()) };
    const answers = await boto3Calls(server.url, server.keys, 'scheduler', [
      { op: 'create_schedule', params: { ...base, Name: 'hourly', Description: 'first' } },
      { op: 'update_schedule', params: { ...base, Name: 'hourly', ScheduleExpression: 'at(2099-01-01T00:00:00)', State: 'DISABLED', ActionAfterCompletion: 'DELETE' } },
      { op: 'get_schedule', params: { Name: 'hourly' } },
      { op: 'update_schedule', params: { ...base, Name: 'hourly', FlexibleTimeWindow: { Mode: 'OFF', MaximumWindowInMinutes: 5 } } },
      { op: 'update_schedule', params: { ...base, Name: 'never-made' } },
      { op: 'delete_schedule', params: { Name: 'hourly' } },
      { op: 'delete_schedule', params: { Name: 'hourly' } },
    ]);
    const [made, updated, got, badWindow, absent, deleted, deletedTwice] = answers;
    expect(made).toHaveProperty('ok');
    expect(updated).toEqual({ ok: { ScheduleArn: `arn:aws:scheduler:${REGION}:${account}:schedule/default/hourly` } });
    expect(got).toMatchObject({ ok: { ScheduleExpression: 'at(2099-01-01T00:00:00)', State: 'DISABLED', ActionAfterCompletion: 'DELETE' } });
    // Left out of the update: gone, not kept.
    expect('ok' in got! && got.ok.Description).toBeUndefined();
    expect(badWindow).toMatchObject({ error: { code: 'ValidationException', message: expect.stringContaining('MaximumWindowInMinutes') } });
    expect(absent).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
    expect(deleted).toEqual({ ok: {} });
    expect(deletedTwice).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
  });

  it('groups: default exists and stays; a group is tagged (schedules are not); deleting a group deletes its schedules', async () => {
    const made = await cli('create-schedule-group', '--name', 'batch', '--tags', 'Key=team,Value=data');
    expect(made.json.ScheduleGroupArn).toBe(`arn:aws:scheduler:${REGION}:${account}:schedule-group/batch`);
    const arn = made.json.ScheduleGroupArn;
    const base = { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: JSON.parse(target()), GroupName: 'batch' };
    const answers = await boto3Calls(server.url, server.keys, 'scheduler', [
      { op: 'get_schedule_group', params: { Name: 'default' } },
      { op: 'delete_schedule_group', params: { Name: 'default' } },
      { op: 'create_schedule_group', params: { Name: 'batch' } },
      { op: 'tag_resource', params: { ResourceArn: arn, Tags: [{ Key: 'env', Value: 'prod' }] } },
      { op: 'untag_resource', params: { ResourceArn: arn, TagKeys: ['team'] } },
      { op: 'list_tags_for_resource', params: { ResourceArn: `arn:aws:scheduler:${REGION}:${account}:schedule/default/nightly` } },
      ...['b1', 'b2', 'b3'].map((Name) => ({ op: 'create_schedule', params: { ...base, Name } })),
      { op: 'list_schedules', params: { GroupName: 'batch' } },
    ]);
    const [def, defDelete, again, tagged, untagged, scheduleTags, b1, b2, b3, listed] = answers;
    expect(def).toMatchObject({ ok: { Name: 'default', State: 'ACTIVE', Arn: `arn:aws:scheduler:${REGION}:${account}:schedule-group/default` } });
    expect(defDelete).toMatchObject({ error: { code: 'ValidationException' } });
    expect(again).toMatchObject({ error: { code: 'ConflictException' } });
    expect([tagged, untagged, b1, b2, b3].every((a) => 'ok' in a!)).toBe(true);
    expect(scheduleTags).toMatchObject({ error: { code: 'ValidationException' } });
    expect('ok' in listed! && listed.ok.Schedules).toHaveLength(3);
    // Through the CLI: the tags left, both groups, and the group's deletion taking its schedules.
    expect((await cli('list-tags-for-resource', '--resource-arn', arn)).json.Tags).toEqual([{ Key: 'env', Value: 'prod' }]);
    expect((await cli('list-schedule-groups')).json.ScheduleGroups.map((g: { Name: string }) => g.Name)).toEqual(['batch', 'default']);
    expect((await cli('delete-schedule-group', '--name', 'batch')).code).toBe(0);
    const after = await boto3Calls(server.url, server.keys, 'scheduler', [
      { op: 'get_schedule_group', params: { Name: 'batch' } },
      { op: 'get_schedule', params: { Name: 'b1', GroupName: 'batch' } },
      // A group of that name made again starts empty.
      { op: 'create_schedule_group', params: { Name: 'batch' } },
      { op: 'list_schedules', params: { GroupName: 'batch' } },
    ]);
    expect(after[0]).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
    expect(after[1]).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
    expect(after[2]).toHaveProperty('ok');
    expect(after[3]).toEqual({ ok: { Schedules: [] } });
  });

  it('ListSchedules filters by name prefix, group and state, and pages', async () => {
    const base = { ScheduleExpression: 'rate(1 hour)', FlexibleTimeWindow: { Mode: 'OFF' }, Target: JSON.parse(target()) };
    const made = await boto3Calls(server.url, server.keys, 'scheduler', [
      ...['page-1', 'page-2', 'page-3', 'page-4', 'page-5'].map((Name) => ({ op: 'create_schedule', params: { ...base, Name } })),
      { op: 'create_schedule', params: { ...base, Name: 'page-off', State: 'DISABLED' } },
      { op: 'list_schedules', params: { State: 'DISABLED' } },
      { op: 'list_schedules', params: { GroupName: 'missing' } },
    ]);
    expect(made.slice(0, 6).every((a) => 'ok' in a)).toBe(true);
    expect(made[6]).toMatchObject({ ok: { Schedules: [{ Name: 'page-off', State: 'DISABLED' }] } });
    expect(made[7]).toMatchObject({ error: { code: 'ResourceNotFoundException' } });
    const one = await cli('list-schedules', '--name-prefix', 'page-', '--max-items', '2', '--page-size', '2');
    expect(one.json.Schedules.map((s: { Name: string }) => s.Name)).toEqual(['page-1', 'page-2']);
    expect(one.json.NextToken).toBeDefined();
    // The CLI follows NextToken itself without --max-items: every page, in order.
    const all = await cli('list-schedules', '--name-prefix', 'page-', '--page-size', '2');
    expect(all.json.Schedules.map((s: { Name: string }) => s.Name)).toEqual(['page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-off']);
    expect(all.json.Schedules[0]).toMatchObject({ GroupName: 'default', State: 'ENABLED', Target: { Arn: cluster } });
  });

  it('an invocation that fails past its RetryPolicy reaches the DeadLetterConfig queue (aws sqs receive-message)', async () => {
    const sqs = (...args: string[]) => awsCli(server.url, server.credentialsFile, ['sqs', ...args], REGION);
    const queue = await sqs('create-queue', '--queue-name', 'schedule-dlq');
    // The role does not exist, so RunTask is refused; no retry is allowed. A rate schedule without StartDate fires at once.
    const made = await create('dead-lettered', '--target', target({
      Input: '{"from":"<aws.scheduler.schedule-arn>"}',
      RetryPolicy: { MaximumRetryAttempts: 0 },
      DeadLetterConfig: { Arn: `arn:aws:sqs:${REGION}:${account}:schedule-dlq` },
    }));
    const got = await sqs('receive-message', '--queue-url', queue.json.QueueUrl, '--wait-time-seconds', '20', '--message-attribute-names', 'All');
    await cli('delete-schedule', '--name', 'dead-lettered');
    const m = got.json?.Messages?.[0];
    expect(JSON.parse(m?.Body ?? '{}')).toEqual({ from: made.json.ScheduleArn });
    const attribute = (name: string) => m?.MessageAttributes?.[name]?.StringValue;
    expect([attribute('SCHEDULE_ARN'), attribute('TARGET_ARN'), attribute('EXHAUSTED_RETRY_CONDITION'), attribute('RETRY_ATTEMPTS')]).toEqual([
      made.json.ScheduleArn,
      cluster,
      'MaximumRetryAttempts',
      '0',
    ]);
    expect(attribute('ERROR_MESSAGE')).toBeTruthy();
  });
});
