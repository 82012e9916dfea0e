import { describe, expect, it } from 'vitest';
import type { RoleType } from '../../model/acs.js';
import { RETRY_ISSUE_AFTER_MS, SessionCredentials, taskRoles, type TaskRoleIssuer } from './task-role-credentials.js';

const HOUR = 3_600_000;

/** An issuer whose credentials last an hour from the test's clock, numbered so a renewal shows. */
function fakeIssuer(clock: { now: number }, fail = new Set<string>()) {
  const calls: { roleArn: string; taskArn: string; roleType: RoleType }[] = [];
  const issuer: TaskRoleIssuer = {
    async issue(request) {
      calls.push(request);
      if (fail.has(request.roleArn)) throw new Error(`cannot assume ${request.roleArn}`);
      return {
        roleArn: request.roleArn,
        accessKeyId: `ASIA${calls.length}`,
        secretAccessKey: 'secret',
        sessionToken: 'token',
        expiration: new Date(clock.now + HOUR).toISOString(),
      };
    },
  };
  return { issuer, calls };
}

describe('taskRoles', () => {
  it("takes the task definition's roles, an override winning", () => {
    expect(taskRoles({})).toEqual([]);
    expect(taskRoles({ taskRoleArn: 'arn:r1', executionRoleArn: 'arn:x1' })).toEqual([
      ['TaskApplication', 'arn:r1'],
      ['TaskExecution', 'arn:x1'],
    ]);
    expect(taskRoles({ taskRoleArn: 'arn:r1' }, { taskRoleArn: 'arn:r2', executionRoleArn: 'arn:x2' })).toEqual([
      ['TaskApplication', 'arn:r2'],
      ['TaskExecution', 'arn:x2'],
    ]);
  });
});

describe('SessionCredentials', () => {
  it('issues with the push and renews at half life, not before', async () => {
    const clock = { now: 1_000_000 };
    const { issuer, calls } = fakeIssuer(clock);
    const creds = new SessionCredentials(issuer, () => clock.now);
    const { credentials, failures } = await creds.forPush('task/1', [['TaskApplication', 'arn:role']]);
    expect(failures).toEqual([]);
    expect(credentials.get('TaskApplication')).toMatchObject({ accessKeyId: 'ASIA1', roleArn: 'arn:role' });
    expect(credentials.get('TaskApplication')!.credentialsId).toMatch(/^[0-9a-f-]{36}$/);

    clock.now += HOUR / 2 - 1;
    expect(await creds.renewDue()).toEqual([]);
    clock.now += 1;
    const renewed = await creds.renewDue();
    expect(renewed).toHaveLength(1);
    expect(renewed[0]).toMatchObject({ taskArn: 'task/1', roleType: 'TaskApplication', credentials: { accessKeyId: 'ASIA2' } });
    // The renewed ones are good for another hour from now: nothing due until their own half life.
    clock.now += HOUR / 2 - 1;
    expect(await creds.renewDue()).toEqual([]);
    expect(calls).toHaveLength(2);
  });

  it('tries a failed issue again later, and stops renewing a forgotten task', async () => {
    const clock = { now: 0 };
    const fail = new Set(['arn:broken']);
    const { issuer, calls } = fakeIssuer(clock, fail);
    const creds = new SessionCredentials(issuer, () => clock.now);
    const push = await creds.forPush('task/1', [
      ['TaskApplication', 'arn:broken'],
      ['TaskExecution', 'arn:exec'],
    ]);
    expect(push.failures.map((f) => f.roleArn)).toEqual(['arn:broken']);
    expect([...push.credentials.keys()]).toEqual(['TaskExecution']);

    clock.now += RETRY_ISSUE_AFTER_MS - 1;
    expect(await creds.renewDue()).toEqual([]);
    fail.clear();
    clock.now += 1;
    const retried = await creds.renewDue();
    expect(retried).toMatchObject([{ taskArn: 'task/1', roleType: 'TaskApplication', credentials: { roleArn: 'arn:broken' } }]);

    creds.forget('task/1');
    clock.now += 10 * HOUR;
    expect(await creds.renewDue()).toEqual([]);
    expect(calls).toHaveLength(3);
  });
});
