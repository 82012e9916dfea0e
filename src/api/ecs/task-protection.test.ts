import { CreateClusterCommand, GetTaskProtectionCommand, UpdateTaskProtectionCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../state/keys.js';
import type { TaskRecord } from '../../state/records/tasks.js';
import { transact } from '../../store/transact.js';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';
import type { EcsEnv } from './env.js';
import { taskProtectionOperations } from './task-protection.js';

/** UpdateTaskProtection and GetTaskProtection: through the SDK, and with a clock the test moves (the operations on the same store). */
let api: ApiFixture;
const cluster = 'prot';
const arn = (id: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:task/${cluster}/${id}`;
const SERVICE_TASK = 'a'.repeat(32);
const STANDALONE = 'b'.repeat(32);
const STOPPED = 'c'.repeat(32);
const MISSING = 'd'.repeat(32);

const task = (id: string, serviceName?: string, lastStatus = 'RUNNING'): TaskRecord => ({
  cluster,
  id,
  instanceId: 'i-1',
  needs: { cpu: 0, memory: 64, ports: [], portsUdp: [] },
  ...(serviceName ? { serviceName } : {}),
  task: { taskArn: arn(id), lastStatus, desiredStatus: lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING', group: serviceName ? `service:${serviceName}` : 'family:web' },
});

beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  await transact(api.server.store, async (tx) => {
    for (const t of [task(SERVICE_TASK, 'web'), task(STANDALONE), task(STOPPED, 'web', 'STOPPED')]) tx.putJson(keys.task(cluster, t.id), t);
  });
});
afterAll(async () => api.stop());

describe('task protection through the SDK', () => {
  it('protects a service task for 2 hours by default, for the minutes asked otherwise, and lifts it', async () => {
    const before = Date.now();
    const { protectedTasks, failures } = await api.ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [SERVICE_TASK], protectionEnabled: true }));
    expect(failures).toEqual([]);
    expect(protectedTasks).toHaveLength(1);
    expect(protectedTasks![0]).toMatchObject({ taskArn: arn(SERVICE_TASK), protectionEnabled: true });
    const expires = protectedTasks![0]!.expirationDate!.getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 120 * 60_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 120 * 60_000);
    // Asked again with minutes: the period restarts, as ECS resets it.
    const again = await api.ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [arn(SERVICE_TASK)], protectionEnabled: true, expiresInMinutes: 5 }));
    expect(again.protectedTasks![0]!.expirationDate!.getTime()).toBeLessThan(expires);
    const read = await api.ecs.send(new GetTaskProtectionCommand({ cluster, tasks: [SERVICE_TASK] }));
    expect(read.protectedTasks).toEqual(again.protectedTasks);
    const lifted = await api.ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [SERVICE_TASK], protectionEnabled: false }));
    expect(lifted.protectedTasks).toEqual([{ taskArn: arn(SERVICE_TASK), protectionEnabled: false }]);
  });

  it('reports per task what cannot be protected, and protects the rest', async () => {
    const { protectedTasks, failures } = await api.ecs.send(
      new UpdateTaskProtectionCommand({ cluster, tasks: [STANDALONE, SERVICE_TASK, MISSING, STOPPED, 'not-an-id'], protectionEnabled: true }),
    );
    expect(protectedTasks!.map((t) => t.taskArn)).toEqual([arn(SERVICE_TASK)]);
    expect(failures).toEqual([
      { arn: arn(STANDALONE), reason: 'TASK_NOT_VALID', detail: 'The task is not part of a service: only service tasks can be protected.' },
      { arn: arn(MISSING), reason: 'MISSING' },
      { arn: arn(STOPPED), reason: 'TASK_NOT_VALID', detail: 'The task is stopped.' },
      { arn: arn('not-an-id'), reason: 'MISSING' },
    ]);
    const standalone = await api.ecs.send(new GetTaskProtectionCommand({ cluster, tasks: [STANDALONE] }));
    expect(standalone.failures![0]!.reason).toBe('TASK_NOT_VALID');
  });

  it.each([
    ['expiresInMinutes 0', { expiresInMinutes: 0 }, /expiresInMinutes/],
    ['expiresInMinutes 2881', { expiresInMinutes: 2881 }, /expiresInMinutes/],
    ['no tasks', { tasks: [] }, /tasks/],
    ['11 tasks', { tasks: Array.from({ length: 11 }, () => SERVICE_TASK) }, /tasks/],
  ])('refuses %s with InvalidParameterException, changing nothing', async (_what, extra, message) => {
    await api.ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [SERVICE_TASK], protectionEnabled: false }));
    const e = await failure(api.ecs.send(new UpdateTaskProtectionCommand({ cluster, tasks: [SERVICE_TASK], protectionEnabled: true, ...extra })));
    expect(e).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(e.message).toMatch(message);
    const read = await api.ecs.send(new GetTaskProtectionCommand({ cluster, tasks: [SERVICE_TASK] }));
    expect(read.protectedTasks![0]!.protectionEnabled).toBe(false);
  });

  it('refuses an unknown cluster', async () => {
    expect(await failure(api.ecs.send(new GetTaskProtectionCommand({ cluster: 'nowhere', tasks: [SERVICE_TASK] })))).toMatchObject({ name: 'ClusterNotFoundException' });
  });
});

describe('task protection with a clock the test moves', () => {
  it('holds until expiresInMinutes have passed, then reads as not protected', async () => {
    let now = 1_800_000_000_000;
    const env = { store: api.server.store, scope: { region: TEST_REGION, accountId: TEST_ACCOUNT }, now: () => now } as unknown as EcsEnv;
    const ops = taskProtectionOperations(env);
    const set = await ops.UpdateTaskProtection({ cluster, tasks: [SERVICE_TASK], protectionEnabled: true, expiresInMinutes: 1 });
    expect(set.protectedTasks).toEqual([{ taskArn: arn(SERVICE_TASK), protectionEnabled: true, expirationDate: (now + 60_000) / 1000 }]);
    now += 59_999;
    expect((await ops.GetTaskProtection({ cluster, tasks: [SERVICE_TASK] })).protectedTasks![0]!.protectionEnabled).toBe(true);
    now += 1;
    expect((await ops.GetTaskProtection({ cluster, tasks: [SERVICE_TASK] })).protectedTasks).toEqual([{ taskArn: arn(SERVICE_TASK), protectionEnabled: false }]);
    // Without minutes: 120.
    const dflt = await ops.UpdateTaskProtection({ cluster, tasks: [SERVICE_TASK], protectionEnabled: true });
    expect(dflt.protectedTasks![0]!.expirationDate).toBe((now + 120 * 60_000) / 1000);
  });
});
