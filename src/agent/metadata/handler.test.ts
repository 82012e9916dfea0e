import { describe, expect, it } from 'vitest';
import type { ContainerStats } from '../../runtime/runtime.js';
import { acsContainer, runningTask, tokenFor } from '../testing/task-states.js';
import { MetadataNotFoundError, StatsUnavailableError } from './errors.js';
import { MetadataHandler, type MetadataHandlerOptions } from './handler.js';
import { TagCache } from './tags.js';
import type { DockerStats, TaskMetadata } from './wire.js';

const INSTANCE = 'arn:aws:ecs:us-east-1:000000000000:container-instance/default/i-1';

function setup(options: Partial<MetadataHandlerOptions> = {}) {
  const web = runningTask('web1', { containers: [acsContainer('web'), acsContainer('sidecar', { essential: false })] });
  const other = runningTask('other1');
  const host = runningTask('host1', { networkMode: 'host' });
  const tasks = [web, other, host];
  let cpu = 0;
  const reads: string[] = [];
  const handler = new MetadataHandler({
    source: { tasks: () => tasks },
    clusterName: 'default',
    availabilityZone: 'us-east-1a',
    containerInstanceArn: INSTANCE,
    stats: async (id): Promise<ContainerStats | undefined> => {
      reads.push(id);
      if (id.endsWith('-gone')) return undefined;
      cpu += 1_000_000;
      return { cpuUsageNanos: cpu, memoryUsageBytes: 1 << 20, memoryLimitBytes: 64 << 20, readAt: 1_000 + cpu / 1_000 };
    },
    onlineCpus: 2,
    hostMemoryBytes: 1 << 30,
    isHostAddress: (a) => a === '169.254.170.2',
    ...options,
  });
  const ask = (t: typeof web, path: string, index = 0, from = t.containers[index]!.ipv4Address ?? '169.254.170.2') =>
    handler.handle({ url: `/v4/${t.containers[index]!.metadataToken}${path}`, remoteAddress: from });
  return { handler, tasks, web, other, host, ask, reads };
}

describe('the task metadata handler', () => {
  it("answers a container's own metadata and its task's", async () => {
    const { web, ask } = setup();
    const own = await ask(web, '');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ DockerId: 'web1-web', Name: 'web', KnownStatus: 'RUNNING' });
    const task = (await ask(web, '/task')).body as TaskMetadata;
    expect(task).toMatchObject({ TaskARN: web.arn, LaunchType: 'EC2', AvailabilityZone: 'us-east-1a' });
    expect(task.Containers.map((c) => c.DockerId)).toEqual(['web1-web', 'web1-sidecar']);
    // The sidecar's own token, from its own address, names the sidecar.
    expect((await ask(web, '', 1)).body).toMatchObject({ Name: 'sidecar' });
  });

  it('answers v3 paths with v3 shapes', async () => {
    const { web, handler } = setup();
    const { body } = await handler.handle({ url: `/v3/${web.containers[0]!.metadataToken}/task`, remoteAddress: web.containers[0]!.ipv4Address! });
    expect(body).toMatchObject({ TaskARN: web.arn });
    expect(body).not.toHaveProperty('LaunchType');
  });

  it("404s an unknown token, another task's token and a path that is no route, with ECS's words", async () => {
    const { web, other, host, handler } = setup();
    const from = web.containers[0]!.ipv4Address!;
    const refused = [
      handler.handle({ url: `/v4/${tokenFor('nobody')}/task`, remoteAddress: from }),
      handler.handle({ url: `/v4/${other.containers[0]!.metadataToken}/task`, remoteAddress: from }),
      handler.handle({ url: `/v4/${host.containers[0]!.metadataToken}/task`, remoteAddress: from }),
    ];
    for (const answer of refused) {
      const error = await answer.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(MetadataNotFoundError);
      expect(error).toMatchObject({ status: 404, message: 'V4 task metadata handler: unable to get task arn from request: unable to get task Arn from v3 endpoint ID' });
    }
    await expect(handler.handle({ url: `/v4/${web.containers[0]!.metadataToken}/nope`, remoteAddress: from })).rejects.toMatchObject({ status: 404, message: '404 page not found' });
    await expect(handler.handle({ url: `/v4/${tokenFor('nobody')}/stats`, remoteAddress: from })).rejects.toMatchObject({ message: /^V4 container stats handler: / });
  });

  it('gives stats with the previous reading as precpu_stats', async () => {
    const { web, ask } = setup();
    const first = (await ask(web, '/stats')).body as DockerStats;
    expect(first).toMatchObject({ id: 'web1-web', name: '/web1-web', cpu_stats: { cpu_usage: { total_usage: 1_000_000 }, online_cpus: 2 }, precpu_stats: { cpu_usage: { total_usage: 0 } } });
    const second = (await ask(web, '/stats')).body as DockerStats;
    expect(second.cpu_stats.cpu_usage.total_usage).toBe(2_000_000);
    expect(second.precpu_stats.cpu_usage.total_usage).toBe(1_000_000);
    expect(second.preread).toBe(first.read);
    expect(second.memory_stats).toMatchObject({ usage: 1 << 20, limit: 64 << 20 });
  });

  it("gives every container's stats by runtime id for /task/stats, {} for one without figures", async () => {
    const web = runningTask('web2', { containers: [acsContainer('web'), acsContainer('gone')] });
    const { handler } = setup({ source: { tasks: () => [web] } });
    const { body } = await handler.handle({ url: `/v4/${web.containers[0]!.metadataToken}/task/stats`, remoteAddress: web.containers[0]!.ipv4Address! });
    const stats = body as Record<string, DockerStats | Record<string, never>>;
    expect(Object.keys(stats).sort()).toEqual(['web2-gone', 'web2-web']);
    expect(stats['web2-gone']).toEqual({});
    expect(stats['web2-web']).toMatchObject({ id: 'web2-web' });
  });

  it("500s /stats when the runtime has no figures for the container, as ECS does", async () => {
    const { web, ask } = setup({ stats: async () => undefined });
    await expect(ask(web, '/stats')).rejects.toBeInstanceOf(StatsUnavailableError);
    const { ask: askWithout } = setup({ stats: undefined });
    await expect(askWithout(web, '/stats')).rejects.toMatchObject({ status: 500 });
  });

  it('adds task and instance tags for /taskWithTags, asking the control plane once in a while', async () => {
    const asked: string[] = [];
    const tags = new TagCache(async (arn): Promise<Record<string, string>> => {
      asked.push(arn);
      return arn === INSTANCE ? { rack: 'r1' } : { team: 'blue' };
    });
    const { web, ask } = setup({ tags });
    const { body } = await ask(web, '/taskWithTags');
    expect(body).toMatchObject({ TaskARN: web.arn, TaskTags: { team: 'blue' }, ContainerInstanceTags: { rack: 'r1' } });
    expect(body).not.toHaveProperty('Errors');
    await ask(web, '/taskWithTags');
    expect(asked.sort()).toEqual([INSTANCE, web.arn].sort());
    // /task itself never carries tags.
    expect((await ask(web, '/task')).body).not.toHaveProperty('TaskTags');
  });

  it("reports a failed tag lookup in Errors (v4), as ECS's agent does", async () => {
    const failure = Object.assign(new Error("Tagging 'task' resources is not supported."), {
      name: 'InvalidParameterException',
      $metadata: { httpStatusCode: 400, requestId: 'req-1' },
    });
    const tags = new TagCache(async (arn) => {
      if (arn === INSTANCE) return { rack: 'r1' };
      throw failure;
    });
    const { web, ask, handler } = setup({ tags });
    const { body } = await ask(web, '/taskWithTags');
    expect(body).toMatchObject({
      ContainerInstanceTags: { rack: 'r1' },
      Errors: [{ ErrorField: 'TaskTags', ErrorCode: 'InvalidParameterException', ErrorMessage: "Tagging 'task' resources is not supported.", StatusCode: 400, RequestId: 'req-1', ResourceARN: web.arn }],
    });
    expect(body).not.toHaveProperty('TaskTags');
    const v3 = await handler.handle({ url: `/v3/${web.containers[0]!.metadataToken}/taskWithTags`, remoteAddress: web.containers[0]!.ipv4Address! });
    expect(v3.body).not.toHaveProperty('Errors');
  });
});

describe('the tag cache', () => {
  it('reuses an answer for its time to live, then asks again; concurrent lookups share one request', async () => {
    let now = 0;
    let calls = 0;
    const cache = new TagCache(async () => ({ n: String(++calls) }), { ttlMs: 1_000, now: () => now });
    const [a, b] = await Promise.all([cache.lookup('x'), cache.lookup('x')]);
    expect(a).toEqual({ tags: { n: '1' } });
    expect(b).toBe(a);
    now = 999;
    expect(await cache.lookup('x')).toEqual({ tags: { n: '1' } });
    now = 1_000;
    expect(await cache.lookup('x')).toEqual({ tags: { n: '2' } });
  });
});

describe('the task role credentials endpoint', () => {
  const held = (taskArn: string) => ({
    credentialsId: 'cp-id',
    roleArn: `arn:aws:iam::000000000000:role/${taskArn.split('/').at(-1)}`,
    accessKeyId: 'ASIAEXAMPLE',
    secretAccessKey: 'secret',
    sessionToken: 'token',
    expiration: '2030-01-01T00:00:00Z',
  });
  function withCredentials(hostModeCredentials = false) {
    const s = setup({ credentials: { get: (arn, roleType) => (roleType === 'TaskApplication' ? held(arn) : undefined) }, hostModeCredentials });
    s.web.credentialsId = '11111111-1111-4111-8111-111111111111';
    s.other.credentialsId = '22222222-2222-4222-8222-222222222222';
    s.host.credentialsId = '33333333-3333-4333-8333-333333333333';
    const fetch = (id: string, from: string | undefined) => s.handler.handle({ url: `/v2/credentials/${id}`, remoteAddress: from });
    return { ...s, fetch };
  }
  const notFound = { status: 400, body: { code: 'InvalidIdInRequest', message: 'CredentialsV2Request: Credentials not found', HTTPErrorCode: 400 } };

  it("answers a task's own containers with its role's credentials, in the SDKs' shape", async () => {
    const { web, fetch } = withCredentials();
    for (const c of web.containers) {
      expect(await fetch(web.credentialsId!, c.ipv4Address)).toEqual({
        status: 200,
        body: { RoleArn: 'arn:aws:iam::000000000000:role/web1', AccessKeyId: 'ASIAEXAMPLE', SecretAccessKey: 'secret', Token: 'token', Expiration: '2030-01-01T00:00:00Z' },
      });
    }
  });

  it("refuses another task's containers, the host, an unknown id, no id, and a stopped task, alike", async () => {
    const { web, other, fetch, handler } = withCredentials();
    expect(await fetch(web.credentialsId!, other.containers[0]!.ipv4Address)).toEqual(notFound);
    expect(await fetch(web.credentialsId!, '169.254.170.2')).toEqual(notFound);
    expect(await fetch('99999999-9999-4999-8999-999999999999', web.containers[0]!.ipv4Address)).toEqual(notFound);
    expect(await fetch(web.credentialsId!, undefined)).toEqual(notFound);
    expect((await handler.handle({ url: '/v2/credentials/', remoteAddress: web.containers[0]!.ipv4Address })).body).toMatchObject({ code: 'NoIdInRequest' });
    web.known = 'STOPPED';
    expect(await fetch(web.credentialsId!, web.containers[0]!.ipv4Address)).toEqual(notFound);
  });

  it('answers host-mode tasks from the host only when host-mode credentials are enabled', async () => {
    const off = withCredentials(false);
    expect(await off.fetch(off.host.credentialsId!, '169.254.170.2')).toEqual(notFound);
    const on = withCredentials(true);
    expect((await on.fetch(on.host.credentialsId!, '169.254.170.2')).status).toBe(200);
    // Never from another task's own address, nor from an address that is not the host's.
    expect(await on.fetch(on.host.credentialsId!, on.web.containers[0]!.ipv4Address)).toEqual(notFound);
    expect(await on.fetch(on.host.credentialsId!, '10.9.9.9')).toEqual(notFound);
  });

  it('answers nothing without credentials held for the task', async () => {
    const s = setup();
    s.web.credentialsId = '11111111-1111-4111-8111-111111111111';
    expect((await s.handler.handle({ url: `/v2/credentials/${s.web.credentialsId}`, remoteAddress: s.web.containers[0]!.ipv4Address })).status).toBe(400);
  });
});
