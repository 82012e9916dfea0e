import {
  ListServiceDeploymentsCommand,
  CreateClusterCommand,
  CreateServiceCommand,
  CreateTaskSetCommand,
  DeleteServiceCommand,
  DeleteTaskSetCommand,
  DescribeServicesCommand,
  DescribeTaskSetsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  UpdateServicePrimaryTaskSetCommand,
  UpdateTaskSetCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFixture, TEST_ACCOUNT, TEST_REGION, type ApiFixture } from '../../testing/api-server.js';
import { failure } from '../../testing/failure.js';

/** The task set API and the EXTERNAL / CODE_DEPLOY controllers through the SDK (no agents: the controller's work is tested elsewhere). */
let api: ApiFixture;
const cluster = 'ts-api';
const arn = (rest: string) => `arn:aws:ecs:${TEST_REGION}:${TEST_ACCOUNT}:${rest}`;

beforeAll(async () => {
  api = await startApiFixture();
  await api.ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  for (const memory of [64, 96]) {
    await api.ecs.send(new RegisterTaskDefinitionCommand({ family: 'web', containerDefinitions: [{ name: 'web', image: 'busybox', memory }] }));
  }
});
afterAll(async () => api.stop());

const external = (serviceName: string, desiredCount = 4) =>
  api.ecs.send(new CreateServiceCommand({ cluster, serviceName, desiredCount, deploymentController: { type: 'EXTERNAL' } }));
const createSet = (service: string, extra: Record<string, unknown> = {}) =>
  api.ecs.send(new CreateTaskSetCommand({ cluster, service, taskDefinition: 'web:1', ...extra }));

describe('CreateService with other deployment controllers', () => {
  it('EXTERNAL: no deployments and no task sets yet; the service has no task definition of its own', async () => {
    const { service } = await external('ext');
    expect(service).toMatchObject({ deploymentController: { type: 'EXTERNAL' }, deployments: [], taskSets: [], desiredCount: 4, status: 'ACTIVE' });
    expect(service!.taskDefinition).toBeUndefined();
    // Task sets, not service deployments, are how such a service deploys.
    const { serviceDeployments } = await api.ecs.send(new ListServiceDeploymentsCommand({ cluster, service: 'ext' }));
    expect(serviceDeployments).toEqual([]);
  });

  it('CODE_DEPLOY: recorded as such, with ECS\'s first task set PRIMARY from the service\'s task definition', async () => {
    const { service } = await api.ecs.send(
      new CreateServiceCommand({ cluster, serviceName: 'cd', taskDefinition: 'web:1', desiredCount: 3, deploymentController: { type: 'CODE_DEPLOY' } }),
    );
    expect(service!.deploymentController).toEqual({ type: 'CODE_DEPLOY' });
    expect(service!.deployments).toEqual([]);
    expect(service!.taskSets).toHaveLength(1);
    expect(service!.taskSets![0]).toMatchObject({ status: 'PRIMARY', taskDefinition: arn('task-definition/web:1'), computedDesiredCount: 3, scale: { value: 100, unit: 'PERCENT' } });
    const refused = await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'cd', taskDefinition: 'web:2' })));
    expect(refused).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('CODE_DEPLOY') });
    expect(await failure(createSet('cd'))).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('EXTERNAL') });
  });

  it('refuses DAEMON with a task-set controller, and what only a task set can change', async () => {
    const daemon = await failure(
      api.ecs.send(new CreateServiceCommand({ cluster, serviceName: 'd', schedulingStrategy: 'DAEMON', deploymentController: { type: 'EXTERNAL' } })),
    );
    expect(daemon).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('schedulingStrategy') });
    await external('ext-upd');
    const td = await failure(api.ecs.send(new UpdateServiceCommand({ cluster, service: 'ext-upd', taskDefinition: 'web:2' })));
    expect(td).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('taskDefinition') });
  });
});

describe('task sets', () => {
  it('CreateTaskSet records what it is given, as ECS stores it, and computes the desired count', async () => {
    await external('sets', 5);
    const { taskSet } = await createSet('sets', {
      externalId: 'deploy-1',
      scale: { value: 30, unit: 'PERCENT' },
      loadBalancers: [{ targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/abc', containerName: 'web', containerPort: 80 }],
      serviceRegistries: [{ registryArn: 'arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1' }],
      tags: [{ key: 'color', value: 'blue' }],
    });
    expect(taskSet!.id).toMatch(/^ecs-svc\/\d{19}$/);
    expect(taskSet).toMatchObject({
      taskSetArn: arn(`task-set/${cluster}/sets/${taskSet!.id}`),
      serviceArn: arn(`service/${cluster}/sets`),
      clusterArn: arn(`cluster/${cluster}`),
      externalId: 'deploy-1',
      status: 'ACTIVE',
      taskDefinition: arn('task-definition/web:1'),
      computedDesiredCount: 2,
      runningCount: 0,
      pendingCount: 0,
      launchType: 'EC2',
      scale: { value: 30, unit: 'PERCENT' },
      stabilityStatus: 'STABILIZING',
      loadBalancers: [{ containerName: 'web', containerPort: 80 }],
      serviceRegistries: [{ registryArn: 'arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1' }],
      tags: [{ key: 'color', value: 'blue' }],
    });
    const { taskSets, failures } = await api.ecs.send(
      new DescribeTaskSetsCommand({ cluster, service: 'sets', taskSets: [taskSet!.taskSetArn!, 'ecs-svc/1234567890123456789'] }),
    );
    expect(taskSets).toHaveLength(1);
    expect(taskSets![0]!.tags).toBeUndefined();
    expect(failures).toEqual([{ arn: arn(`task-set/${cluster}/sets/ecs-svc/1234567890123456789`), reason: 'MISSING' }]);
    const tagged = await api.ecs.send(new DescribeTaskSetsCommand({ cluster, service: 'sets', taskSets: [taskSet!.id!], include: ['TAGS'] }));
    expect(tagged.taskSets![0]!.tags).toEqual([{ key: 'color', value: 'blue' }]);
    // A capacity-provider strategy is kept instead of a launch type; it is checked as the cluster has its providers.
    expect(await failure(createSet('sets', { capacityProviderStrategy: [{ capacityProvider: 'spot', weight: 1 }] }))).toMatchObject({
      name: 'InvalidParameterException',
      message: expect.stringContaining('not associated with the cluster'),
    });
    await api.ecs.send(
      new RegisterTaskDefinitionCommand({ family: 'fgset', requiresCompatibilities: ['FARGATE'], networkMode: 'awsvpc', cpu: '256', memory: '512', containerDefinitions: [{ name: 'web', image: 'busybox' }] }),
    );
    const cp = await createSet('sets', {
      taskDefinition: 'fgset',
      capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
    });
    expect(cp.taskSet!.capacityProviderStrategy).toEqual([{ capacityProvider: 'FARGATE_SPOT', base: 0, weight: 1 }]);
    expect(cp.taskSet!.launchType).toBeUndefined();
  });

  it('is idempotent with a clientToken', async () => {
    await external('tok', 2);
    const first = await createSet('tok', { clientToken: 'abc' });
    const again = await createSet('tok', { clientToken: 'abc' });
    expect(again.taskSet!.id).toBe(first.taskSet!.id);
    const { services } = await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['tok'] }));
    expect(services![0]!.taskSets).toHaveLength(1);
  });

  it('UpdateTaskSet rescales; UpdateService desiredCount recomputes every set', async () => {
    await external('scale', 10);
    const { taskSet } = await createSet('scale');
    const { taskSet: updated } = await api.ecs.send(new UpdateTaskSetCommand({ cluster, service: 'scale', taskSet: taskSet!.id!, scale: { value: 25, unit: 'PERCENT' } }));
    expect(updated).toMatchObject({ computedDesiredCount: 3, scale: { value: 25, unit: 'PERCENT' } });
    await api.ecs.send(new UpdateServiceCommand({ cluster, service: 'scale', desiredCount: 2 }));
    const { taskSets } = await api.ecs.send(new DescribeTaskSetsCommand({ cluster, service: 'scale', taskSets: [taskSet!.id!] }));
    expect(taskSets![0]!.computedDesiredCount).toBe(1);
  });

  it('UpdateServicePrimaryTaskSet swaps the primary; the service shows the primary set\'s task definition', async () => {
    await external('swap', 2);
    const blue = (await createSet('swap')).taskSet!;
    const green = (await createSet('swap', { taskDefinition: 'web:2' })).taskSet!;
    await api.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster, service: 'swap', primaryTaskSet: blue.taskSetArn! }));
    const { taskSet } = await api.ecs.send(new UpdateServicePrimaryTaskSetCommand({ cluster, service: 'swap', primaryTaskSet: green.id! }));
    expect(taskSet!.status).toBe('PRIMARY');
    const { services } = await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['swap'] }));
    expect(services![0]!.taskDefinition).toBe(arn('task-definition/web:2'));
    expect(Object.fromEntries(services![0]!.taskSets!.map((s) => [s.id, s.status]))).toEqual({ [blue.id!]: 'ACTIVE', [green.id!]: 'PRIMARY' });
  });

  it('DeleteTaskSet: refused while scaled above 0 unless forced; then DRAINING', async () => {
    await external('del', 2);
    const { taskSet } = await createSet('del');
    const refused = await failure(api.ecs.send(new DeleteTaskSetCommand({ cluster, service: 'del', taskSet: taskSet!.id! })));
    expect(refused).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    const { taskSet: deleted } = await api.ecs.send(new DeleteTaskSetCommand({ cluster, service: 'del', taskSet: taskSet!.id!, force: true }));
    expect(deleted).toMatchObject({ status: 'DRAINING', computedDesiredCount: 0 });
  });

  it('answers with ECS\'s errors for unknown services and task sets and bad input, changing nothing', async () => {
    await external('errs', 1);
    expect(await failure(createSet('nope'))).toMatchObject({ name: 'ServiceNotFoundException' });
    expect(await failure(api.ecs.send(new UpdateTaskSetCommand({ cluster, service: 'errs', taskSet: 'ecs-svc/1', scale: { value: 1, unit: 'PERCENT' } })))).toMatchObject({
      name: 'TaskSetNotFoundException',
      status: 400,
    });
    expect(await failure(createSet('errs', { scale: { value: 101, unit: 'PERCENT' } }))).toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('scale.value') });
    expect(await failure(createSet('errs', { launchType: 'EC2', capacityProviderStrategy: [{ capacityProvider: 'x' }] }))).toMatchObject({ name: 'InvalidParameterException' });
    expect(await failure(createSet('errs', { taskDefinition: 'missing:1' }))).toMatchObject({ name: 'ClientException' });
    const { services } = await api.ecs.send(new DescribeServicesCommand({ cluster, services: ['errs'] }));
    expect(services![0]!.taskSets).toEqual([]);
    // As ECS (aws/aws-cli#5380): DescribeTaskSets names the task sets to describe; none is refused, before any lookup.
    for (const input of [{ service: 'errs' }, { service: 'errs', taskSets: [] }, { service: 'no-such-service', taskSets: [] }])
      expect(await failure(api.ecs.send(new DescribeTaskSetsCommand({ cluster, ...input })))).toEqual({
        name: 'InvalidParameterException',
        message: 'TaskSets cannot be empty.',
        status: 400,
      });
    await api.ecs.send(new DeleteServiceCommand({ cluster, service: 'errs', force: true }));
    expect(await failure(createSet('errs'))).toMatchObject({ name: 'ServiceNotActiveException' });
  });
});
