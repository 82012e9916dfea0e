import { ListTasksCommand, RegisterTaskDefinitionCommand, RunTaskCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory.js';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { startFakeAgent, type FakeAgent } from '../../testing/fake-agents.js';
import { failure } from '../../testing/failure.js';

/**
 * RunTask's clientToken (ECS's idempotency): a retry with the same token and parameters — through the same
 * replica or another on the same store — answers the first call's tasks and launches nothing; the same token
 * with other parameters is a ConflictException.
 */
const store = new MemoryStore();
let a: ApiFixture;
let b: ApiFixture;
let agent: FakeAgent;

beforeAll(async () => {
  a = await startApiFixture({ storeInstance: store });
  b = await startApiFixture({ storeInstance: store });
  agent = await startFakeAgent(a.server.url);
  await a.ecs.send(
    new RegisterTaskDefinitionCommand({ family: 'job', containerDefinitions: [{ name: 'c', image: 'busybox', memory: 16 }] }),
  );
});

afterAll(async () => {
  await agent?.stop();
  await b?.stop();
  await a?.stop();
  await store.close();
});

const liveTasks = async (startedBy: string) =>
  (await a.ecs.send(new ListTasksCommand({ startedBy, desiredStatus: 'RUNNING' }))).taskArns ?? [];

describe('RunTask clientToken', () => {
  it('answers a retry through another replica with the same tasks and launches nothing more', async () => {
    const input = { taskDefinition: 'job', count: 2, startedBy: 'retry', clientToken: 'token-1' };
    const first = await a.ecs.send(new RunTaskCommand(input));
    const again = await b.ecs.send(new RunTaskCommand(input));
    expect(first.tasks).toHaveLength(2);
    expect(again.tasks?.map((t) => t.taskArn).sort()).toEqual(first.tasks?.map((t) => t.taskArn).sort());
    expect(await liveTasks('retry')).toHaveLength(2);
  });

  it('launches once when the same call arrives through two replicas at the same time', async () => {
    const input = { taskDefinition: 'job', count: 3, startedBy: 'race', clientToken: 'token-race' };
    const [x, y] = await Promise.all([a.ecs.send(new RunTaskCommand(input)), b.ecs.send(new RunTaskCommand(input))]);
    expect(x.tasks?.map((t) => t.taskArn).sort()).toEqual(y.tasks?.map((t) => t.taskArn).sort());
    expect(await liveTasks('race')).toHaveLength(3);
  });

  it('refuses the same token with other parameters (ConflictException) and a malformed token', async () => {
    await a.ecs.send(new RunTaskCommand({ taskDefinition: 'job', startedBy: 'c1', clientToken: 'token-2' }));
    const conflict = await failure(b.ecs.send(new RunTaskCommand({ taskDefinition: 'job', startedBy: 'c2', clientToken: 'token-2' })));
    expect(conflict.name).toBe('ConflictException');
    expect(await liveTasks('c2')).toHaveLength(0);
    const bad = await failure(a.ecs.send(new RunTaskCommand({ taskDefinition: 'job', clientToken: 'has space' })));
    expect(bad).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('clientToken') });
  });

  it('launches anew for every call without a token of its own', async () => {
    await a.ecs.send(new RunTaskCommand({ taskDefinition: 'job', startedBy: 'plain' }));
    await a.ecs.send(new RunTaskCommand({ taskDefinition: 'job', startedBy: 'plain' }));
    expect(await liveTasks('plain')).toHaveLength(2);
  });
});
