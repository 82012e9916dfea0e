import {
  CreateClusterCommand,
  DescribeTasksCommand,
  RegisterContainerInstanceCommand,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  SubmitAttachmentStateChangesCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/** SubmitAttachmentStateChanges against an awsvpc task whose interface no agent has attached (none runs here). */
let api: ApiFixture;
let taskArn: string;
let attachmentArn: string;
const cluster = 'attach';
const arnOf = (id: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:attachment/${id}`;

beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const { containerInstance } = await api.ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      totalResources: [{ name: 'CPU', type: 'INTEGER', integerValue: 1024 }, { name: 'MEMORY', type: 'INTEGER', integerValue: 1024 }],
      attributes: [{ name: 'ecs.capability.task-eni' }],
    }),
  );
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'vpc', networkMode: 'awsvpc', containerDefinitions: [{ name: 'a', image: 'busybox', memory: 32 }] }));
  const { tasks } = await api.ecs.send(
    new StartTaskCommand({
      cluster,
      taskDefinition: 'vpc',
      containerInstances: [containerInstance!.containerInstanceArn!],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0abc'] } },
    }),
  );
  taskArn = tasks![0]!.taskArn!;
  attachmentArn = arnOf(tasks![0]!.attachments![0]!.id!);
});
afterAll(() => api.stop());

const attachmentStatus = async () => (await api.ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }))).tasks![0]!.attachments![0]!.status;
const submit = (attachments: { attachmentArn: string; status: string }[], c = cluster) =>
  api.ecs.send(new SubmitAttachmentStateChangesCommand({ cluster: c, attachments }));

describe('SubmitAttachmentStateChanges', () => {
  it('refuses the whole call, changing nothing, when one attachment is unknown or one status is not a status', async () => {
    expect(await attachmentStatus()).toBe('PRECREATED');
    for (const bad of [
      [{ attachmentArn, status: 'ATTACHED' }, { attachmentArn: arnOf('4d5a8e0c-0000-0000-0000-000000000000'), status: 'ATTACHED' }],
      [{ attachmentArn, status: 'GLUED' }],
      [{ attachmentArn: 'arn:aws:ecs:eu-west-1:123456789012:attachment/x', status: 'ATTACHED' }],
      [],
    ]) {
      expect(await failure(submit(bad))).toMatchObject({ name: 'InvalidParameterException', message: expect.stringMatching(/attachment/) });
    }
    expect(await attachmentStatus()).toBe('PRECREATED');
    expect(await failure(submit([{ attachmentArn, status: 'ATTACHED' }], 'ghost'))).toMatchObject({ name: 'ClusterNotFoundException' });
  });

  it('moves an attachment forward only', async () => {
    expect(await submit([{ attachmentArn, status: 'ATTACHED' }])).toMatchObject({ acknowledgment: 'ACK' });
    expect(await attachmentStatus()).toBe('ATTACHED');
    await submit([{ attachmentArn, status: 'PRECREATED' }]);
    expect(await attachmentStatus()).toBe('ATTACHED');
    await submit([{ attachmentArn, status: 'DETACHED' }]);
    expect(await attachmentStatus()).toBe('DETACHED');
  });
});
