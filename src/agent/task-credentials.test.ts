import { describe, expect, it } from 'vitest';
import type { AcsTask, RoleCredentials } from '../model/acs.js';
import { credentialsResponse, TaskCredentials } from './task-credentials.js';

const creds = (id: string, expiration: string): RoleCredentials => ({
  credentialsId: id,
  roleArn: 'arn:aws:iam::123456789012:role/app',
  accessKeyId: `ASIA${id}`,
  secretAccessKey: `secret-${id}`,
  sessionToken: `token-${id}`,
  expiration,
});

describe('TaskCredentials', () => {
  it('takes credentials out of a payload task, so what the engine saves has none', () => {
    const store = new TaskCredentials();
    const task = { arn: 'task/1', roleCredentials: creds('a', '2030-01-01T00:00:00Z'), executionRoleCredentials: creds('x', '2030-01-01T00:00:00Z') } as unknown as AcsTask;
    const spec = store.takeFrom(task);
    expect(JSON.stringify(spec)).not.toContain('secret-');
    expect(spec).toEqual({ arn: 'task/1' });
    expect(store.get('task/1', 'TaskApplication')?.accessKeyId).toBe('ASIAa');
    expect(store.get('task/1', 'TaskExecution')?.accessKeyId).toBe('ASIAx');
    store.forget('task/1');
    expect(store.get('task/1', 'TaskApplication')).toBeUndefined();
  });

  it('keeps the credentials that last longer (a resent payload carries older ones than a renewal)', () => {
    const store = new TaskCredentials();
    store.set('t', 'TaskApplication', creds('new', '2030-01-01T02:00:00Z'));
    store.set('t', 'TaskApplication', creds('old', '2030-01-01T01:00:00Z'));
    expect(store.get('t', 'TaskApplication')?.credentialsId).toBe('new');
    store.set('t', 'TaskApplication', creds('newer', '2030-01-01T03:00:00Z'));
    expect(store.get('t', 'TaskApplication')?.credentialsId).toBe('newer');
  });

  it("answers in the ECS credentials endpoint's shape", () => {
    expect(credentialsResponse(creds('a', '2030-01-01T00:00:00Z'))).toEqual({
      RoleArn: 'arn:aws:iam::123456789012:role/app',
      AccessKeyId: 'ASIAa',
      SecretAccessKey: 'secret-a',
      Token: 'token-a',
      Expiration: '2030-01-01T00:00:00Z',
    });
  });
});
