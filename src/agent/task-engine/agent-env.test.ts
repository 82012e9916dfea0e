import { describe, expect, it } from 'vitest';
import { runningTask } from '../testing/task-states.js';
import { credentialsEnv } from './agent-env.js';
import type { EngineSettings } from './deps.js';

const settings = (over: Partial<EngineSettings> = {}): EngineSettings => ({
  cluster: 'default',
  defaultStopTimeoutMs: 30_000,
  defaultStartTimeoutMs: 180_000,
  taskCleanupWaitMs: 1_000,
  imagePullBehavior: 'default',
  bindIp: '0.0.0.0',
  metadataEndpoint: 'http://169.254.170.2',
  taskIamRole: true,
  ...over,
});

describe('credentialsEnv', () => {
  it('gives the relative URI under ECS’s address, made once per task and kept', () => {
    const task = runningTask('t1');
    const env = credentialsEnv(task, settings(), true);
    expect(env).toEqual({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: `/v2/credentials/${task.credentialsId}` });
    expect(task.credentialsId).toMatch(/^[0-9a-f-]{36}$/);
    expect(credentialsEnv(task, settings(), true)).toEqual(env);
  });

  it('gives a full URI when the endpoint listens elsewhere', () => {
    const task = runningTask('t1');
    expect(credentialsEnv(task, settings({ metadataEndpoint: 'http://127.0.0.1:4567' }), true)).toEqual({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:4567/v2/credentials/${task.credentialsId}`,
    });
  });

  it('gives nothing with task roles off, without credentials, without an endpoint, or to host mode unless enabled', () => {
    expect(credentialsEnv(runningTask('a'), settings({ taskIamRole: false }), true)).toEqual({});
    expect(credentialsEnv(runningTask('b'), settings(), false)).toEqual({});
    expect(credentialsEnv(runningTask('c'), settings({ metadataEndpoint: undefined }), true)).toEqual({});
    const host = runningTask('d', { networkMode: 'host' });
    expect(credentialsEnv(host, settings(), true)).toEqual({});
    expect(host.credentialsId).toBeUndefined();
    expect(credentialsEnv(host, settings({ taskIamRoleNetworkHost: true }), true)).toHaveProperty('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI');
  });
});
