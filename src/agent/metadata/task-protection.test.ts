import type { Failure, ProtectedTask } from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { runningTask } from '../testing/task-states.js';
import { MetadataHandler } from './handler.js';
import { startMetadataServer } from './server.js';
import type { RoleCredentials } from '../../model/acs.js';
import type { ProtectionApi } from './task-protection.js';

/** The agent's task scale-in protection endpoint, `${ECS_AGENT_URI}/task-protection/v1/state`, over a pretend control plane. */

const EXPIRY = new Date('2026-12-06T14:00:00Z');
const ROLE: RoleCredentials = {
  credentialsId: 'cred-1',
  roleArn: 'arn:aws:iam::000000000000:role/app',
  accessKeyId: 'ASIAWEBTASKROLE00001',
  secretAccessKey: 'secret',
  sessionToken: 'token',
  expiration: '2026-12-06T18:00:00Z',
};

function setup() {
  const web = runningTask('web1');
  const other = runningTask('other1');
  const calls: string[] = [];
  let answer: { protectedTasks?: ProtectedTask[]; failures?: Failure[] } | Error | undefined;
  const api: ProtectionApi = {
    async get(taskArn, credentials) {
      calls.push(`get ${taskArn} as ${credentials.accessKeyId}`);
      if (answer instanceof Error) throw answer;
      return answer ?? { protectedTasks: [{ taskArn, protectionEnabled: false }], failures: [] };
    },
    async update(taskArn, credentials, enabled, minutes) {
      calls.push(`update ${taskArn} ${enabled} ${minutes} as ${credentials.accessKeyId}`);
      if (answer instanceof Error) throw answer;
      return answer ?? { protectedTasks: [{ taskArn, protectionEnabled: enabled, ...(enabled ? { expirationDate: EXPIRY } : {}) }], failures: [] };
    },
  };
  const handler = new MetadataHandler({
    source: { tasks: () => [web, other] },
    clusterName: 'default',
    availabilityZone: 'a',
    containerInstanceArn: 'arn:aws:ecs:us-east-1:000000000000:container-instance/default/i-1',
    isHostAddress: (a) => a === '169.254.170.2',
    protection: api,
    // Only web has a task role (its credentials delivered over the session).
    credentials: { get: (arn, roleType) => (arn === web.arn && roleType === 'TaskApplication' ? ROLE : undefined) },
  });
  const ask = (method: string, body = '', t = web, from = t.containers[0]!.ipv4Address!) =>
    handler.handleProtection({ url: `/api/${t.containers[0]!.metadataToken}/task-protection/v1/state`, method, body, remoteAddress: from });
  return { web, other, calls, ask, handler, setAnswer: (a: typeof answer) => (answer = a) };
}

describe('the task protection endpoint', () => {
  it('PUT protects the requesting task through UpdateTaskProtection and answers as ECS\'s agent does', async () => {
    const { web, calls, ask } = setup();
    const answer = await ask('PUT', '{"ProtectionEnabled":true,"ExpiresInMinutes":60}');
    expect(calls).toEqual([`update ${web.arn} true 60 as ${ROLE.accessKeyId}`]);
    expect(answer).toEqual({ status: 200, body: { protection: { ExpirationDate: '2026-12-06T14:00:00Z', ProtectionEnabled: true, TaskArn: web.arn } } });
    // Without ExpiresInMinutes the control plane's default applies; Go matches field names in any case.
    await ask('PUT', '{"protectionEnabled":false}');
    expect(calls.at(-1)).toBe(`update ${web.arn} false undefined as ${ROLE.accessKeyId}`);
  });

  it("calls with the task role's credentials only: a task without them gets ECS's 403, and nothing is called", async () => {
    const { other, calls, ask } = setup();
    const refused = { status: 403, body: { error: { Arn: other.arn, Code: 'AccessDeniedException', Message: 'Invalid Request: no task IAM role credentials available for task' } } };
    expect(await ask('GET', '', other)).toEqual(refused);
    expect(await ask('PUT', '{"ProtectionEnabled":true}', other)).toEqual(refused);
    // The request's own checks come first, as in ECS's agent.
    expect(await ask('PUT', '{"ExpiresInMinutes":5}', other)).toMatchObject({ status: 400 });
    expect(calls).toEqual([]);
  });

  it('GET reads the protection; a disabled one has a null ExpirationDate', async () => {
    const { web, ask } = setup();
    expect(await ask('GET')).toEqual({ status: 200, body: { protection: { ExpirationDate: null, ProtectionEnabled: false, TaskArn: web.arn } } });
  });

  it('refuses bodies it cannot decode (before looking at the token) and a missing ProtectionEnabled', async () => {
    const { web, other, calls, ask } = setup();
    const undecodable = { status: 400, body: { error: { Code: 'InvalidParameterException', Message: 'UpdateTaskProtection: failed to decode request' } } };
    expect(await ask('PUT', 'not json')).toEqual(undecodable);
    expect(await ask('PUT', '{"ProtectionEnabled":true,"Extra":1}')).toEqual(undecodable);
    expect(await ask('PUT', '{"ProtectionEnabled":"yes"}')).toEqual(undecodable);
    expect(await ask('PUT', '{"ExpiresInMinutes":1.5,"ProtectionEnabled":true}')).toEqual(undecodable);
    // Decoding comes first: another task's token with a bad body is still a 400.
    expect(await ask('PUT', 'x', other, web.containers[0]!.ipv4Address!)).toEqual(undecodable);
    expect(await ask('PUT', '{"ExpiresInMinutes":5}')).toEqual({
      status: 400,
      body: { error: { Arn: web.arn, Code: 'InvalidParameterException', Message: "Invalid request: does not contain 'ProtectionEnabled' field" } },
    });
    expect(calls).toEqual([]);
  });

  it("404s a token the requester may not use, as ECS's agent does for an unknown one", async () => {
    const { web, other, ask } = setup();
    const notFound = { status: 404, body: { error: { Code: 'ResourceNotFoundException', Message: 'Failed to find a task for the request' } } };
    expect(await ask('GET', '', other, web.containers[0]!.ipv4Address!)).toEqual(notFound);
  });

  it('passes on a per-task failure with 200, and an API error with its status, code and request id', async () => {
    const { web, ask, setAnswer } = setup();
    setAnswer({ protectedTasks: [], failures: [{ arn: web.arn, reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service: only service tasks can be protected.' }] });
    expect(await ask('GET')).toEqual({
      status: 200,
      body: { failure: { Arn: web.arn, Detail: 'The task is not part of a service: only service tasks can be protected.', Reason: 'TASK_NOT_VALID' } },
    });
    const error = Object.assign(new Error('expiresInMinutes: out of range'), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400, requestId: 'req-1' } });
    setAnswer(error);
    expect(await ask('PUT', '{"ProtectionEnabled":true,"ExpiresInMinutes":9999}')).toEqual({
      status: 400,
      body: { requestID: 'req-1', error: { Arn: web.arn, Code: 'InvalidParameterException', Message: 'expiresInMinutes: out of range' } },
    });
  });

  it('is served over HTTP for GET and PUT only', async () => {
    const { web, handler } = setup();
    const server = await startMetadataServer({ address: { host: '127.0.0.1', port: 0 }, handler, log: pino({ level: 'silent' }) });
    try {
      const url = `${server.url}/api/${web.containers[0]!.metadataToken}/task-protection/v1/state`;
      // The test's requests come from 127.0.0.1, which is neither the host address nor the task's: 404.
      const put = await fetch(url, { method: 'PUT', body: '{"ProtectionEnabled":true}', headers: { 'content-type': 'application/json' } });
      expect(put.status).toBe(404);
      expect(await put.json()).toEqual({ error: { Code: 'ResourceNotFoundException', Message: 'Failed to find a task for the request' } });
      const post = await fetch(url, { method: 'POST', body: '{}' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, PUT');
      const bad = await fetch(url, { method: 'PUT', body: '{' });
      expect(bad.status).toBe(400);
    } finally {
      await server.close();
    }
  });
});
