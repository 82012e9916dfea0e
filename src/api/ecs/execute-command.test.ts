import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeTasksCommand,
  ExecuteCommandCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

let api: ApiFixture;
let instanceArn = '';
beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: 'x' }));
  const resources = [{ name: 'CPU', type: 'INTEGER', integerValue: 2048 }, { name: 'MEMORY', type: 'INTEGER', integerValue: 2048 }];
  const { containerInstance } = await api.ecs.send(new RegisterContainerInstanceCommand({ cluster: 'x', totalResources: resources }));
  instanceArn = containerInstance!.containerInstanceArn!;
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'sleep', containerDefinitions: [{ name: 'a', image: 'busybox', memory: 32 }] }));
});
afterAll(() => api.stop());

const start = async (enableExecuteCommand?: boolean) =>
  (await api.ecs.send(new StartTaskCommand({ cluster: 'x', taskDefinition: 'sleep', containerInstances: [instanceArn], ...(enableExecuteCommand !== undefined ? { enableExecuteCommand } : {}) }))).tasks![0]!;

describe('ExecuteCommand', () => {
  it('an unknown cluster or task first, then what ECS says of a task run without enableExecuteCommand', async () => {
    expect(await failure(api.ecs.send(new ExecuteCommandCommand({ cluster: 'ghost', task: 't', command: 'sh', interactive: true })))).toMatchObject({ name: 'ClusterNotFoundException' });
    expect(await failure(api.ecs.send(new ExecuteCommandCommand({ cluster: 'x', task: 'nope', command: 'sh', interactive: true })))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'The referenced task was not found.',
    });
    const plain = await start();
    expect(plain.enableExecuteCommand).toBe(false);
    const e = await failure(api.ecs.send(new ExecuteCommandCommand({ cluster: 'x', task: plain.taskArn!, command: 'sh', interactive: true })));
    expect(e).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/^The execute command failed because execute command was not enabled/) });
  });

  it('records enableExecuteCommand on the task; refuses a task not yet RUNNING, a non-interactive call and a malformed command', async () => {
    const task = await start(true);
    expect(task.enableExecuteCommand).toBe(true);
    expect((await api.ecs.send(new DescribeTasksCommand({ cluster: 'x', tasks: [task.taskArn!] }))).tasks?.[0]?.enableExecuteCommand).toBe(true);
    const pending = await failure(api.ecs.send(new ExecuteCommandCommand({ cluster: 'x', task: task.taskArn!, command: 'sh', interactive: true })));
    expect(pending).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('the task is PENDING') });
    expect(await failure(api.ecs.send(new ExecuteCommandCommand({ cluster: 'x', task: task.taskArn!, command: 'sh', interactive: false })))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'Interactive is the only mode supported currently.',
    });
    expect(await failure(api.ecs.send(new ExecuteCommandCommand({ cluster: 'x', task: task.taskArn!, command: `sh -c 'echo`, interactive: true })))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'command: unterminated single quote.',
    });
  });

  it('services keep enableExecuteCommand (CreateService, UpdateService)', async () => {
    const { service } = await api.ecs.send(new CreateServiceCommand({ cluster: 'x', serviceName: 's', taskDefinition: 'sleep', desiredCount: 0, enableExecuteCommand: true }));
    expect(service?.enableExecuteCommand).toBe(true);
    const updated = await api.ecs.send(new UpdateServiceCommand({ cluster: 'x', service: 's', enableExecuteCommand: false }));
    expect(updated.service?.enableExecuteCommand).toBe(false);
    const kept = await api.ecs.send(new UpdateServiceCommand({ cluster: 'x', service: 's', desiredCount: 0 }));
    expect(kept.service?.enableExecuteCommand).toBe(false);
  });
});
