import {
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type CreateServiceCommandInput,
  type NetworkConfiguration,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, type ApiFixture } from '../../testing/api-server.js';
import { removeAgentDir, startFakeAgent, type FakeAgent } from '../../testing/fake-agents.js';
import { failure } from '../../testing/failure.js';

/**
 * Fargate services through the API, with a fake Fargate pool host (real gVisor in test/e2e/fargate-services.test.ts):
 * what CreateService and UpdateService record, ECS's refusals and switch rules, and task sets launching by their own
 * launch type.
 */
let api: ApiFixture;
let pool: FakeAgent;
const cluster = 'fgs';
const vpc: NetworkConfiguration = { awsvpcConfiguration: { subnets: ['subnet-0abc'], securityGroups: ['sg-01'] } };

beforeAll(async () => {
  api = await startApiFixture({ heartbeatMs: 200 });
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  pool = await startFakeAgent(api.server.url, { cluster, cpuUnits: 4096, memoryMib: 8192, fargate: true });
  const probe = { name: 'probe', image: 'busybox' };
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'fg', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [probe] }));
  await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'ec2', containerDefinitions: [{ ...probe, memory: 64 }] }));
});

afterAll(async () => {
  await pool?.stop();
  if (pool) removeAgentDir(pool);
  await api.stop();
});

const create = (input: Partial<CreateServiceCommandInput>) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'svc', taskDefinition: 'fg', desiredCount: 0, networkConfiguration: vpc, ...input }));

async function tasksOf(filter: { serviceName?: string; startedBy?: string }, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { taskArns = [] } = await api.ecs.send(new ListTasksCommand({ cluster, ...filter }));
    if (taskArns.length >= count) return (await api.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks ?? [];
    if (Date.now() > deadline) throw new Error(`${taskArns.length} of ${count} tasks`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Fargate services', () => {
  it('records launchType FARGATE and the platform (LATEST on the service, 1.4.0 on the deployment); its tasks run on the pool', async () => {
    const { service } = await create({ serviceName: 'web', launchType: 'FARGATE', desiredCount: 2 });
    expect(service).toMatchObject({ launchType: 'FARGATE', platformVersion: 'LATEST', platformFamily: 'Linux' });
    expect(service!.deployments![0]).toMatchObject({ launchType: 'FARGATE', platformVersion: '1.4.0', platformFamily: 'Linux' });
    const tasks = await tasksOf({ serviceName: 'web' }, 2);
    for (const t of tasks) {
      expect(t).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE', platformVersion: '1.4.0' });
      expect(t.containerInstanceArn).toBeUndefined();
    }
  });

  it.each<[string, Partial<CreateServiceCommandInput>, string, string]>([
    ['no networkConfiguration', { launchType: 'FARGATE', networkConfiguration: undefined }, 'InvalidParameterException', "Network Configuration must be provided when networkMode 'awsvpc' is specified."],
    ['an EC2 task definition', { launchType: 'FARGATE', taskDefinition: 'ec2', networkConfiguration: undefined }, 'InvalidParameterException', 'Task definition does not support launch_type FARGATE.'],
    ['placement constraints', { launchType: 'FARGATE', placementConstraints: [{ type: 'distinctInstance' }] }, 'InvalidParameterException', 'Placement constraints are not supported with the FARGATE launch type.'],
    ['placement strategies', { launchType: 'FARGATE', placementStrategy: [{ type: 'random' }] }, 'InvalidParameterException', 'Placement strategies are not supported with the FARGATE launch type.'],
    ['an unknown platform version', { launchType: 'FARGATE', platformVersion: '1.3.0' }, 'PlatformUnknownException', 'The specified platform version (1.3.0) does not exist. Linux platform versions: LATEST, 1.4.0.'],
    ['DAEMON scheduling', { launchType: 'FARGATE', schedulingStrategy: 'DAEMON', desiredCount: undefined }, 'InvalidParameterException', 'The DAEMON scheduling strategy is not supported with the FARGATE launch type.'],
    ['a launch type and a strategy', { launchType: 'FARGATE', capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] }, 'InvalidParameterException', 'Specifying both a launch type and capacity provider strategy is not supported. Remove one and try again.'],
    ['two bases', { capacityProviderStrategy: [{ capacityProvider: 'FARGATE', base: 1, weight: 1 }, { capacityProvider: 'FARGATE_SPOT', base: 1, weight: 1 }] }, 'InvalidParameterException', 'capacityProviderStrategy: only one capacity provider in a strategy can have a base defined.'],
    ['a platform version with EC2', { launchType: 'EC2', taskDefinition: 'ec2', networkConfiguration: undefined, platformVersion: '1.4.0' }, 'InvalidParameterException', 'The platform version must be null when specifying an EC2 launch type.'],
  ])('refuses %s with ECS’s message', async (_what, input, name, message) => {
    expect(await failure(create({ serviceName: 'refused', ...input }))).toMatchObject({ name, message });
  });

  it('switches between a launch type and a strategy only with forceNewDeployment, each switch a new deployment', async () => {
    await create({ serviceName: 'switch', launchType: 'FARGATE', desiredCount: 0 });
    const spot = [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }];
    expect(await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', capacityProviderStrategy: spot })))).toMatchObject({
      name: 'InvalidParameterException',
      message:
        'When switching from launch type to capacity provider strategy on an existing service, or making a change to a capacity provider strategy on a service that is already using one, you must force a new deployment.',
    });
    const moved = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', capacityProviderStrategy: spot, forceNewDeployment: true }));
    expect(moved.service).toMatchObject({ capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }], platformVersion: 'LATEST' });
    expect(moved.service!.launchType).toBeUndefined();
    expect(moved.service!.deployments![0]).toMatchObject({ status: 'PRIMARY', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }], platformVersion: '1.4.0' });
    // The same strategy again is no change; an empty list goes back to the launch type (FARGATE), forced too.
    expect((await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] }))).service!.launchType).toBeUndefined();
    expect(await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', capacityProviderStrategy: [] })))).toMatchObject({ name: 'InvalidParameterException' });
    const back = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', capacityProviderStrategy: [], forceNewDeployment: true }));
    expect(back.service).toMatchObject({ launchType: 'FARGATE', platformVersion: 'LATEST' });
    expect(back.service!.capacityProviderStrategy).toBeUndefined();
    // A platform version is a Fargate service's only; an EC2 task definition cannot replace its Fargate one.
    const pinned = await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', platformVersion: '1.4.0' }));
    expect(pinned.service).toMatchObject({ platformVersion: '1.4.0' });
    expect(pinned.service!.deployments![0]!.id).not.toBe(back.service!.deployments![0]!.id);
    expect(await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'switch', taskDefinition: 'ec2' })))).toMatchObject({
      name: 'InvalidParameterException',
      message: 'Task definition does not support launch_type FARGATE.',
    });
    await create({ serviceName: 'plain', launchType: 'EC2', taskDefinition: 'ec2', networkConfiguration: undefined });
    expect(await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'plain', platformVersion: 'LATEST' })))).toMatchObject({
      message: 'The platform version must be null when specifying an EC2 launch type.',
    });
  });

  it('launches a task set by its own launch type: FARGATE sets run on the pool', async () => {
    await api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'ext', desiredCount: 1, deploymentController: { type: 'EXTERNAL' } }));
    const { taskSet } = await api.ecs.send(
      new CreateTaskSetCommand({ cluster, service: 'ext', taskDefinition: 'fg', launchType: 'FARGATE', networkConfiguration: vpc, scale: { value: 100, unit: 'PERCENT' } }),
    );
    expect(taskSet).toMatchObject({ launchType: 'FARGATE', platformVersion: '1.4.0', platformFamily: 'Linux' });
    const [task] = await tasksOf({ startedBy: taskSet!.id! }, 1);
    expect(task).toMatchObject({ launchType: 'FARGATE', capacityProviderName: 'FARGATE' });
    expect(await failure(api.ecs.send(new CreateTaskSetCommand({ cluster, service: 'ext', taskDefinition: 'ec2', launchType: 'FARGATE' })))).toMatchObject({
      message: 'Task definition does not support launch_type FARGATE.',
    });
  });
});
